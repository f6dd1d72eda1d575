"""Names of kernel enum values (``enum bpf_map_type`` ...), read from the kernel's BTF.

The BTF is the one the samples' ``vmlinux.h`` is made from
(:func:`kptrdoc.toolchain.vmlinux_btf_path`), read with kptrdoc's own BTF
reader, so a map type is named as that kernel names it. Without it the
number is shown instead.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from kptrdoc.errors import KptrdocError

if TYPE_CHECKING:
    from kptrdoc.btf.strings import StringTable
    from kptrdoc.btf.wireview import WireView


@lru_cache(maxsize=1)
def _kernel_btf() -> tuple[WireView, StringTable] | None:
    from kptrdoc import toolchain
    from kptrdoc.btf.load import load_records
    from kptrdoc.btf.wireview import WireView

    try:
        records = load_records(toolchain.vmlinux_btf_path())
    except (KptrdocError, OSError):
        return None
    return WireView(records), records.strings


@lru_cache(maxsize=8)
def enum_values(enum: str) -> dict[str, int]:
    """``{"BPF_MAP_TYPE_ARRAY": 2, ...}`` for ``enum bpf_map_type``; empty if unknown."""
    from kptrdoc.btf.wireview import ENUM, ENUM64

    found = _kernel_btf()
    if found is None:
        return {}
    view, strings = found
    ids = view.named(set(strings.offsets_of(enum)), (ENUM, ENUM64))
    return dict(view.enumerators(ids[0])) if ids else {}


@lru_cache(maxsize=8)
def enum_holding(value: str) -> dict[str, int]:
    """All values of the (often anonymous) enum that has an enumerator ``value``, such as
    the map flags with ``BPF_F_NO_PREALLOC``; empty if unknown."""
    found = _kernel_btf()
    if found is None:
        return {}
    view, strings = found
    ids = view.enums_with(set(strings.offsets_of(value)))
    return dict(view.enumerators(ids[0])) if ids else {}


@lru_cache(maxsize=1)
def map_type_names() -> dict[int, str]:
    """``{2: "BPF_MAP_TYPE_ARRAY", ...}``; empty when the kernel BTF is unavailable."""
    names: dict[int, str] = {}
    for name, number in enum_values("bpf_map_type").items():
        if name.startswith("__MAX"):
            continue
        # Renamed values keep a *_DEPRECATED alias at the same number: prefer the live name.
        if number not in names or names[number].endswith("_DEPRECATED"):
            names[number] = name
    return names


def map_type_name(number: int) -> str:
    return map_type_names().get(number, f"BPF_MAP_TYPE_{number}")
