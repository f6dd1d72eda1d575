"""eBPF instructions: decode raw section bytes, print them as the verifier does.

Layers, each usable alone (no I/O beyond bytes in, except
:func:`read_helper_names`):

* :mod:`~kptrdoc.insn.wire` — one 8-byte slot, in either byte order;
* :mod:`~kptrdoc.insn.opcodes` — classes, operations, modes, sizes (IntEnums);
* :mod:`~kptrdoc.insn.model` — :class:`Instruction`, :class:`Kind`, :class:`InsnError`;
* :mod:`~kptrdoc.insn.decode` — :func:`decode`, :func:`encode`;
* :mod:`~kptrdoc.insn.text` — :func:`format_insn`, kernel verifier-log style;
* :mod:`~kptrdoc.insn.helpers` — helper names from ``bpf_helper_defs.h``.

Encoding facts used (the kernel's
``Documentation/bpf/standardization/instruction-set.rst``, and
``kernel/bpf/disasm.c`` / ``verifier.c`` for what the kernel accepts):

* A slot is ``opcode:8, dst:4, src:4, off:16 signed, imm:32 signed``. The
  register nibbles are C bit-fields: ``dst`` is the low nibble in
  little-endian objects and the high nibble in big-endian ones
  (``-target bpfeb``), whose ``off`` and ``imm`` are big-endian too.
* Opcode 0x18 (``LD | IMM | DW``) is ``ld_imm64`` and takes two slots; the
  second has opcode, registers and ``off`` zero, and its ``imm`` is the high
  32 bits. Its ``src`` says what the value is: 0 a constant, 1 map fd,
  2 map value, 3 BTF id (``__ksym``), 4 subprogram, 5 map index, 6 map
  index value. Slot indexes count slots, so an index after an ``ld_imm64``
  skips one.
* Class = low 3 bits: LD 0, LDX 1, ST 2, STX 3, ALU 4, JMP 5, JMP32 6,
  ALU64 7. ALU/JMP opcodes are ``op:4 | source:1 | class:3`` (source K =
  ``imm``, X = ``src`` register); load/store opcodes ``mode:3 | size:2 |
  class:3`` (modes IMM, ABS, IND, MEM, MEMSX 0x80, ATOMIC 0xc0; sizes W, H,
  B, DW).
* Fields that pick a variant: ``off`` 1 makes DIV/MOD signed, ``off``
  8/16/32 makes MOV a MOVSX (ALU: 8/16 only), ``off`` 1 on ``ALU64 | MOV |
  X`` is ``addr_space_cast``; ``ALU | END`` takes the byte order from the
  source bit (LE 0, BE 1) and ``ALU64 | END`` is ``bswap`` (cpu v4); ``imm``
  of a byte swap is 16, 32 or 64. LDX with MEMSX loads sign-extended (cpu v4).
* ``STX | ATOMIC`` (W or DW) takes the operation from ``imm``: ADD 0x00,
  OR 0x40, AND 0x50, XOR 0xa0, each optionally ``| FETCH`` (0x01, the old
  value goes to ``src``); XCHG 0xe1; CMPXCHG 0xf1 (compares with ``r0``,
  the old value goes to ``r0``); load-acquire 0x100 and store-release 0x110
  (any size).
* ``JMP | CALL``: ``src`` 0 a helper id, 1 a subprogram at ``pc + 1 + imm``,
  2 a kfunc BTF id. In an object file clang emits kfunc and global
  subprogram calls as ``src`` 1, ``imm`` -1 with a relocation; the loader
  fills them in. ``JMP | JA`` jumps by ``off``; ``JMP32 | JA`` (``gotol``,
  cpu v4) by ``imm``; ``JMP | JCOND`` with ``src`` 0 is ``may_goto``.
  JMP32 conditional jumps (cpu v3) compare the low 32 bits.

Invalid input: :func:`decode` raises :class:`InsnError` (a ``KptrdocError``
with the byte ``offset``) only when the length is not a multiple of 8.
Anything else it does not know — an undefined opcode or variant, a register
above r10, a reserved field the kernel refuses, an ``ld_imm64`` cut short —
comes back as an :class:`Instruction` with ``valid=False`` and a ``reason``.
"""

from __future__ import annotations

from kptrdoc.insn.decode import decode, encode
from kptrdoc.insn.helpers import (
    HelperDefsError,
    parse_helper_names,
    pinned_helper_names,
    read_helper_names,
)
from kptrdoc.insn.model import InsnError, Instruction, Kind
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
from kptrdoc.insn.text import format_insn, format_line

__all__ = [
    "AluOp",
    "AtomicOp",
    "CallKind",
    "Endian",
    "HelperDefsError",
    "InsnClass",
    "InsnError",
    "Instruction",
    "JumpOp",
    "Kind",
    "Mode",
    "PseudoSrc",
    "Size",
    "Source",
    "decode",
    "encode",
    "format_insn",
    "format_line",
    "parse_helper_names",
    "pinned_helper_names",
    "read_helper_names",
]
