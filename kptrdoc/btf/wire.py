"""The BTF wire format: header, info word, layout section, per-kind record sizes.

Facts only, no type model: this module knows how many bytes each record
takes and where the sections are, for both byte orders and for both header
sizes (the classic 24-byte header and the 32-byte header that adds a layout
section describing the record size of every kind the encoder knew).
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from kptrdoc.btf.errors import BTFError

MAGIC = 0xEB9F
VERSION = 1
HEADER_LEN = 24
"""The classic header: magic, version, flags, hdr_len, type and string sections."""
HEADER_LAYOUT_LEN = 32
"""The header with ``layout_off``/``layout_len`` appended."""

TYPE_HEADER_LEN = 12
"""``name_off``, ``info``, ``size``/``type``: the part every record starts with."""

KIND_SHIFT = 24
KIND_MASK = 0x7F
"""7-bit kind (bits 24..30 of ``info``); older headers documented 5 bits."""
VLEN_MASK = 0xFFFFFF
"""24-bit vlen (bits 0..23 of ``info``); older headers documented 16 bits."""
KIND_FLAG = 1 << 31

LAYOUT_ENTRY_LEN = 4
"""One layout entry: ``u8 info_sz, u8 elem_sz, u16 flags``, indexed by kind."""

# kind -> (bytes after the 12-byte header, bytes per vlen element)
KNOWN_SIZES: dict[int, tuple[int, int]] = {
    1: (4, 0),  # INT: one encoding word
    2: (0, 0),  # PTR
    3: (12, 0),  # ARRAY: type, index_type, nelems
    4: (0, 12),  # STRUCT: members (name_off, type, offset)
    5: (0, 12),  # UNION
    6: (0, 8),  # ENUM: (name_off, val)
    7: (0, 0),  # FWD
    8: (0, 0),  # TYPEDEF
    9: (0, 0),  # VOLATILE
    10: (0, 0),  # CONST
    11: (0, 0),  # RESTRICT
    12: (0, 0),  # FUNC: vlen is the linkage, no elements
    13: (0, 8),  # FUNC_PROTO: params (name_off, type)
    14: (4, 0),  # VAR: linkage
    15: (0, 12),  # DATASEC: (type, offset, size)
    16: (0, 0),  # FLOAT
    17: (4, 0),  # DECL_TAG: component_idx
    18: (0, 0),  # TYPE_TAG
    19: (0, 12),  # ENUM64: (name_off, val_lo32, val_hi32)
}
FUNC_KIND = 12
MAX_KNOWN_KIND = 19


def byte_order_of(data: bytes | memoryview) -> str | None:
    """``"<"`` or ``">"`` from the magic at the start of ``data``, else ``None``."""
    if len(data) < 2:
        return None
    head = bytes(data[:2])
    if head == b"\x9f\xeb":
        return "<"
    if head == b"\xeb\x9f":
        return ">"
    return None


class Header(NamedTuple):
    """A parsed ``struct btf_header``; offsets are absolute (from the blob start)."""

    byte_order: str  # "<" little endian, ">" big endian
    version: int
    flags: int
    hdr_len: int
    type_start: int
    type_len: int
    str_start: int
    str_len: int
    layout_start: int
    layout_len: int  # 0 when absent

    @property
    def endian(self) -> str:
        return "little" if self.byte_order == "<" else "big"


def parse_header(data: bytes | memoryview) -> Header:
    """Read and check the header and the bounds of the sections it names."""
    order = byte_order_of(data)
    if order is None:
        if len(data) < 2:
            raise BTFError(f"expected the BTF magic 0x{MAGIC:04x}, got {len(data)} bytes", 0)
        raise BTFError(
            f"expected the BTF magic 0x{MAGIC:04x}, found bytes {bytes(data[:2]).hex()}", 0
        )
    if len(data) < HEADER_LEN:
        raise BTFError(f"expected a {HEADER_LEN}-byte header, the data has {len(data)} bytes", 0)
    _, version, flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from(
        order + "HBBIIIII", data, 0
    )
    if version != VERSION:
        raise BTFError(f"expected BTF version {VERSION}, found {version}", 2)
    if hdr_len < HEADER_LEN:
        raise BTFError(f"expected hdr_len >= {HEADER_LEN}, found {hdr_len}", 4)
    if hdr_len > len(data):
        raise BTFError(f"hdr_len {hdr_len} runs past the end of the data ({len(data)} bytes)", 4)
    layout_off = layout_len = 0
    if hdr_len >= HEADER_LAYOUT_LEN:
        layout_off, layout_len = struct.unpack_from(order + "II", data, HEADER_LEN)
    end = len(data)
    for what, off, length, field_at in (
        ("type", type_off, type_len, 8),
        ("string", str_off, str_len, 16),
        ("layout", layout_off, layout_len, 24),
    ):
        if length and hdr_len + off + length > end:
            raise BTFError(
                f"{what} section [{off}, +{length}) runs past the end of the data "
                f"({end - hdr_len} bytes after the header)",
                field_at,
            )
    if type_off % 4:
        raise BTFError(f"expected a 4-byte aligned type section, type_off is {type_off}", 8)
    if layout_len and (layout_off % 4 or layout_len % LAYOUT_ENTRY_LEN):
        raise BTFError(
            f"expected a 4-byte aligned layout section of 4-byte entries, "
            f"found layout_off {layout_off} layout_len {layout_len}",
            24,
        )
    return Header(
        byte_order=order,
        version=version,
        flags=flags,
        hdr_len=hdr_len,
        type_start=hdr_len + type_off,
        type_len=type_len,
        str_start=hdr_len + str_off,
        str_len=str_len,
        layout_start=hdr_len + layout_off,
        layout_len=layout_len,
    )


class KindLayout(NamedTuple):
    """What the encoder said about one kind: sizes of its fixed part and elements."""

    info_size: int
    elem_size: int
    flags: int


def parse_layout(data: bytes | memoryview, header: Header) -> tuple[KindLayout, ...]:
    """The layout section's entries indexed by kind (empty when the header has none)."""
    if not header.layout_len:
        return ()
    fmt = header.byte_order + "BBH"
    return tuple(
        KindLayout(info, elem, flags)
        for info, elem, flags in struct.iter_unpack(
            fmt, data[header.layout_start : header.layout_start + header.layout_len]
        )
    )


def record_sizes(layout: tuple[KindLayout, ...]) -> dict[int, tuple[int, int]]:
    """Per-kind (info_size, elem_size): the known kinds, plus unknown ones from ``layout``.

    For kinds this reader knows, its own sizes win; a layout entry that
    disagrees with them is an error (the encoder and this reader would read
    the records differently).
    """
    sizes = dict(KNOWN_SIZES)
    for kind, entry in enumerate(layout):
        if kind == 0:
            continue
        known = KNOWN_SIZES.get(kind)
        if known is None:
            sizes[kind] = (entry.info_size, entry.elem_size)
        elif known != (entry.info_size, entry.elem_size) and not (
            kind == FUNC_KIND and entry.info_size == 0
        ):
            raise BTFError(
                f"layout entry for kind {kind} says info_sz={entry.info_size} "
                f"elem_sz={entry.elem_size}, expected {known[0]} and {known[1]}"
            )
    return sizes
