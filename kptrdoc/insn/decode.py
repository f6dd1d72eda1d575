"""Raw section bytes -> :class:`~kptrdoc.insn.model.Instruction` tuples, and back.

What counts as invalid: an opcode, operation, mode or size the instruction
set does not define; a selector field (``off`` of div/mod/mov, ``imm`` of a
byte swap or an atomic, ``src`` of a call, ``ld_imm64`` or ``may_goto``) with
a value it does not define; a register number above 10; and a reserved field
that is not zero where the kernel's verifier refuses the instruction for it
("... uses reserved fields"). Checks that need more than the instruction
itself (jump targets, division by a zero constant, shift widths, writes to
r10) are the verifier's business and are not made here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kptrdoc.insn.model import InsnError, Instruction, Kind
from kptrdoc.insn.opcodes import (
    ADDR_SPACE_CAST_OFF,
    CLASS_MASK,
    FETCH,
    MAX_REGISTER,
    MAY_GOTO_SRC,
    MODE_MASK,
    MOVSX_OFFSETS,
    OP_MASK,
    SIGNED_DIV_OFF,
    SIZE_MASK,
    SOURCE_MASK,
    SWAP_WIDTHS,
    AluOp,
    AtomicOp,
    CallKind,
    Endian,
    InsnClass,
    JumpOp,
    Mode,
    PseudoSrc,
    Size,
    Source,
)
from kptrdoc.insn.wire import SLOT_SIZE, ByteOrder, Slot, pack_slot, unpack_slot

LD_IMM64_CODE = InsnClass.LD | Mode.IMM | Size.DW
"""0x18: the only two-slot opcode."""

_JUMP_SIGNED = (JumpOp.JSGT, JumpOp.JSGE, JumpOp.JSLT, JumpOp.JSLE)
_RMW_OPS = (AtomicOp.ADD, AtomicOp.OR, AtomicOp.AND, AtomicOp.XOR)


def decode(
    data: bytes, byteorder: ByteOrder = "little", base_index: int = 0
) -> tuple[Instruction, ...]:
    """Decode the instructions in ``data`` (a section, or a slice of one).

    ``byteorder`` is the object's (``ElfObject.byte_order``); ``base_index``
    is added to every slot index, for a slice that does not start at slot 0.

    Never raises for what the bytes say: an encoding this decoder does not
    know becomes an instruction with ``valid=False`` and a ``reason``, and
    decoding goes on with the next slot. An invalid instruction always takes
    one slot, so an ``ld_imm64`` whose second slot is missing (the bytes
    end), is not a continuation (its opcode, registers and ``off`` must be
    zero) or whose first slot is bad (unknown ``src``, nonzero ``off``) comes
    back as an invalid one-slot instruction, and the slot after it is decoded
    on its own. The one error is
    :class:`~kptrdoc.insn.model.InsnError`, raised when the length of
    ``data`` is not a multiple of 8; its ``offset`` is where the incomplete
    slot starts.
    """
    if byteorder not in ("little", "big"):
        raise ValueError(f"byteorder must be 'little' or 'big', not {byteorder!r}")
    tail = len(data) % SLOT_SIZE
    if tail:
        start = len(data) - tail
        raise InsnError(
            f"{tail} byte(s) left over: instructions are {SLOT_SIZE}-byte slots, "
            f"and {len(data)} bytes is not a multiple of {SLOT_SIZE}",
            start,
        )
    out: list[Instruction] = []
    pos = 0
    while pos < len(data):
        slot = unpack_slot(data, pos, byteorder)
        index = base_index + pos // SLOT_SIZE
        if slot.code == LD_IMM64_CODE:
            second = (
                unpack_slot(data, pos + SLOT_SIZE, byteorder)
                if pos + 2 * SLOT_SIZE <= len(data)
                else None
            )
            insn = decode_ld_imm64(slot, second, index)
        else:
            insn = decode_slot(slot, index)
        out.append(insn)
        pos += insn.size * SLOT_SIZE
    return tuple(out)


def encode(insns: Iterable[Instruction], byteorder: ByteOrder = "little") -> bytes:
    """The bytes of ``insns``, in ``byteorder``: the inverse of :func:`decode`.

    Only the raw fields are used (``code``, ``dst``, ``src``, ``off``,
    ``imm``, and ``imm64`` for a two-slot ``ld_imm64``), so an invalid
    instruction encodes to the bytes it was decoded from. A field out of
    range raises ``ValueError``.
    """
    parts: list[bytes] = []
    for insn in insns:
        parts.append(pack_slot(Slot(insn.code, insn.dst, insn.src, insn.off, insn.imm), byteorder))
        if insn.size == 2:
            high = insn.next_imm if insn.next_imm is not None else 0
            parts.append(pack_slot(Slot(0, 0, 0, 0, high), byteorder))
    return b"".join(parts)


def _invalid(slot: Slot, index: int, reason: str) -> Instruction:
    return Instruction(
        index=index,
        code=slot.code,
        dst=slot.dst,
        src=slot.src,
        off=slot.off,
        imm=slot.imm,
        insn_class=InsnClass(slot.code & CLASS_MASK),
        kind=Kind.INVALID,
        valid=False,
        reason=reason,
    )


def _valid(slot: Slot, index: int, kind: Kind, **fields: Any) -> Instruction:
    return Instruction(
        index=index,
        code=slot.code,
        dst=slot.dst,
        src=slot.src,
        off=slot.off,
        imm=slot.imm,
        insn_class=InsnClass(slot.code & CLASS_MASK),
        kind=kind,
        **fields,
    )


def _bad_register(slot: Slot) -> str:
    for name, reg in (("dst", slot.dst), ("src", slot.src)):
        if reg > MAX_REGISTER:
            return f"{name} register r{reg} does not exist (r0-r{MAX_REGISTER})"
    return ""


def decode_ld_imm64(first: Slot, second: Slot | None, index: int) -> Instruction:
    """An ``ld_imm64`` (opcode 0x18) from its two slots; ``second`` None if the bytes end."""
    if second is None:
        return _invalid(first, index, "ld_imm64 needs a second slot, and the bytes end here")
    if second.code or second.dst or second.src or second.off:
        return _invalid(
            first,
            index,
            "ld_imm64's second slot must have opcode, registers and off all zero "
            f"(found opcode {second.code:#04x}, dst {second.dst}, src {second.src}, "
            f"off {second.off})",
        )
    if first.off:
        return _invalid(first, index, "ld_imm64 uses a reserved field (off)")
    if bad := _bad_register(first):
        return _invalid(first, index, bad)
    try:
        pseudo = PseudoSrc(first.src)
    except ValueError:
        return _invalid(first, index, f"ld_imm64 with unknown src {first.src} (known: 0-6)")
    value = (second.imm & 0xFFFFFFFF) << 32 | (first.imm & 0xFFFFFFFF)
    return _valid(
        first,
        index,
        Kind.LD_IMM64,
        size=2,
        imm64=value,
        mode=Mode.IMM,
        width=Size.DW,
        pseudo=pseudo,
    )


def decode_slot(slot: Slot, index: int) -> Instruction:
    """Decode one single-slot instruction (an ``ld_imm64`` goes to :func:`decode_ld_imm64`)."""
    if slot.code == LD_IMM64_CODE:
        return _invalid(slot, index, "ld_imm64 needs a second slot")
    if bad := _bad_register(slot):
        return _invalid(slot, index, bad)
    cls = InsnClass(slot.code & CLASS_MASK)
    if cls in (InsnClass.ALU, InsnClass.ALU64):
        return _alu(slot, index, cls)
    if cls in (InsnClass.JMP, InsnClass.JMP32):
        return _jump(slot, index, cls)
    return _load_store(slot, index, cls)


def _alu(slot: Slot, index: int, cls: InsnClass) -> Instruction:
    op = AluOp(slot.code & OP_MASK) if slot.code & OP_MASK <= AluOp.END else None
    if op is None:
        return _invalid(slot, index, f"unknown {cls.name} operation {slot.code & OP_MASK:#04x}")
    source = Source(slot.code & SOURCE_MASK)
    common: dict[str, Any] = {"alu_op": op, "source": source}
    if op is AluOp.END:
        if slot.src or slot.off:
            return _invalid(slot, index, "byte swap uses reserved fields (src, off)")
        if slot.imm not in SWAP_WIDTHS:
            return _invalid(slot, index, f"byte swap of width {slot.imm} (16, 32 or 64)")
        if cls is InsnClass.ALU64:
            if source is not Source.K:
                return _invalid(slot, index, "ALU64 byte swap (bswap) with the source bit set")
            return _valid(slot, index, Kind.BSWAP, **common)
        return _valid(slot, index, Kind.END, endian=Endian(source.value), **common)
    if op is AluOp.NEG:
        if source is not Source.K or slot.src or slot.off or slot.imm:
            return _invalid(slot, index, "neg uses reserved fields (source bit, src, off, imm)")
        return _valid(slot, index, Kind.NEG, **common)
    if source is Source.K and slot.src:
        return _invalid(slot, index, f"{op.name.lower()} with an immediate has src {slot.src}")
    if op is AluOp.MOV:
        if source is Source.X and slot.off == ADDR_SPACE_CAST_OFF and cls is InsnClass.ALU64:
            if slot.imm not in (1, 1 << 16):
                return _invalid(slot, index, f"addr_space_cast between spaces imm={slot.imm:#x}")
            return _valid(slot, index, Kind.ADDR_SPACE_CAST, **common)
        if source is Source.X and slot.imm:
            return _invalid(slot, index, "mov from a register uses a reserved field (imm)")
        if slot.off == 0:
            return _valid(slot, index, Kind.MOV, **common)
        allowed = MOVSX_OFFSETS if cls is InsnClass.ALU64 else MOVSX_OFFSETS[:2]
        if source is Source.X and slot.off in allowed:
            return _valid(slot, index, Kind.MOVSX, signed=True, **common)
        return _invalid(slot, index, f"{cls.name} mov with off {slot.off}")
    if source is Source.X and slot.imm:
        return _invalid(slot, index, f"{op.name.lower()} of registers uses a reserved field (imm)")
    if slot.off == SIGNED_DIV_OFF and op in (AluOp.DIV, AluOp.MOD):
        return _valid(slot, index, Kind.ALU, signed=True, **common)
    if slot.off:
        return _invalid(slot, index, f"{op.name.lower()} uses a reserved field (off {slot.off})")
    return _valid(slot, index, Kind.ALU, **common)


def _jump(slot: Slot, index: int, cls: InsnClass) -> Instruction:
    raw_op = slot.code & OP_MASK
    if raw_op > JumpOp.JCOND:
        return _invalid(slot, index, f"unknown {cls.name} operation {raw_op:#04x}")
    op = JumpOp(raw_op)
    source = Source(slot.code & SOURCE_MASK)
    common: dict[str, Any] = {"jump_op": op, "source": source}
    jmp64 = cls is InsnClass.JMP
    if op is JumpOp.JA:
        if source is Source.X:
            if not jmp64:
                return _invalid(slot, index, "JMP32 | JA | X is not defined")
            if slot.src or slot.off or slot.imm:
                return _invalid(slot, index, "gotox uses reserved fields (src, off, imm)")
            return _valid(slot, index, Kind.GOTOX, **common)
        if slot.src or slot.dst:
            return _invalid(slot, index, "goto uses reserved fields (src, dst)")
        if jmp64:
            if slot.imm:
                return _invalid(slot, index, "goto uses a reserved field (imm)")
            return _valid(slot, index, Kind.GOTO, **common)
        if slot.off:
            return _invalid(slot, index, "gotol uses a reserved field (off)")
        return _valid(slot, index, Kind.GOTOL, **common)
    if op is JumpOp.CALL:
        if not jmp64 or source is not Source.K:
            return _invalid(slot, index, f"call is JMP | CALL | K only (found {slot.code:#04x})")
        if slot.dst:
            return _invalid(slot, index, "call uses a reserved field (dst)")
        try:
            kind = CallKind(slot.src)
        except ValueError:
            return _invalid(slot, index, f"call with unknown src {slot.src} (known: 0-2)")
        # off of a kfunc call picks the module BTF (an fd array index); a
        # subprogram call's off is ignored by the kernel; a helper's must be 0
        if kind is CallKind.HELPER and slot.off:
            return _invalid(slot, index, "helper call uses a reserved field (off)")
        return _valid(slot, index, Kind.CALL, call_kind=kind, **common)
    if op is JumpOp.EXIT:
        if not jmp64 or source is not Source.K:
            return _invalid(slot, index, f"exit is JMP | EXIT | K only (found {slot.code:#04x})")
        if slot.src or slot.dst or slot.off or slot.imm:
            return _invalid(slot, index, "exit uses reserved fields")
        return _valid(slot, index, Kind.EXIT, **common)
    if op is JumpOp.JCOND:
        if not jmp64 or source is not Source.K or slot.src != MAY_GOTO_SRC:
            return _invalid(slot, index, "JCOND is defined only as may_goto (JMP | K, src 0)")
        if slot.dst or slot.imm:
            return _invalid(slot, index, "may_goto uses reserved fields (dst, imm)")
        return _valid(slot, index, Kind.MAY_GOTO, **common)
    if source is Source.K and slot.src:
        return _invalid(slot, index, "conditional jump with an immediate has a nonzero src")
    if source is Source.X and slot.imm:
        return _invalid(slot, index, "conditional jump on registers has a nonzero imm")
    return _valid(slot, index, Kind.JUMP, signed=op in _JUMP_SIGNED, **common)


def _load_store(slot: Slot, index: int, cls: InsnClass) -> Instruction:
    raw_mode = slot.code & MODE_MASK
    try:
        mode = Mode(raw_mode)
    except ValueError:
        return _invalid(slot, index, f"unknown {cls.name} mode {raw_mode:#04x}")
    width = Size(slot.code & SIZE_MASK)
    common: dict[str, Any] = {"mode": mode, "width": width}
    if cls is InsnClass.LD:
        if mode not in (Mode.ABS, Mode.IND):
            return _invalid(slot, index, f"LD with mode {mode.name} (only ld_imm64, ABS, IND)")
        if width is Size.DW:
            return _invalid(slot, index, f"LD {mode.name} of a double word")
        if slot.dst or slot.off or (mode is Mode.ABS and slot.src):
            return _invalid(slot, index, f"LD {mode.name} uses reserved fields")
        kind = Kind.LD_ABS if mode is Mode.ABS else Kind.LD_IND
        return _valid(slot, index, kind, **common)
    if cls is InsnClass.LDX:
        if mode is Mode.MEM or (mode is Mode.MEMSX and width is not Size.DW):
            if slot.imm:
                return _invalid(slot, index, "load uses a reserved field (imm)")
            sx = mode is Mode.MEMSX
            return _valid(slot, index, Kind.LOAD_SX if sx else Kind.LOAD, signed=sx, **common)
        return _invalid(slot, index, f"LDX with mode {mode.name} and size {width.name}")
    if cls is InsnClass.ST:
        if mode is not Mode.MEM:
            return _invalid(slot, index, f"ST with mode {mode.name} (only MEM)")
        if slot.src:
            return _invalid(slot, index, "store of an immediate uses a reserved field (src)")
        return _valid(slot, index, Kind.STORE_IMM, **common)
    if mode is Mode.MEM:
        if slot.imm:
            return _invalid(slot, index, "store of a register uses a reserved field (imm)")
        return _valid(slot, index, Kind.STORE, **common)
    if mode is not Mode.ATOMIC:
        return _invalid(slot, index, f"STX with mode {mode.name} (only MEM, ATOMIC)")
    return _atomic(slot, index, common)


def _atomic(slot: Slot, index: int, common: dict[str, Any]) -> Instruction:
    imm = slot.imm
    if imm in (AtomicOp.LOAD_ACQ, AtomicOp.STORE_REL):
        return _valid(slot, index, Kind.ATOMIC, atomic_op=AtomicOp(imm), **common)
    if common["width"] not in (Size.W, Size.DW):
        return _invalid(slot, index, "atomic read-modify-write of a byte or half word")
    fetch = bool(imm & FETCH)
    base = imm & ~FETCH
    if base in _RMW_OPS or (fetch and base in (AtomicOp.XCHG, AtomicOp.CMPXCHG)):
        return _valid(slot, index, Kind.ATOMIC, atomic_op=AtomicOp(base), fetch=fetch, **common)
    return _invalid(slot, index, f"unknown atomic operation imm={imm:#x}")
