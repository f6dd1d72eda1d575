"""Instructions as text, in the forms the kernel's verifier log prints them.

The forms follow ``print_bpf_insn()`` in the kernel's ``kernel/bpf/disasm.c``
(checked in ``tests/insn`` against the log of the running kernel):
``r1 = *(u64 *)(r1 +0)``, ``w0 += w1``, ``r2 += -12``, ``r0 = be16 r0``,
``r0 = (s8)r1``, ``lock *(u64 *)(r1 +0) += r2``,
``r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)``, ``if w1 s> 0xfffffffb goto pc+1``,
``call bpf_map_lookup_elem#1``, ``r1 = 0xffffc90001f61000``, ``exit``.
The kernel prints byte swaps and atomics with ``r`` registers even when they
are 32-bit; so does this module.

Where the text cannot be the kernel's:

* without a helper table (``helpers=None``) a helper call is ``call #N``;
  with one, an id the table lacks is ``call unknown#N`` as in the kernel
  (which prints that for ids it does not know, such as the ``2002000000+``
  that libbpf writes over a call to a weak kfunc the kernel lacks);
* an instruction that has a relocation (``symbols[insn.index]``, the caller
  reads them from the ELF object) names its symbol: ``call bpf_cpumask_create``
  for a call whose ``imm`` the loader fills in (a kfunc, or a global
  subprogram), ``r1 = cpumask_map`` / ``r1 = .bss+0x8`` for an ``ld_imm64``
  (the kernel prints the address the loader put there);
* an invalid instruction is ``invalid (code 0xNN): reason``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from kptrdoc.insn.model import Instruction, Kind
from kptrdoc.insn.opcodes import AluOp, AtomicOp, CallKind, Endian, JumpOp, Size, Source

_ALU_TEXT: Mapping[AluOp, str] = MappingProxyType(
    {
        AluOp.ADD: "+=",
        AluOp.SUB: "-=",
        AluOp.MUL: "*=",
        AluOp.DIV: "/=",
        AluOp.OR: "|=",
        AluOp.AND: "&=",
        AluOp.LSH: "<<=",
        AluOp.RSH: ">>=",
        AluOp.MOD: "%=",
        AluOp.XOR: "^=",
        AluOp.MOV: "=",
        AluOp.ARSH: "s>>=",
    }
)
_SIGNED_ALU_TEXT: Mapping[AluOp, str] = MappingProxyType({AluOp.DIV: "s/=", AluOp.MOD: "s%="})
_JUMP_TEXT: Mapping[JumpOp, str] = MappingProxyType(
    {
        JumpOp.JEQ: "==",
        JumpOp.JGT: ">",
        JumpOp.JGE: ">=",
        JumpOp.JSET: "&",
        JumpOp.JNE: "!=",
        JumpOp.JSGT: "s>",
        JumpOp.JSGE: "s>=",
        JumpOp.JLT: "<",
        JumpOp.JLE: "<=",
        JumpOp.JSLT: "s<",
        JumpOp.JSLE: "s<=",
    }
)
_ATOMIC_LOCK_TEXT: Mapping[AtomicOp, str] = MappingProxyType(
    {
        AtomicOp.ADD: "+=",
        AtomicOp.OR: "|=",
        AtomicOp.AND: "&=",
        AtomicOp.XOR: "^=",
    }
)


def _width(size: Size | None, signed: bool = False) -> str:
    bits = 8 * (size.bytes if size is not None else 8)
    return f"{'s' if signed else 'u'}{bits}"


def _mem(size: Size | None, base: int, off: int, signed: bool = False) -> str:
    return f"*({_width(size, signed)} *)(r{base} {off:+d})"


def format_insn(
    insn: Instruction,
    *,
    helpers: Mapping[int, str] | None = None,
    symbols: Mapping[int, str] | None = None,
    with_code: bool = False,
) -> str:
    """The kernel-style text of ``insn``.

    ``helpers`` maps helper ids to names (:func:`~kptrdoc.insn.read_helper_names`;
    None: print ``call #N``); ``symbols`` maps slot indexes to the symbol a
    relocation names there (or any name the caller knows for that slot,
    such as a kfunc's, looked up by its BTF id).
    ``with_code`` puts the opcode in front as the verifier log does:
    ``(61) r1 = *(u32 *)(r1 +2872)``.
    """
    text = _text(insn, helpers, symbols or {})
    return f"({insn.code:02x}) {text}" if with_code else text


def format_line(
    insn: Instruction,
    *,
    helpers: Mapping[int, str] | None = None,
    symbols: Mapping[int, str] | None = None,
) -> str:
    """A verifier-log line: ``3: (61) r1 = *(u32 *)(r1 +2872)``."""
    body = format_insn(insn, helpers=helpers, symbols=symbols, with_code=True)
    return f"{insn.index}: {body}"


def _text(insn: Instruction, helpers: Mapping[int, str] | None, symbols: Mapping[int, str]) -> str:
    k = insn.kind
    reg = "w" if insn.is_32bit else "r"
    d, s = insn.dst, insn.src
    if k is Kind.INVALID:
        return f"invalid (code {insn.code:#04x}): {insn.reason}"
    if k is Kind.ALU and insn.alu_op is not None:
        table = _SIGNED_ALU_TEXT if insn.signed else _ALU_TEXT
        op = table[insn.alu_op]
        rhs = f"{reg}{s}" if insn.source is Source.X else str(insn.imm)
        return f"{reg}{d} {op} {rhs}"
    if k is Kind.MOV:
        rhs = f"{reg}{s}" if insn.source is Source.X else str(insn.imm)
        return f"{reg}{d} = {rhs}"
    if k is Kind.MOVSX:
        return f"{reg}{d} = (s{insn.off}){reg}{s}"
    if k is Kind.NEG:
        return f"{reg}{d} = -{reg}{d}"
    if k is Kind.END:
        order = "be" if insn.endian is Endian.BE else "le"
        return f"r{d} = {order}{insn.imm} r{d}"
    if k is Kind.BSWAP:
        return f"r{d} = bswap{insn.imm} r{d}"
    if k is Kind.ADDR_SPACE_CAST:
        imm = insn.imm & 0xFFFFFFFF
        return f"r{d} = addr_space_cast(r{s}, {imm >> 16}, {imm & 0xFFFF})"
    if k is Kind.LD_IMM64:
        return f"r{d} = {_ld_imm64_value(insn, symbols)}"
    if k is Kind.LD_ABS:
        return f"r0 = *({_width(insn.width)} *)skb[{insn.imm}]"
    if k is Kind.LD_IND:
        return f"r0 = *({_width(insn.width)} *)skb[r{s} + {insn.imm}]"
    if k in (Kind.LOAD, Kind.LOAD_SX):
        return f"r{d} = {_mem(insn.width, s, insn.off, insn.signed)}"
    if k is Kind.STORE_IMM:
        return f"{_mem(insn.width, d, insn.off)} = {insn.imm}"
    if k is Kind.STORE:
        return f"{_mem(insn.width, d, insn.off)} = r{s}"
    if k is Kind.ATOMIC:
        return _atomic(insn)
    if k is Kind.GOTO:
        return f"goto pc{insn.off:+d}"
    if k is Kind.GOTOL:
        return f"gotol pc{insn.imm:+d}"
    if k is Kind.GOTOX:
        return f"gotox r{d}"
    if k is Kind.MAY_GOTO:
        return f"may_goto pc{insn.off:+d}"
    if k is Kind.EXIT:
        return "exit"
    if k is Kind.CALL:
        return _call(insn, helpers, symbols)
    if k is Kind.JUMP and insn.jump_op is not None:
        rhs = f"{reg}{s}" if insn.source is Source.X else f"{insn.imm & 0xFFFFFFFF:#x}"
        return f"if {reg}{d} {_JUMP_TEXT[insn.jump_op]} {rhs} goto pc{insn.off:+d}"
    return f"invalid (code {insn.code:#04x}): no text for kind {k.value}"


def _ld_imm64_value(insn: Instruction, symbols: Mapping[int, str]) -> str:
    value = insn.imm64 if insn.imm64 is not None else insn.imm & 0xFFFFFFFF
    name = symbols.get(insn.index)
    if name is None:
        return f"{value:#x}"
    return name if value == 0 else f"{name}+{value:#x}"


def _call(insn: Instruction, helpers: Mapping[int, str] | None, symbols: Mapping[int, str]) -> str:
    name = symbols.get(insn.index)
    if insn.call_kind is CallKind.SUBPROG:
        return f"call {name}" if name is not None else f"call pc{insn.imm:+d}"
    if insn.call_kind is CallKind.KFUNC:
        return f"call {name or 'kernel-function'}#{insn.imm}"
    helper = name if helpers is None else helpers.get(insn.imm, name or "unknown")
    return f"call {helper}#{insn.imm}" if helper else f"call #{insn.imm}"


def _atomic(insn: Instruction) -> str:
    op = insn.atomic_op
    width = _width(insn.width)
    where = f"(r{insn.dst} {insn.off:+d})"
    bits = "64" if insn.width is Size.DW else ""
    if op is AtomicOp.LOAD_ACQ:
        return f"r{insn.dst} = load_acquire(({width} *)(r{insn.src} {insn.off:+d}))"
    if op is AtomicOp.STORE_REL:
        return f"store_release(({width} *){where}, r{insn.src})"
    if op is AtomicOp.CMPXCHG:
        return f"r0 = atomic{bits}_cmpxchg(({width} *){where}, r0, r{insn.src})"
    if op is AtomicOp.XCHG:
        return f"r{insn.src} = atomic{bits}_xchg(({width} *){where}, r{insn.src})"
    if op is None:
        return f"invalid (code {insn.code:#04x}): atomic without an operation"
    if insn.fetch:
        name = op.name.lower()
        return f"r{insn.src} = atomic{bits}_fetch_{name}(({width} *){where}, r{insn.src})"
    return f"lock *({width} *){where} {_ATOMIC_LOCK_TEXT[op]} r{insn.src}"
