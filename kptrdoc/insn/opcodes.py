"""The opcode byte, split into its parts, and the values other fields take.

The low three bits of the opcode byte are the class. What the other five
bits mean depends on the class:

* ALU, ALU64, JMP, JMP32: ``op (4 bits) | source (1 bit) | class (3 bits)``;
* LD, LDX, ST, STX: ``mode (3 bits) | size (2 bits) | class (3 bits)``.

Every enum keeps the value as it sits in the opcode byte (already shifted),
so ``code == op | source | class`` holds. Values that live in other fields
(the ``imm`` of an atomic instruction, the ``src`` of an ``ld_imm64`` or of a
call) have enums of their own. Source: the kernel's
``Documentation/bpf/standardization/instruction-set.rst``.
"""

from __future__ import annotations

from enum import IntEnum

CLASS_MASK = 0x07
OP_MASK = 0xF0
SOURCE_MASK = 0x08
MODE_MASK = 0xE0
SIZE_MASK = 0x18


class InsnClass(IntEnum):
    """Bits 0-2 of the opcode."""

    LD = 0x0
    LDX = 0x1
    ST = 0x2
    STX = 0x3
    ALU = 0x4
    JMP = 0x5
    JMP32 = 0x6
    ALU64 = 0x7


class Source(IntEnum):
    """Bit 3 of an arithmetic or jump opcode: the second operand."""

    K = 0x00
    """The 32-bit ``imm`` field."""
    X = 0x08
    """The ``src`` register."""


class AluOp(IntEnum):
    """Bits 4-7 of an ALU/ALU64 opcode."""

    ADD = 0x00
    SUB = 0x10
    MUL = 0x20
    DIV = 0x30
    """Unsigned; ``off == 1`` makes it SDIV (cpu v4)."""
    OR = 0x40
    AND = 0x50
    LSH = 0x60
    RSH = 0x70
    NEG = 0x80
    MOD = 0x90
    """Unsigned; ``off == 1`` makes it SMOD (cpu v4)."""
    XOR = 0xA0
    MOV = 0xB0
    """``off`` 8/16/32 makes it MOVSX (cpu v4)."""
    ARSH = 0xC0
    END = 0xD0
    """Byte swap: ALU uses the source bit for the byte order, ALU64 swaps (cpu v4)."""


class JumpOp(IntEnum):
    """Bits 4-7 of a JMP/JMP32 opcode."""

    JA = 0x00
    JEQ = 0x10
    JGT = 0x20
    JGE = 0x30
    JSET = 0x40
    JNE = 0x50
    JSGT = 0x60
    JSGE = 0x70
    CALL = 0x80
    EXIT = 0x90
    JLT = 0xA0
    JLE = 0xB0
    JSLT = 0xC0
    JSLE = 0xD0
    JCOND = 0xE0
    """``may_goto`` when ``src`` is 0 (Linux 6.9)."""


class Mode(IntEnum):
    """Bits 5-7 of a load/store opcode."""

    IMM = 0x00
    ABS = 0x20
    IND = 0x40
    MEM = 0x60
    MEMSX = 0x80
    """Sign-extending load (cpu v4)."""
    ATOMIC = 0xC0


class Size(IntEnum):
    """Bits 3-4 of a load/store opcode: the access width."""

    W = 0x00
    H = 0x08
    B = 0x10
    DW = 0x18

    @property
    def bytes(self) -> int:
        return {Size.W: 4, Size.H: 2, Size.B: 1, Size.DW: 8}[self]


class Endian(IntEnum):
    """The source bit of ``ALU | END``: the byte order converted to or from."""

    LE = 0x00
    BE = 0x08


FETCH = 0x01
"""Flag in the ``imm`` of an atomic instruction: the old value goes to ``src``."""


class AtomicOp(IntEnum):
    """The ``imm`` of a ``STX | ATOMIC`` instruction, without ``FETCH``."""

    ADD = 0x00
    OR = 0x40
    AND = 0x50
    XOR = 0xA0
    XCHG = 0xE0
    """Always with FETCH (``imm`` 0xe1)."""
    CMPXCHG = 0xF0
    """Always with FETCH (``imm`` 0xf1); compares with and writes back ``r0``."""
    LOAD_ACQ = 0x100
    """Load-acquire (Linux 6.15), ``dst = *(src + off)``."""
    STORE_REL = 0x110
    """Store-release (Linux 6.15), ``*(dst + off) = src``."""


class PseudoSrc(IntEnum):
    """What the ``src`` of an ``ld_imm64`` says its 64-bit value is."""

    IMM = 0
    """A plain 64-bit constant."""
    MAP_FD = 1
    """``imm`` is a map fd; the value is the map."""
    MAP_VALUE = 2
    """``imm`` is a map fd, the second slot's ``imm`` an offset into its value."""
    BTF_ID = 3
    """``imm`` is a BTF id of a kernel variable (``__ksym``)."""
    FUNC = 4
    """``imm`` is a slot offset to a subprogram (a callback's address)."""
    MAP_IDX = 5
    """Like MAP_FD, with an index into the fd array given at load time."""
    MAP_IDX_VALUE = 6
    """Like MAP_VALUE, with an index into the fd array."""


class CallKind(IntEnum):
    """The ``src`` of a ``call``: what ``imm`` names."""

    HELPER = 0
    """``imm`` is a helper id (``bpf_helper_defs.h``)."""
    SUBPROG = 1
    """``imm`` is the slot offset of a subprogram, from the next slot."""
    KFUNC = 2
    """``imm`` is the BTF id of a kernel function."""


MAY_GOTO_SRC = 0
"""The ``src`` that makes ``JMP | JCOND`` a ``may_goto``."""

ADDR_SPACE_CAST_OFF = 1
"""The ``off`` that makes ``ALU64 | MOV | X`` an ``addr_space_cast`` (arena)."""

MOVSX_OFFSETS = (8, 16, 32)
"""The ``off`` values that make ``MOV | X`` sign-extending: the source width."""

SIGNED_DIV_OFF = 1
"""The ``off`` that makes DIV/MOD signed (SDIV/SMOD)."""

SWAP_WIDTHS = (16, 32, 64)
"""The ``imm`` of a byte swap."""

MAX_REGISTER = 10
"""r0-r9 and the read-only frame pointer r10; a nibble can say up to 15."""


def insn_class(code: int) -> InsnClass:
    return InsnClass(code & CLASS_MASK)
