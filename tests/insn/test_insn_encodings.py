"""Hand-built encodings: every form, its fields, the kernel's text, and what is invalid.

The bytes are packed here with ``struct`` (not with ``kptrdoc.insn.wire``),
and the expected texts are the formats of ``print_bpf_insn()`` in the
kernel's ``kernel/bpf/disasm.c`` — including forms clang 19 cannot emit
(``load_acquire``, ``store_release``, ``gotox``) or never emits (``LD_IND``
with an offset).
"""

from __future__ import annotations

import struct

import pytest

from kptrdoc.errors import KptrdocError
from kptrdoc.insn import (
    AluOp,
    AtomicOp,
    CallKind,
    Endian,
    InsnClass,
    InsnError,
    JumpOp,
    Kind,
    Mode,
    PseudoSrc,
    Size,
    Source,
    decode,
    encode,
    format_insn,
    format_line,
)


def raw(
    code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0, big: bool = False
) -> bytes:
    if big:
        return struct.pack(">BBhi", code, dst << 4 | src, off, imm)
    return struct.pack("<BBhi", code, src << 4 | dst, off, imm)


def one(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0):
    (insn,) = decode(raw(code, dst, src, off, imm))
    return insn


KERNEL_TEXT = [
    # ALU / ALU64
    ((0x07, 1, 0, 0, -12), "r1 += -12"),
    ((0x04, 1, 0, 0, -1), "w1 += -1"),
    ((0x0F, 1, 2, 0, 0), "r1 += r2"),
    ((0x0C, 1, 2, 0, 0), "w1 += w2"),
    ((0x17, 3, 0, 0, 4), "r3 -= 4"),
    ((0x2F, 3, 4, 0, 0), "r3 *= r4"),
    ((0x34, 3, 0, 0, 10), "w3 /= 10"),
    ((0x44, 3, 0, 0, 0x40), "w3 |= 64"),
    ((0x5F, 3, 4, 0, 0), "r3 &= r4"),
    ((0x67, 3, 0, 0, 32), "r3 <<= 32"),
    ((0x7C, 3, 4, 0, 0), "w3 >>= w4"),
    ((0x97, 3, 0, 0, 3), "r3 %= 3"),
    ((0xAC, 3, 4, 0, 0), "w3 ^= w4"),
    ((0xC7, 3, 0, 0, 5), "r3 s>>= 5"),
    ((0xCC, 3, 4, 0, 0), "w3 s>>= w4"),
    ((0xB7, 0, 0, 0, -1), "r0 = -1"),
    ((0xB4, 0, 0, 0, 7), "w0 = 7"),
    ((0xBF, 6, 1, 0, 0), "r6 = r1"),
    ((0xBC, 6, 1, 0, 0), "w6 = w1"),
    ((0xBF, 1, 2, 8, 0), "r1 = (s8)r2"),
    ((0xBF, 1, 2, 16, 0), "r1 = (s16)r2"),
    ((0xBF, 1, 2, 32, 0), "r1 = (s32)r2"),
    ((0xBC, 1, 2, 8, 0), "w1 = (s8)w2"),
    ((0xBC, 1, 2, 16, 0), "w1 = (s16)w2"),
    ((0x3F, 1, 2, 1, 0), "r1 s/= r2"),
    ((0x37, 1, 0, 1, -3), "r1 s/= -3"),
    ((0x9C, 1, 2, 1, 0), "w1 s%= w2"),
    ((0x97, 1, 0, 1, 7), "r1 s%= 7"),
    ((0x87, 3, 0, 0, 0), "r3 = -r3"),
    ((0x84, 3, 0, 0, 0), "w3 = -w3"),
    ((0xDC, 1, 0, 0, 16), "r1 = be16 r1"),
    ((0xDC, 1, 0, 0, 64), "r1 = be64 r1"),
    ((0xD4, 1, 0, 0, 32), "r1 = le32 r1"),
    ((0xD7, 1, 0, 0, 16), "r1 = bswap16 r1"),
    ((0xD7, 1, 0, 0, 64), "r1 = bswap64 r1"),
    ((0xBF, 1, 2, 1, 1), "r1 = addr_space_cast(r2, 0, 1)"),
    ((0xBF, 1, 1, 1, 1 << 16), "r1 = addr_space_cast(r1, 1, 0)"),
    # loads and stores
    ((0x79, 1, 1, 0, 0), "r1 = *(u64 *)(r1 +0)"),
    ((0x61, 1, 1, 2872, 0), "r1 = *(u32 *)(r1 +2872)"),
    ((0x69, 2, 10, -6, 0), "r2 = *(u16 *)(r10 -6)"),
    ((0x71, 2, 3, 1, 0), "r2 = *(u8 *)(r3 +1)"),
    ((0x91, 1, 3, 0, 0), "r1 = *(s8 *)(r3 +0)"),
    ((0x89, 1, 4, -2, 0), "r1 = *(s16 *)(r4 -2)"),
    ((0x81, 1, 1, 8, 0), "r1 = *(s32 *)(r1 +8)"),
    ((0x63, 10, 2, -4, 0), "*(u32 *)(r10 -4) = r2"),
    ((0x7B, 10, 1, -8, 0), "*(u64 *)(r10 -8) = r1"),
    ((0x73, 1, 6, 0, 0), "*(u8 *)(r1 +0) = r6"),
    ((0x62, 10, 0, -8, 5), "*(u32 *)(r10 -8) = 5"),
    ((0x7A, 10, 0, -16, -1), "*(u64 *)(r10 -16) = -1"),
    ((0x6A, 10, 0, -4, 7), "*(u16 *)(r10 -4) = 7"),
    ((0x30, 0, 0, 0, 12), "r0 = *(u8 *)skb[12]"),
    ((0x28, 0, 0, 0, 14), "r0 = *(u16 *)skb[14]"),
    ((0x40, 0, 7, 0, 4), "r0 = *(u32 *)skb[r7 + 4]"),
    # atomics
    ((0xDB, 1, 2, 0, 0x00), "lock *(u64 *)(r1 +0) += r2"),
    ((0xC3, 2, 3, 4, 0x00), "lock *(u32 *)(r2 +4) += r3"),
    ((0xDB, 1, 3, 0, 0x40), "lock *(u64 *)(r1 +0) |= r3"),
    ((0xDB, 1, 3, 0, 0x50), "lock *(u64 *)(r1 +0) &= r3"),
    ((0xC3, 2, 3, 0, 0xA0), "lock *(u32 *)(r2 +0) ^= r3"),
    ((0xDB, 1, 6, 0, 0x01), "r6 = atomic64_fetch_add((u64 *)(r1 +0), r6)"),
    ((0xC3, 2, 3, 0, 0x41), "r3 = atomic_fetch_or((u32 *)(r2 +0), r3)"),
    ((0xDB, 1, 3, -8, 0x51), "r3 = atomic64_fetch_and((u64 *)(r1 -8), r3)"),
    ((0xC3, 2, 3, 0, 0xA1), "r3 = atomic_fetch_xor((u32 *)(r2 +0), r3)"),
    ((0xDB, 1, 3, 0, 0xE1), "r3 = atomic64_xchg((u64 *)(r1 +0), r3)"),
    ((0xC3, 2, 3, 0, 0xE1), "r3 = atomic_xchg((u32 *)(r2 +0), r3)"),
    ((0xDB, 1, 6, 0, 0xF1), "r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r6)"),
    ((0xC3, 2, 3, 0, 0xF1), "r0 = atomic_cmpxchg((u32 *)(r2 +0), r0, r3)"),
    ((0xD3, 1, 2, 0, 0x100), "r1 = load_acquire((u8 *)(r2 +0))"),
    ((0xDB, 1, 2, 8, 0x100), "r1 = load_acquire((u64 *)(r2 +8))"),
    ((0xCB, 1, 2, 0, 0x110), "store_release((u16 *)(r1 +0), r2)"),
    # jumps
    ((0x05, 0, 0, 3, 0), "goto pc+3"),
    ((0x05, 0, 0, -1, 0), "goto pc-1"),
    ((0x06, 0, 0, 0, 70000), "gotol pc+70000"),
    ((0x0D, 3, 0, 0, 0), "gotox r3"),
    ((0xE5, 0, 0, 2, 0), "may_goto pc+2"),
    ((0x15, 6, 0, 29, 0), "if r6 == 0x0 goto pc+29"),
    ((0x55, 0, 0, 11, 0), "if r0 != 0x0 goto pc+11"),
    ((0x66, 3, 0, 1, -5), "if w3 s> 0xfffffffb goto pc+1"),
    ((0xA6, 1, 0, -2, 101), "if w1 < 0x65 goto pc-2"),
    ((0x1E, 1, 2, 1, 0), "if w1 == w2 goto pc+1"),
    ((0xCE, 2, 3, 1, 0), "if w2 s< w3 goto pc+1"),
    ((0x2D, 1, 2, 0, 0), "if r1 > r2 goto pc+0"),
    ((0x3D, 1, 2, 0, 0), "if r1 >= r2 goto pc+0"),
    ((0x45, 1, 0, 0, 8), "if r1 & 0x8 goto pc+0"),
    ((0x7D, 1, 2, 0, 0), "if r1 s>= r2 goto pc+0"),
    ((0xB5, 1, 0, 0, 4), "if r1 <= 0x4 goto pc+0"),
    ((0xD5, 1, 0, 0, -1), "if r1 s<= 0xffffffff goto pc+0"),
    ((0x95, 0, 0, 0, 0), "exit"),
    ((0x85, 0, 0, 0, 1), "call #1"),
    ((0x85, 0, 1, 0, 5), "call pc+5"),
    ((0x85, 0, 1, 0, -1), "call pc-1"),
    ((0x85, 0, 2, 0, 63604), "call kernel-function#63604"),
]


@pytest.mark.parametrize(("fields", "text"), KERNEL_TEXT, ids=[t for _, t in KERNEL_TEXT])
def test_kernel_text(fields: tuple[int, int, int, int, int], text: str) -> None:
    insn = one(*fields)
    assert insn.valid, insn.reason
    assert format_insn(insn) == text
    assert format_insn(insn, with_code=True) == f"({fields[0]:02x}) {text}"
    # the same instruction in a big-endian object: same fields, same text
    (big,) = decode(raw(*fields, big=True), "big")
    assert (big.code, big.dst, big.src, big.off, big.imm) == fields
    assert format_insn(big) == text
    assert encode([big], "big") == raw(*fields, big=True)
    assert encode([insn]) == raw(*fields)


def test_classification() -> None:
    sdiv = one(0x3F, 1, 2, 1, 0)
    assert (sdiv.kind, sdiv.insn_class, sdiv.alu_op, sdiv.source, sdiv.signed) == (
        Kind.ALU, InsnClass.ALU64, AluOp.DIV, Source.X, True)  # fmt: skip
    div = one(0x34, 3, 0, 0, 10)
    assert (div.kind, div.insn_class, div.source, div.signed, div.is_32bit) == (
        Kind.ALU, InsnClass.ALU, Source.K, False, True)  # fmt: skip
    movsx = one(0xBF, 1, 2, 16, 0)
    assert (movsx.kind, movsx.extend_bits, movsx.signed) == (Kind.MOVSX, 16, True)
    assert one(0xDC, 1, 0, 0, 16).endian is Endian.BE
    assert one(0xD4, 1, 0, 0, 16).endian is Endian.LE
    assert one(0xD7, 1, 0, 0, 16).kind is Kind.BSWAP
    load = one(0x89, 1, 4, -2, 0)
    assert (load.kind, load.mode, load.width, load.extend_bits) == (
        Kind.LOAD_SX, Mode.MEMSX, Size.H, 16)  # fmt: skip
    fetch = one(0xC3, 2, 3, 0, 0x41)
    assert (fetch.atomic_op, fetch.fetch, fetch.width) == (AtomicOp.OR, True, Size.W)
    xchg = one(0xDB, 1, 3, 0, 0xE1)
    assert (xchg.atomic_op, xchg.fetch) == (AtomicOp.XCHG, True)
    jump = one(0x66, 3, 0, 1, -5)
    assert (jump.kind, jump.jump_op, jump.signed, jump.is_32bit) == (
        Kind.JUMP, JumpOp.JSGT, True, True)  # fmt: skip
    assert one(0xAE, 1, 2, 1, 0).signed is False
    # signed comparisons, per the instruction set: JSGT 0x60, JSGE 0x70, JSLT 0xc0, JSLE 0xd0
    for op in (0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xA0, 0xB0, 0xC0, 0xD0):
        for cls in (0x05, 0x06):
            insn = one(op | cls, 1, 0, 0, 0)
            assert insn.kind is Kind.JUMP
            assert insn.signed == (op in (0x60, 0x70, 0xC0, 0xD0)), hex(op | cls)
    assert one(0x85, 0, 2, 0, 7).call_kind is CallKind.KFUNC
    assert one(0x85, 0, 0, 0, 7).call_kind is CallKind.HELPER


def test_targets_and_offsets() -> None:
    code = raw(0xB7) + raw(0x15, 1, 0, 2, 0) + raw(0x18, 1) + raw(0) + raw(0x06, imm=-4)
    code += raw(0x85, 0, 1, 0, -6) + raw(0x95)
    insns = decode(code, base_index=100)
    assert [i.index for i in insns] == [100, 101, 102, 104, 105, 106]
    assert [i.byte_offset for i in insns] == [800, 808, 816, 832, 840, 848]
    assert insns[1].target == 104  # 101 + 1 + 2: the ld_imm64 counts two slots
    assert insns[3].target == 101  # gotol: imm
    assert insns[4].target == 100  # pseudo call: imm
    assert insns[0].target is None and insns[5].target is None
    assert format_line(insns[1]) == "101: (15) if r1 == 0x0 goto pc+2"


def test_ld_imm64() -> None:
    data = bytes.fromhex("18010000f0debc9a0000000078563412")
    (insn,) = decode(data)
    assert (insn.kind, insn.size, insn.pseudo) == (Kind.LD_IMM64, 2, PseudoSrc.IMM)
    assert insn.imm64 == 0x123456789ABCDEF0
    assert insn.imm == struct.unpack("<i", bytes.fromhex("f0debc9a"))[0]
    assert insn.next_imm == 0x12345678
    assert format_insn(insn) == "r1 = 0x123456789abcdef0"
    assert format_insn(insn, symbols={0: "counts"}) == "r1 = counts+0x123456789abcdef0"
    assert encode([insn]) == data
    negative = raw(0x18, 2, 0, 0, -2) + raw(0, imm=-1)
    (neg,) = decode(negative)
    assert neg.imm64 == 0xFFFFFFFFFFFFFFFE and neg.next_imm == -1
    assert format_insn(neg) == "r2 = 0xfffffffffffffffe"
    assert encode([neg]) == negative
    # a global at an offset inside its section: the relocation names the section
    (bss,) = decode(raw(0x18, 1, 0, 0, 8) + raw(0))
    assert format_insn(bss, symbols={0: ".bss"}) == "r1 = .bss+0x8"
    for src in PseudoSrc:
        (ref,) = decode(raw(0x18, 1, src, 0, 5) + raw(0, imm=16))
        assert ref.valid and ref.pseudo is src
        assert format_insn(ref) == "r1 = 0x1000000005"
    (func,) = decode(raw(0x18, 2, PseudoSrc.FUNC, 0, 9) + raw(0))
    assert func.target == 10


def test_big_endian_register_nibbles() -> None:
    data = bytes.fromhex("bf16000000000000")  # r6 = r1 in little-endian
    (little,) = decode(data, "little")
    (big,) = decode(data, "big")
    assert (little.dst, little.src) == (6, 1)
    assert (big.dst, big.src) == (1, 6)
    jump = bytes.fromhex("1530006c00000000")  # if r3 == 0 goto +0x6c in bpfeb
    (insn,) = decode(jump, "big")
    assert (insn.dst, insn.src, insn.off, insn.imm) == (3, 0, 0x6C, 0)
    wide = bytes.fromhex("18100000123456780000000087654321")
    (ld,) = decode(wide, "big")
    assert (ld.dst, ld.imm64) == (1, 0x8765432112345678)
    assert encode([ld], "big") == wide


def test_helper_and_symbol_names() -> None:
    helpers = {1: "bpf_map_lookup_elem", 194: "bpf_kptr_xchg"}
    assert format_insn(one(0x85, 0, 0, 0, 1), helpers=helpers) == "call bpf_map_lookup_elem#1"
    # like the kernel: an id the table lacks is "unknown"; no table at all, no name
    assert format_insn(one(0x85, 0, 0, 0, 2), helpers=helpers) == "call unknown#2"
    assert format_insn(one(0x85, 0, 0, 0, 2)) == "call #2"
    kfunc = one(0x85, 0, 2, 0, 63604)
    assert format_insn(kfunc, symbols={0: "bpf_cpumask_create"}) == "call bpf_cpumask_create#63604"
    pseudo = one(0x85, 0, 1, 0, -1)
    assert format_insn(pseudo, symbols={0: "bpf_rcu_read_lock"}) == "call bpf_rcu_read_lock"
    assert format_insn(pseudo, symbols={1: "elsewhere"}) == "call pc-1"


INVALID = [
    ((0xE7, 1, 0, 0, 0), "ALU64 operation 0xe0"),
    ((0xF4, 1, 0, 0, 0), "ALU operation 0xf0"),
    ((0xDF, 1, 0, 0, 16), "source bit"),
    ((0xD4, 1, 0, 0, 8), "width 8"),
    ((0xD4, 1, 0, 1, 16), "reserved"),
    ((0x8F, 1, 2, 0, 0), "neg"),
    ((0x87, 1, 0, 0, 5), "neg"),
    ((0xBC, 1, 2, 32, 0), "ALU mov with off 32"),
    ((0xB7, 1, 0, 8, 0), "mov with off 8"),
    ((0xBC, 1, 2, 1, 0), "ALU mov with off 1"),
    ((0xBF, 1, 2, 1, 2), "addr_space_cast"),
    ((0xBF, 1, 2, 0, 3), "reserved field (imm)"),
    ((0x3F, 1, 2, 2, 0), "off 2"),
    ((0x0F, 1, 2, 1, 0), "off 1"),
    ((0x07, 1, 2, 0, 0), "has src 2"),
    ((0x0F, 11, 2, 0, 0), "r11"),
    ((0x0F, 1, 15, 0, 0), "r15"),
    ((0x86, 0, 0, 0, 1), "JMP | CALL | K only"),
    ((0x8D, 0, 0, 0, 1), "JMP | CALL | K only"),
    ((0x85, 0, 3, 0, 1), "unknown src 3"),
    ((0x85, 1, 0, 0, 1), "reserved field (dst)"),
    ((0x85, 0, 0, 4, 1), "reserved field (off)"),
    ((0x96, 0, 0, 0, 0), "exit is JMP"),
    ((0x95, 0, 0, 0, 1), "exit uses reserved"),
    ((0x0E, 1, 0, 0, 0), "JMP32 | JA | X"),
    ((0x05, 0, 0, 1, 5), "reserved field (imm)"),
    ((0x06, 0, 0, 1, 5), "reserved field (off)"),
    ((0xE6, 0, 0, 1, 0), "may_goto"),
    ((0xE5, 0, 1, 1, 0), "may_goto"),
    ((0xF5, 1, 0, 1, 0), "JMP operation 0xf0"),
    ((0x15, 1, 2, 1, 0), "nonzero src"),
    ((0x1D, 1, 2, 1, 3), "nonzero imm"),
    ((0x00, 0, 0, 0, 0), "mode IMM"),
    ((0x38, 0, 0, 0, 0), "double word"),
    ((0x30, 1, 0, 0, 0), "reserved"),
    ((0x60, 0, 0, 0, 0), "mode MEM"),
    ((0x99, 1, 2, 0, 0), "MEMSX and size DW"),
    ((0xA1, 1, 2, 0, 0), "unknown LDX mode 0xa0"),
    ((0x61, 1, 2, 0, 1), "reserved field (imm)"),
    ((0xC2, 1, 0, 0, 0), "ST with mode ATOMIC"),
    ((0x62, 1, 2, 0, 0), "reserved field (src)"),
    ((0x83, 1, 2, 0, 0), "STX with mode MEMSX"),
    ((0x63, 1, 2, 0, 1), "reserved field (imm)"),
    ((0xDB, 1, 2, 0, 0x11), "unknown atomic operation imm=0x11"),
    ((0xDB, 1, 2, 0, 0xE0), "unknown atomic operation imm=0xe0"),
    ((0xD3, 1, 2, 0, 0x00), "byte or half word"),
]


@pytest.mark.parametrize(("fields", "why"), INVALID, ids=[w for _, w in INVALID])
def test_invalid_encodings(fields: tuple[int, int, int, int, int], why: str) -> None:
    insn = one(*fields)
    assert not insn.valid and insn.kind is Kind.INVALID
    assert why in insn.reason
    assert insn.insn_class == InsnClass(fields[0] & 7)
    assert format_insn(insn) == f"invalid (code {fields[0]:#04x}): {insn.reason}"
    assert encode([insn]) == raw(*fields)


def test_ld_imm64_cut_short_or_malformed() -> None:
    # the bytes end after the first slot
    insns = decode(raw(0xB7) + raw(0x18, 1, 0, 0, 1))
    assert [(i.kind, i.size) for i in insns] == [(Kind.MOV, 1), (Kind.INVALID, 1)]
    assert "second slot" in insns[1].reason
    # the second slot is an instruction of its own: decoded on its own
    data = raw(0x18, 1, 0, 0, 1) + raw(0x95)
    first, second = decode(data)
    assert (first.valid, first.size, second.kind) == (False, 1, Kind.EXIT)
    assert "must have opcode" in first.reason
    assert encode([first, second]) == data
    reserved, rest = decode(raw(0x18, 1, 0, 3, 1) + raw(0))
    assert not reserved.valid and reserved.size == 1 and "off" in reserved.reason
    assert not rest.valid and rest.index == 1  # opcode 0 alone is not an instruction
    bad_src, _ = decode(raw(0x18, 1, 7, 0, 1) + raw(0))
    assert not bad_src.valid and "unknown src 7" in bad_src.reason


@pytest.mark.parametrize("length", [1, 7, 9, 15, 17, 23])
def test_length_not_a_multiple_of_8(length: int) -> None:
    data = (raw(0x95) * 3)[:length]
    with pytest.raises(InsnError) as info:
        decode(data)
    assert isinstance(info.value, KptrdocError)
    assert info.value.offset == length - length % 8
    assert f"at byte {length - length % 8}" in str(info.value)


def test_empty_and_arguments() -> None:
    assert decode(b"") == ()
    with pytest.raises(ValueError, match="byteorder"):
        decode(raw(0x95), "middle")  # type: ignore[arg-type]
    insn = one(0x95)
    with pytest.raises(ValueError):
        encode([insn.__class__(index=0, code=0x95, dst=16, src=0, off=0, imm=0)])
    with pytest.raises(ValueError):
        encode([insn.__class__(index=0, code=0x95, dst=0, src=0, off=1 << 15, imm=0)])
