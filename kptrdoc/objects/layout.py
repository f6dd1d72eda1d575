"""Record layouts as pahole shows them: member offsets, sizes, holes and padding."""

from __future__ import annotations

from kptrdoc.btf.types import Struct, Union
from kptrdoc.objects.cdecl import declaration, type_name
from kptrdoc.objects.model import Hole, Layout, LayoutField, SpecialField
from kptrdoc.objects.special import record_special_fields


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
        return Layout(type_name(spec, type_id), type_id, size, align, False, special=special)

    fields: list[LayoutField] = []
    holes: list[Hole] = []
    end_bits = 0
    prev: str | None = None
    for m in record.members:
        m_size = spec.size_of(m.type)
        if m.bitfield_size:
            unit = max(m_size, 1) * 8
            offset = (m.bit_offset // unit) * m_size
            bit_size = m.bitfield_size
        else:
            offset = m.bit_offset // 8
            bit_size = m_size * 8
        own = [f for f in special if f.path == m.name or f.path.startswith(m.name + "[")]
        fields.append(
            LayoutField(
                name=m.name,
                offset=offset,
                size=m_size,
                bit_offset=m.bit_offset,
                bit_size=bit_size,
                bitfield=bool(m.bitfield_size),
                type=type_name(spec, m.type),
                type_id=m.type,
                decl=declaration(spec, m.type, m.name),
                special=own[0].kind if own else None,
            )
        )
        if isinstance(record, Struct):
            gap = m.bit_offset // 8 - (end_bits + 7) // 8
            if prev is not None and gap > 0:
                holes.append(Hole(prev, (end_bits + 7) // 8, gap))
            end_bits = max(end_bits, m.bit_offset + bit_size)
        else:
            end_bits = max(end_bits, bit_size)
        prev = m.name
    padding = max(0, record.size - (end_bits + 7) // 8) if record.members else 0
    return Layout(
        type_name(spec, type_id),
        type_id,
        size,
        align,
        True,
        tuple(fields),
        tuple(holes),
        padding,
        special,
    )
