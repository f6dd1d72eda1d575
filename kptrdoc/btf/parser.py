"""From bytes to a :class:`~kptrdoc.btf.spec.Spec`: one pass over the type section.

The pass only checks each record's bounds and notes where it starts and its
kind; the frozen dataclasses of :mod:`kptrdoc.btf.types` are built on first
use (see :mod:`kptrdoc.btf.decode`). That keeps opening ``vmlinux`` (about
150 000 types) cheap, and memory bounded by the input: nothing is allocated
for a record before its length has been checked against the bytes left.
"""

from __future__ import annotations

import struct
from array import array
from typing import TYPE_CHECKING

from kptrdoc.btf import wire
from kptrdoc.btf.errors import BTFError
from kptrdoc.btf.records import Records, host_words
from kptrdoc.btf.strings import StringTable

if TYPE_CHECKING:
    from kptrdoc.btf.spec import Spec


def parse_btf(data: bytes | bytearray | memoryview, base: Spec | None = None) -> Spec:
    """Parse a ``.BTF`` blob (an object's section or a raw file such as vmlinux).

    ``base`` makes it split BTF: type ids continue after the base's and
    string offsets after the base's string section.
    """
    # imported here: read_records (all the raw dump needs) works without the type model
    from kptrdoc.btf.spec import Spec

    records = read_records(data, base)
    return Spec(
        header=records.header,
        layout=records.layout,
        strings=records.strings,
        type_data=records.type_data,
        offsets=records.offsets,
        kinds=records.kinds,
        starts=records._starts,
        words=records._words,
        base=base,
    )


def read_records(data: bytes | bytearray | memoryview, base: Records | None = None) -> Records:
    """Check a ``.BTF`` blob's header and record bounds; no types are decoded.

    ``base`` as for :func:`parse_btf`.
    """
    data = bytes(data)
    header = wire.parse_header(data)
    if base is not None and base.header.byte_order != header.byte_order:
        raise BTFError("split BTF and its base have different byte orders", 0)
    layout = wire.parse_layout(data, header)
    sizes = wire.record_sizes(layout)
    strings = StringTable(
        data[header.str_start : header.str_start + header.str_len],
        base.strings if base is not None else None,
        header.str_start,
    )
    types = data[header.type_start : header.type_start + header.type_len]
    fast = _scan_words(types, header, sizes, len(strings))
    if fast is not None:
        starts, words = fast
        return Records(
            header=header,
            layout=layout,
            strings=strings,
            type_data=types,
            starts=starts,
            words=words,
            base=base,
        )
    offsets, kinds = _scan_types(types, header, sizes, len(strings))
    return Records(
        header=header,
        layout=layout,
        strings=strings,
        type_data=types,
        offsets=offsets,
        kinds=kinds,
        base=base,
    )


def _scan_words(
    types: bytes,
    header: wire.Header,
    sizes: dict[int, tuple[int, int]],
    strings_len: int,
) -> tuple[list[int], array] | None:
    """The record starts of a well-formed type section, found fast; ``None`` when
    anything is off (then :func:`_scan_types` finds and names the fault).

    The loop checks nothing per record: an unknown kind (no size: a ``TypeError``),
    a head past the end (``IndexError``) or a record running past it (the walk
    does not end on the last word) sends the blob to the careful scan, and so does
    a name offset out of range, checked once over all records.
    """
    if len(types) % 4:
        return None
    fixed: list[int | None] = [None] * 128
    elem = [0] * 128
    for kind, (info_size, elem_size) in sizes.items():
        if kind < 128:
            if info_size % 4 or elem_size % 4:
                return None  # records that are not whole words
            fixed[kind] = 3 + info_size // 4
            elem[kind] = elem_size // 4
    words = host_words(types, header.byte_order)
    starts: list[int] = []
    add = starts.append
    end = len(words)
    pos = 0
    try:
        while pos < end:
            add(pos)
            info = words[pos + 1]
            kind = info >> 24 & 0x7F
            pos += fixed[kind] + (info & 0xFFFFFF) * elem[kind]  # type: ignore[operator]
    except (IndexError, TypeError):
        return None
    if pos != end:
        return None
    if starts and max(map(words.__getitem__, starts)) >= strings_len:
        return None
    return starts, words


def _scan_types(
    types: bytes,
    header: wire.Header,
    sizes: dict[int, tuple[int, int]],
    strings_len: int,
) -> tuple[array, bytearray]:
    """Offsets (into ``types``) and kinds of every record, checking bounds."""
    unpack = struct.Struct(header.byte_order + "III").unpack_from
    # per kind (7 bits): bytes before the elements (header included) and per element
    fixed: list[int | None] = [None] * 128
    elem = [0] * 128
    for kind, (info_size, elem_size) in sizes.items():
        if kind >= len(fixed):  # a layout section longer than 7-bit kinds can index
            continue
        fixed[kind] = 12 + info_size
        elem[kind] = elem_size
    offsets = array("I")
    kinds = bytearray()
    add_offset = offsets.append
    add_kind = kinds.append
    end = len(types)
    pos = 0
    try:
        while pos < end:
            name_off, info, _ = unpack(types, pos)
            kind = (info >> 24) & 0x7F
            head_len = fixed[kind]
            if head_len is None:
                raise BTFError(
                    f"expected a known kind (1..{wire.MAX_KNOWN_KIND}) or a layout entry "
                    f"for it, found kind {kind}",
                    header.type_start + pos,
                )
            if name_off >= strings_len:
                raise BTFError(
                    f"expected a name offset below {strings_len}, found {name_off}",
                    header.type_start + pos,
                )
            length = head_len + (info & 0xFFFFFF) * elem[kind]
            if pos + length > end:
                raise BTFError(
                    f"expected {length} bytes for a kind {kind} record with vlen "
                    f"{info & 0xFFFFFF}, only {end - pos} are left",
                    header.type_start + pos,
                )
            add_offset(pos)
            add_kind(kind)
            pos += length
    except struct.error:  # unpack_from found fewer than 12 bytes at pos
        raise BTFError(
            f"expected a 12-byte type record, only {end - pos} bytes are left",
            header.type_start + pos,
        ) from None
    return offsets, kinds
