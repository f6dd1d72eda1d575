"""The wire format of one instruction slot: 8 bytes, no meaning attached.

::

    byte 0     opcode
    byte 1     registers: dst and src, one nibble each
    bytes 2-3  off, signed 16-bit
    bytes 4-7  imm, signed 32-bit

The register byte is a pair of C bit-fields (``dst_reg:4, src_reg:4``), so
its layout follows the byte order of the object: little-endian objects keep
``dst`` in the low nibble, big-endian ones (``-target bpfeb``) in the high
nibble. ``off`` and ``imm`` are in the object's byte order too.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

SLOT_SIZE = 8
"""Bytes per instruction slot; an ``ld_imm64`` takes two."""

ByteOrder = Literal["little", "big"]


def _format(byteorder: ByteOrder) -> struct.Struct:
    return struct.Struct("<BBhi" if byteorder == "little" else ">BBhi")


@dataclass(frozen=True, slots=True)
class Slot:
    """One 8-byte slot, its fields read but not interpreted."""

    code: int
    dst: int
    src: int
    off: int
    imm: int


def unpack_slot(data: bytes, pos: int, byteorder: ByteOrder) -> Slot:
    """The slot at byte ``pos`` of ``data`` (the caller checks that 8 bytes are there)."""
    code, regs, off, imm = _format(byteorder).unpack_from(data, pos)
    if byteorder == "little":
        return Slot(code, regs & 0x0F, regs >> 4, off, imm)
    return Slot(code, regs >> 4, regs & 0x0F, off, imm)


def pack_slot(slot: Slot, byteorder: ByteOrder) -> bytes:
    """The 8 bytes of ``slot``; fields out of range raise ``ValueError``."""
    for name, value, bits in (("dst", slot.dst, 4), ("src", slot.src, 4), ("code", slot.code, 8)):
        if not 0 <= value < 1 << bits:
            raise ValueError(f"{name} {value} does not fit in {bits} bits")
    regs = slot.dst | slot.src << 4 if byteorder == "little" else slot.dst << 4 | slot.src
    try:
        return _format(byteorder).pack(slot.code, regs, slot.off, slot.imm)
    except struct.error as exc:
        raise ValueError(str(exc)) from None
