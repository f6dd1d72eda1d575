"""Helper ids -> names, read from libbpf's ``bpf_helper_defs.h``.

Each helper is declared there as a constant function pointer whose value is
its id::

    static void *(* const bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;
"""

from __future__ import annotations

import re
from pathlib import Path

from kptrdoc.errors import KptrdocError

HELPER_DEFS = "bpf_helper_defs.h"

_DECLARATION = re.compile(r"\(\s*\*\s*const\s+(\w+)\s*\)[^;=]*=\s*\(\s*void\s*\*\s*\)\s*(\d+)\s*;")


class HelperDefsError(KptrdocError):
    """``bpf_helper_defs.h`` is missing or declares no helper."""


def parse_helper_names(text: str) -> dict[int, str]:
    """``{id: name}`` for every helper declared in the text of ``bpf_helper_defs.h``."""
    return {int(m.group(2)): m.group(1) for m in _DECLARATION.finditer(text)}


def read_helper_names(path: str | Path) -> dict[int, str]:
    """``{id: name}`` from a ``bpf_helper_defs.h`` file (or the ``bpf/`` dir holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / HELPER_DEFS
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise HelperDefsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    names = parse_helper_names(text)
    if not names:
        raise HelperDefsError(f"{path}: no helper declarations ('= (void *) N;') found")
    return names


def pinned_helper_names() -> dict[int, str]:
    """The helper names of the pinned libbpf (``toolchain.libbpf().include_dir/bpf``)."""
    from kptrdoc import toolchain

    return read_helper_names(toolchain.libbpf().include_dir / "bpf" / HELPER_DEFS)
