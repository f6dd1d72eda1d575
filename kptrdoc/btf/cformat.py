"""C declarations of BTF types (in progress)."""

from __future__ import annotations

from dataclasses import dataclass

from kptrdoc.btf.errors import BTFError
from kptrdoc.btf.spec import Spec


@dataclass(frozen=True)
class CRenderOptions:
    tag_macros: bool = False


def render_c(
    spec: Spec, type_ids: list[int] | None = None, options: CRenderOptions | None = None
) -> str:
    raise BTFError("--format c is not implemented yet")
