"""Record layout: where every member of a struct/union lives, with holes and padding.

The figures follow ``pahole``'s conventions so the two can be compared:
a bitfield is placed in a storage unit the size of its declared type
(``offset`` is the unit's byte offset, ``bit_offset`` the bit within it), a
hole is the gap between the end of one member's storage and the start of the
next, ``padding`` is what is left after the last member's storage, and a
record is inferred ``packed`` when a member sits below its natural alignment
or the size is not a multiple of it.

The model is generic on purpose: the object model marks kernel "special
fields" (kptrs, spin locks, timers ...) on top of these fields.
"""

from __future__ import annotations

import contextlib
import itertools
import weakref
from dataclasses import dataclass, field

from kptrdoc.btf.cformat import CRenderer
from kptrdoc.btf.errors import BTFError
from kptrdoc.btf.spec import Spec
from kptrdoc.btf.types import Int, Member, Struct, Union


@dataclass(frozen=True, slots=True)
class LayoutField:
    name: str  # "" for an anonymous struct/union member
    offset: int  # byte offset (of the storage unit, for a bitfield)
    size: int  # bytes of the member's type (of the storage unit, for a bitfield)
    bit_offset: int  # bit within the storage unit; 0 for an ordinary member
    bit_size: int  # bitfield width; 0 for an ordinary member
    type_id: int
    type_text: str  # C spelling of the type, e.g. "struct bpf_cpumask *"
    bit_position: int  # absolute bit offset from the start of the record
    hole_after: int = 0  # bytes of hole between this member's storage and the next
    bit_hole_after: int = 0  # bits of hole after this bitfield inside its storage unit

    @property
    def is_bitfield(self) -> bool:
        return self.bit_size > 0

    @property
    def end(self) -> int:
        """Byte just past this member's storage."""
        return self.offset + self.size


@dataclass(frozen=True)
class RecordLayout:
    type_id: int
    name: str
    kind: str  # "struct" or "union"
    size: int
    alignment: int  # natural alignment (1 when packed)
    packed: bool
    fields: tuple[LayoutField, ...] = field(default_factory=tuple)
    padding: int = 0  # bytes after the last member's storage
    bit_padding: int = 0  # unused bits at the end of the last bitfield's unit

    @property
    def holes(self) -> list[tuple[int, int]]:
        """(byte offset, bytes) of every hole between members."""
        return [(f.end, f.hole_after) for f in self.fields if f.hole_after > 0]

    @property
    def sum_holes(self) -> int:
        return sum(f.hole_after for f in self.fields)

    @property
    def sum_members(self) -> int:
        """Bytes of non-bitfield members (as pahole's "sum members")."""
        return sum(f.size for f in self.fields if not f.is_bitfield)


_RENDERERS: weakref.WeakKeyDictionary[Spec, CRenderer] = weakref.WeakKeyDictionary()


def _renderer(spec: Spec) -> CRenderer:
    """One renderer per spec: it picks C names over the whole spec once."""
    found = _RENDERERS.get(spec)
    if found is None:
        found = CRenderer(spec)
        _RENDERERS[spec] = found
    return found


def _bit_width(spec: Spec, record: Struct | Union, m: Member) -> int:
    if record.kind_flag:
        return m.bitfield_size
    t = spec.type(spec.strip(m.type))
    if isinstance(t, Int) and t.bits != 8 * t.size:
        return t.bits
    return 0


def _type_text(renderer: CRenderer, spec: Spec, type_id: int) -> str:
    t = spec.type(spec.strip(type_id))
    if isinstance(t, (Struct, Union)) and not t.name:
        return ("union" if isinstance(t, Union) else "struct") + " {...}"
    return renderer.declaration(type_id, "")


def _storage_ends(raw: list[dict]) -> list[int]:
    """Per member, the byte where its storage ends, as pahole counts it.

    An ordinary member ends at offset + size. A run of bitfields shares the
    storage unit of the run's first bitfield (widened by wider ones joining
    it): a run starts at a bitfield that begins at or past the current unit's
    end, or after an ordinary member.
    """
    ends = []
    unit_end = 0
    for f in raw:
        if not f["bit_size"]:
            unit_end = 0
            ends.append(f["offset"] + f["size"])
            continue
        if unit_end == 0 or f["bit_position"] >= 8 * unit_end:
            unit_end = f["offset"] + f["size"]
        else:  # a wider bitfield joining the run widens its storage
            unit_end = max(unit_end, f["offset"] + f["size"])
        ends.append(unit_end)
    return ends


def record_layout(spec: Spec, type_id: int) -> RecordLayout:
    """The layout of the struct or union ``type_id`` (typedefs and qualifiers skipped)."""
    rid = spec.strip(type_id)
    record = spec.type(rid)
    if not isinstance(record, (Struct, Union)):
        what = "void" if record is None else record.kind_name
        raise BTFError(f"type {type_id}: expected a struct or union, found {what}")
    renderer = _renderer(spec)
    raw: list[dict] = []
    natural = 1
    for m in record.members:
        bits = _bit_width(spec, record, m)
        try:
            size = spec.size_of(m.type)
        except BTFError:
            size = 0  # e.g. a flexible array of an incomplete type
        with contextlib.suppress(BTFError):  # e.g. an array of a FWD
            natural = max(natural, spec.align_of(m.type))
        if bits and size:
            unit_bits = 8 * size
            offset = (m.bit_offset // unit_bits) * size
            bit_in_unit = m.bit_offset - 8 * offset
        else:
            offset = m.bit_offset // 8
            bit_in_unit = m.bit_offset % 8 if bits else 0
        raw.append(
            dict(
                name=m.name,
                offset=offset,
                size=size,
                bit_offset=bit_in_unit,
                bit_size=bits,
                type_id=m.type,
                type_text=_type_text(renderer, spec, m.type),
                bit_position=m.bit_offset,
            )
        )
    alignment = spec.align_of(rid)
    packed = alignment == 1 and natural > 1
    padding = bit_padding = 0
    if isinstance(record, Struct):
        ends = _storage_ends(raw)
        for (cur, nxt), unit_end in zip(itertools.pairwise(raw), ends, strict=False):
            if nxt["bit_position"] < cur["bit_position"]:
                continue
            cur_bit_end = cur["bit_position"] + (cur["bit_size"] or 8 * cur["size"])
            if nxt["bit_position"] >= 8 * unit_end:
                if cur["bit_size"]:
                    cur["bit_hole_after"] = 8 * unit_end - cur_bit_end
                cur["hole_after"] = max(0, nxt["offset"] - unit_end)
            elif nxt["bit_position"] > cur_bit_end:
                cur["bit_hole_after"] = nxt["bit_position"] - cur_bit_end
        if raw:
            # pahole: the last member in declaration order; a run of bitfields
            # shares the storage unit of the run's first bitfield
            last = raw[-1]
            unit_end = last["offset"] + last["size"]
            if last["bit_size"]:
                unit_end = min(ends[-1], record.size)
                bit_padding = 8 * unit_end - (last["bit_position"] + last["bit_size"])
            padding = max(0, record.size - unit_end)
        else:
            padding = record.size
    else:
        widest = max((f["size"] for f in raw), default=0)
        padding = max(0, record.size - widest)
    return RecordLayout(
        type_id=rid,
        name=record.name,
        kind="union" if isinstance(record, Union) else "struct",
        size=record.size,
        alignment=alignment,
        packed=packed,
        fields=tuple(LayoutField(**f) for f in raw),
        padding=padding,
        bit_padding=bit_padding,
    )
