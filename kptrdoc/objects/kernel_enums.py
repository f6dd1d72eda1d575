"""Names of the kernel's ``enum bpf_map_type`` values, read from the running kernel.

The names come from ``vmlinux.h`` that the toolchain generates from the
kernel's own BTF, so a map type this kernel knows is named as this kernel
names it. Without a toolchain the number is shown instead.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kptrdoc.errors import KptrdocError

_ENUM = re.compile(r"enum bpf_map_type \{(.*?)\};", re.S)
_VALUE = re.compile(r"\b(BPF_MAP_TYPE_\w+)\s*=\s*(\d+)")


@lru_cache(maxsize=1)
def map_type_names() -> dict[int, str]:
    """``{2: "BPF_MAP_TYPE_ARRAY", ...}``; empty when ``vmlinux.h`` is unavailable."""
    from kptrdoc.toolchain import vmlinux_h

    try:
        text = vmlinux_h().read_text(errors="replace")
    except (KptrdocError, OSError):
        return {}
    found = _ENUM.search(text)
    if found is None:
        return {}
    names: dict[int, str] = {}
    for name, value in _VALUE.findall(found.group(1)):
        number = int(value)
        if name.startswith("__MAX"):
            continue
        # Renamed values keep a *_DEPRECATED alias at the same number: prefer the live name.
        if number not in names or names[number].endswith("_DEPRECATED"):
            names[number] = name
    return names


def map_type_name(number: int) -> str:
    return map_type_names().get(number, f"BPF_MAP_TYPE_{number}")


def map_type_number(name: str) -> int:
    for number, known in map_type_names().items():
        if known == name:
            return number
    raise KeyError(name)


def is_map_in_map(number: int) -> bool:
    return map_type_name(number) in ("BPF_MAP_TYPE_ARRAY_OF_MAPS", "BPF_MAP_TYPE_HASH_OF_MAPS")
