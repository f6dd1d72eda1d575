"""Map views: a map (or a data section) with its value record laid out and drawn."""

from __future__ import annotations

import functools
from typing import Any

from kptrdoc.handler import svg
from kptrdoc.handler.model import FieldRow, MapView


@functools.lru_cache(maxsize=1)
def _map_flag_bits() -> tuple[tuple[str, int], ...]:
    """The kernel's map flags (the enum holding ``BPF_F_NO_PREALLOC``), from its BTF."""
    from kptrdoc.objects.kernel_enums import enum_holding

    flags = enum_holding("BPF_F_NO_PREALLOC")
    return tuple((name, bit) for name, bit in flags.items() if name.startswith("BPF_F_"))


def flag_names(flags: int) -> list[str]:
    """``BPF_F_*`` names of the bits of ``flags`` (a bit the kernel does not name: as hex)."""
    names, left = [], flags
    for name, bit in _map_flag_bits():
        if bit and flags & bit == bit:
            names.append(name)
            left &= ~bit
    if left:
        names.append(hex(left))
    return names


def _holes(rows: list[FieldRow], size: int) -> list[tuple[int, int]]:
    holes, cursor = [], 0
    for row in sorted(rows, key=lambda r: r.offset):
        if row.offset > cursor:
            holes.append((cursor, row.offset - cursor))
        cursor = max(cursor, row.offset + row.size)
    if size > cursor:
        holes.append((cursor, size - cursor))
    return holes


def _record_holes(layout: Any) -> list[tuple[int, int]]:
    """Holes between members and the padding after the last one, as (offset, size)."""
    holes = [(h.offset, h.size) for h in layout.holes]
    if layout.padding:
        holes.append((layout.size - layout.padding, layout.padding))
    return holes


def _field_rows(layout: Any) -> list[FieldRow]:
    specials = {s.path: s.kind for s in getattr(layout, "special", ())}
    rows = []
    for f in layout.fields:
        rows.append(
            FieldRow(
                offset=f.offset,
                size=f.size,
                name=f.name,
                type=f.type,
                special=f.special or specials.get(f.name),
                bitfield=f.bitfield,
            )
        )
    return rows


def map_view(m: Any, sample: str, uid: str) -> MapView:
    value = m.value
    fields = _field_rows(value) if value is not None and value.is_record else []
    size = value.size if value is not None else m.value_size
    view = MapView(
        name=m.name,
        type=m.type,
        key_size=m.key_size,
        value_size=m.value_size,
        max_entries=m.max_entries,
        flags=m.flags,
        key_type=m.key.type if m.key is not None else "",
        value_type=value.type if value is not None else "",
        pinning=m.pinning,
        flag_names=flag_names(m.flags),
        fields=fields,
        holes=_record_holes(value) if fields else [],
        sample=sample,
    )
    if fields:
        diagram = [svg.DiagramField(f.offset, f.size, f.name, f.special) for f in fields]
        title = f"{view.value_type or m.name}: {size} bytes"
        view.svg = svg.byte_diagram(diagram, size, title=title, uid=uid)
    return view


def globals_view(section: Any, sample: str, uid: str) -> MapView | None:
    """A data section libbpf turns into an internal array map, its variables as the record."""
    if not section.map_name or not section.variables or section.value_size is None:
        return None
    rows = []
    for var in section.variables:
        special = None
        layout = var.layout
        if layout is not None:
            special = next((s.kind for s in layout.special if s.path in ("", var.name)), None)
        rows.append(FieldRow(var.offset, var.size, var.name, var.type, special))
    view = MapView(
        name=section.name,
        type="BPF_MAP_TYPE_ARRAY",
        key_size=4,
        value_size=section.value_size,
        max_entries=1,
        flags=section.flags,
        value_type=section.name,
        fields=rows,
        holes=_holes(rows, section.value_size),
        flag_names=flag_names(section.flags),
        sample=sample,
        kind="global",
    )
    diagram = [svg.DiagramField(f.offset, f.size, f.name, f.special) for f in rows]
    view.svg = svg.byte_diagram(diagram, section.value_size, title=section.name, uid=uid)
    return view
