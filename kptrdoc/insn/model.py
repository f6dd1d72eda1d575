"""The type model: one decoded instruction, what kind it is, the error type."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kptrdoc.errors import KptrdocError
from kptrdoc.insn.opcodes import (
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
from kptrdoc.insn.wire import SLOT_SIZE


class InsnError(KptrdocError):
    """Instruction bytes that cannot be cut into slots.

    ``offset`` is the byte offset (from the start of the bytes given to
    :func:`~kptrdoc.insn.decode`) where the incomplete slot starts.
    """

    def __init__(self, message: str, offset: int) -> None:
        self.offset = offset
        self.reason = message
        super().__init__(f"at byte {offset}: {message}")


class Kind(StrEnum):
    """What an instruction does, one name per form the kernel prints differently."""

    ALU = "alu"
    """``dst op= src/imm``: add, sub, mul, div, or, and, lsh, rsh, mod, xor, arsh
    (``signed`` for sdiv/smod)."""
    MOV = "mov"
    MOVSX = "movsx"
    """``dst = (s8/s16/s32)src`` (cpu v4)."""
    NEG = "neg"
    END = "end"
    """``dst = le16/be32/... dst`` (ALU class)."""
    BSWAP = "bswap"
    """``dst = bswap16/32/64 dst`` (ALU64 class, cpu v4)."""
    ADDR_SPACE_CAST = "addr_space_cast"
    LD_IMM64 = "ld_imm64"
    """Two slots: a 64-bit constant, or a map/variable/function reference."""
    LD_ABS = "ld_abs"
    LD_IND = "ld_ind"
    LOAD = "load"
    """``dst = *(uN *)(src + off)``."""
    LOAD_SX = "load_sx"
    """``dst = *(sN *)(src + off)`` (cpu v4)."""
    STORE_IMM = "store_imm"
    """``*(uN *)(dst + off) = imm``."""
    STORE = "store"
    """``*(uN *)(dst + off) = src``."""
    ATOMIC = "atomic"
    GOTO = "goto"
    """``JMP | JA``: ``goto pc+off``."""
    GOTOL = "gotol"
    """``JMP32 | JA``: ``gotol pc+imm`` (cpu v4)."""
    GOTOX = "gotox"
    """``JMP | JA | X``: indirect jump to the address in ``dst``."""
    MAY_GOTO = "may_goto"
    JUMP = "jump"
    """A conditional jump: ``if dst op src/imm goto pc+off``."""
    CALL = "call"
    EXIT = "exit"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Instruction:
    """One decoded instruction, with its raw fields and what they mean.

    ``index`` counts 8-byte slots from the start of the section (plus the
    ``base_index`` given to :func:`~kptrdoc.insn.decode`); an ``ld_imm64``
    takes two slots, so the next instruction's index is ``index + size``.
    ``off`` and ``imm`` are signed, as the kernel's ``struct bpf_insn`` has
    them. For an ``ld_imm64``, ``imm`` is the first slot's field and
    ``imm64`` the whole value (unsigned 64-bit); ``imm64`` is None otherwise.

    Classification fields that do not apply to an instruction are None
    (``alu_op`` of a load, ``width`` of a jump, ...). ``valid`` is False for
    an encoding this decoder does not know; ``reason`` then says why, and
    only ``insn_class`` and the raw fields are meaningful.
    """

    index: int
    code: int
    dst: int
    src: int
    off: int
    imm: int
    size: int = 1
    imm64: int | None = None
    kind: Kind = Kind.INVALID
    insn_class: InsnClass = InsnClass.LD
    source: Source | None = None
    alu_op: AluOp | None = None
    jump_op: JumpOp | None = None
    mode: Mode | None = None
    width: Size | None = None
    endian: Endian | None = None
    atomic_op: AtomicOp | None = None
    fetch: bool = False
    call_kind: CallKind | None = None
    pseudo: PseudoSrc | None = None
    signed: bool = False
    """sdiv/smod, movsx, sign-extending loads, signed comparisons."""
    valid: bool = True
    reason: str = ""

    @property
    def byte_offset(self) -> int:
        """Where the instruction starts, in bytes (from slot 0 of the index count)."""
        return self.index * SLOT_SIZE

    @property
    def next_imm(self) -> int | None:
        """The second slot's ``imm`` of an ``ld_imm64`` (signed 32-bit), else None."""
        if self.imm64 is None:
            return None
        high = self.imm64 >> 32
        return high - (1 << 32) if high & 0x80000000 else high

    @property
    def is_32bit(self) -> bool:
        """True for ALU and JMP32: the operands are the low 32 bits (``w`` registers)."""
        return self.insn_class in (InsnClass.ALU, InsnClass.JMP32)

    @property
    def target(self) -> int | None:
        """The slot a jump or a subprogram call goes to; None for anything else."""
        if self.kind in (Kind.GOTO, Kind.JUMP, Kind.MAY_GOTO):
            return self.index + 1 + self.off
        if self.kind is Kind.GOTOL:
            return self.index + 1 + self.imm
        if self.kind is Kind.CALL and self.call_kind is CallKind.SUBPROG:
            return self.index + 1 + self.imm
        if self.kind is Kind.LD_IMM64 and self.pseudo is PseudoSrc.FUNC:
            return self.index + 1 + self.imm
        return None

    @property
    def extend_bits(self) -> int | None:
        """Width of the sign-extended source: movsx (``off``) and sign-extending loads."""
        if self.kind is Kind.MOVSX:
            return self.off
        if self.kind is Kind.LOAD_SX and self.width is not None:
            return self.width.bytes * 8
        return None
