"""Layouts of map keys, values and globals: the BTF reader's record layout
(pahole's conventions) plus the kernel special fields and C declarations."""

from __future__ import annotations

from kptrdoc.btf.cformat import BRIEF, c_declaration, c_type_name
from kptrdoc.btf.layout import record_layout
from kptrdoc.btf.types import Struct, Union
from kptrdoc.objects.model import Hole, Layout, LayoutField, SpecialField
from kptrdoc.objects.special import record_special_fields


def _own_special(special: tuple[SpecialField, ...], name: str) -> str | None:
    """The special kind of member ``name`` itself (or of its array elements)."""
    if not name:
        return None
    for f in special:
        if f.path == name or f.path.startswith(name + "["):
            return f.kind
    return None


def layout_of(spec, type_id: int, special: tuple[SpecialField, ...] | None = None) -> Layout:
    """The layout of ``type_id`` (typedefs and qualifiers looked through for records).

    ``special`` overrides the kernel special fields (used for global variables,
    whose fields the kernel finds through the section, not the type).
    """
    rid = spec.strip(type_id)
    record = spec.type(rid)
    size = spec.size_of(type_id)
    align = spec.align_of(type_id)
    if special is None:
        special = record_special_fields(spec, rid)
    if not isinstance(record, (Struct, Union)):
        return Layout(c_type_name(spec, type_id), type_id, size, align, False, special=special)
    rec = record_layout(spec, rid)
    fields = tuple(
        LayoutField(
            name=f.name,
            offset=f.offset,
            size=f.size,
            bit_offset=f.bit_position,
            bit_size=f.bit_size or 8 * f.size,
            bitfield=f.is_bitfield,
            type=c_type_name(spec, f.type_id),
            type_id=f.type_id,
            decl=c_declaration(spec, f.type_id, f.name, BRIEF),
            special=_own_special(special, f.name),
        )
        for f in rec.fields
    )
    holes = tuple(Hole(f.name, f.end, f.hole_after) for f in rec.fields if f.hole_after)
    return Layout(
        c_type_name(spec, type_id),
        type_id,
        size,
        align,
        True,
        fields,
        holes,
        rec.padding,
        special,
        rec.packed,
    )
