"""Names of kernel enum values (``enum bpf_map_type`` ...), read from the running kernel.

The names come from ``vmlinux.h`` that the toolchain generates from the
kernel's own BTF, so a map type this kernel knows is named as this kernel
names it. Without a toolchain the number is shown instead.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kptrdoc.errors import KptrdocError

_VALUE = re.compile(r"\b([A-Z_][A-Z0-9_]*)\s*=\s*(-?\d+)")


@lru_cache(maxsize=1)
def _vmlinux_text() -> str:
    from kptrdoc.toolchain import vmlinux_h

    try:
        return vmlinux_h().read_text(errors="replace")
    except (KptrdocError, OSError):
        return ""


@lru_cache(maxsize=8)
def enum_values(enum: str) -> dict[str, int]:
    """``{"BPF_MAP_TYPE_ARRAY": 2, ...}`` for ``enum bpf_map_type``; empty if unknown."""
    found = re.search(r"enum " + re.escape(enum) + r" \{(.*?)\};", _vmlinux_text(), re.S)
    if found is None:
        return {}
    return {name: int(value) for name, value in _VALUE.findall(found.group(1))}


@lru_cache(maxsize=1)
def map_type_names() -> dict[int, str]:
    """``{2: "BPF_MAP_TYPE_ARRAY", ...}``; empty when ``vmlinux.h`` is unavailable."""
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
