"""Helpers for the instruction-decoder tests: fixtures, llvm-objdump, libbpf, the verifier log.

Independent truth comes from three places, none of which shares code with
``kptrdoc.insn``:

* ``llvm-objdump-19 -d --mcpu=v4`` reads the same objects (``--mcpu=v4``:
  without it LLVM 19 prints ``<unknown>`` for the 32-bit atomics other than
  ``add``);
* libbpf (``bpf_object__prepare`` + ``bpf_program__insns``) gives a program's
  instructions as they go to the kernel;
* the running kernel's verifier log prints each instruction as
  ``N: (op) text``.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kptrdoc.insn import Endian, Instruction, Kind, Source, encode
from kptrdoc.insn.wire import ByteOrder

LLVM_OBJDUMP = "llvm-objdump-19"
CPUS = ("v1", "v2", "v3", "v4")
TARGETS = ("bpfel", "bpfeb")

# A fixture that exercises every instruction class clang emits: written to a
# temporary directory and compiled for each -mcpu and byte order. No kernel
# headers: plain types, and only libbpf's bpf_helpers.h / bpf_endian.h.
FIXTURE_SOURCE = r"""
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef __u64 u64;
typedef __u32 u32;
typedef __u16 u16;
typedef __s64 s64;
typedef __s32 s32;
typedef __s16 s16;
typedef __s8 s8;

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct xdp_md { u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex; };
struct __sk_buff { u32 len, pkt_type, mark, queue_mapping, protocol; };

struct {
    __uint(type, 2 /* BPF_MAP_TYPE_ARRAY */);
    __uint(max_entries, 4);
    __type(key, u32);
    __type(value, u64);
} counts SEC(".maps");

u64 total = 0;
u32 total32 = 0;
s64 sresult = 0;
const volatile u32 knob = 7;
char buf[16] = {};

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

static __noinline u64 mix(u64 a, u32 b)
{
    u32 x = (u32)a * b + 3;
    x ^= b >> 3;
    x = x << (b & 7);
    a = (a >> 5) | ((u64)x << 17);
    a -= b;
    a %= (b | 1);
    a /= ((b & 0xff) + 1);
    a ^= 0x123456789abcdef0ULL;
    a += 0xfedcba9876543210ULL;
    return a ^ -a;
}

__noinline int global_sub(int v)
{
    return v * 7 - (int)knob + ((s32)v >> 2);
}

static __noinline int cmp32(u32 a, u32 b, s32 c)
{
    int r = 0;
    if (a < b) r |= 1;
    if (a <= 100) r |= 2;
    if (c > -5) r |= 4;
    if (c <= 9) r |= 8;
    if (a != b) r |= 16;
    if ((s32)b >= c) r |= 32;
    if (a & 0x40) r |= 64;
    if ((s64)a > (s64)c) r |= 128;
    return r;
}

static __noinline u64 swaps(u64 v)
{
    u16 h = __builtin_bswap16((u16)v);
    u32 w = __builtin_bswap32((u32)v);
    u64 d = __builtin_bswap64(v);
    return h + w + d + bpf_htons((u16)(v >> 8)) + bpf_ntohl((u32)(v >> 16));
}

#if __BPF_CPU_VERSION__ >= 4
static __noinline s64 signed_ops(s64 a, s32 b, s8 *p, s16 *q, s32 *r)
{
    s64 x = a / (s64)b;
    s64 y = a % 13;
    s32 z = b / 5;
    s32 t = b % (s32)a;
    s64 e = (s8)a + (s16)b + (s32)(a >> 3);
    return x + y + z + t + e + *p + *q + *r;
}
#endif

SEC("xdp")
int prog(struct xdp_md *ctx)
{
    u32 key = ctx->ingress_ifindex & 3;
    u64 *val = bpf_map_lookup_elem(&counts, &key);
    u64 v;

    if (!val)
        return 0;
    v = mix(*val, key);
    v += swaps(v);
    v += cmp32((u32)v, key, (s32)(v >> 32));
    v += global_sub((int)v);
    __sync_fetch_and_add(&total, v);
    __sync_fetch_and_add(&total32, 1);
#if __BPF_CPU_VERSION__ >= 3
    __sync_fetch_and_or(&total, 2);
    __sync_fetch_and_and(&total, ~4ULL);
    __sync_fetch_and_xor(&total32, 8);
    v += __sync_fetch_and_add(&total, 5);
    v += __sync_fetch_and_or(&total32, 6);
    v += __sync_fetch_and_and(&total, 7);
    v += __sync_fetch_and_xor(&total32, 9);
    v += __sync_lock_test_and_set(&total, v);
    v += __sync_lock_test_and_set(&total32, 11);
    v += __sync_val_compare_and_swap(&total, 3, v);
    v += __sync_val_compare_and_swap(&total32, 3, 12);
#endif
#if __BPF_CPU_VERSION__ >= 4
    {
        s8 a = (s8)buf[1];
        s16 b = *(s16 *)&buf[2];
        s32 c = *(s32 *)&buf[4];
        sresult = signed_ops((s64)v, (s32)key, &a, &b, (s32 *)&buf[8]) + c;
    }
    asm volatile("gotol +1; r0 = 1; may_goto +1; r0 = 2;" ::: "r0");
    asm volatile("r1 = addr_space_cast(r1, 0, 1)" ::: "r1");
#endif
    asm volatile("r0 = be16 r0; r0 = le32 r0; r0 = le64 r0; r0 = be64 r0; r0 = -r0;"
             "r0 s>>= 3; r0 s>>= r1; r0 = 0x123456789 ll; goto +1; r0 = 3;" ::: "r0");
    asm volatile("*(u32 *)(r10 - 8) = 5; *(u64 *)(r10 - 16) = -1; *(u8 *)(r10 - 1) = 3;"
             "*(u16 *)(r10 - 4) = 7;" ::: "memory");
    asm volatile("if r0 & r1 goto +0; if r0 s<= r1 goto +0; if r0 >= 5 goto +0;"
             "if r0 <= r1 goto +0; if r0 s< 1 goto +0; if r0 > r1 goto +0;"
             "if r0 s>= -3 goto +0; if r0 != 0x7fffffff goto +0;" ::: "r0");
    bpf_rcu_read_lock();
    bpf_rcu_read_unlock();
    *val = v + bpf_ktime_get_ns();
    buf[0] = (char)v;
    return v > 1000 ? 2 : 1;
}

SEC("socket")
int legacy(struct __sk_buff *skb)
{
    u64 a = load_byte(skb, 12);
    u64 b = load_half(skb, a);
    u64 c = load_word(skb, 14);
    return (int)(a + b + c);
}

char LICENSE[] SEC("license") = "GPL";
"""


def build_fixture(out_dir: Path, cpu: str, target: str) -> Path:
    """Compile :data:`FIXTURE_SOURCE` with ``clang -g -O2 -target <target> -mcpu=<cpu>``."""
    from kptrdoc.toolchain import clang, libbpf

    src = out_dir / "exercise.c"
    if not src.exists():
        src.write_text(FIXTURE_SOURCE)
    out = out_dir / f"exercise-{cpu}-{target}.o"
    cmd = [str(clang()), "-g", "-O2", "-target", target, f"-mcpu={cpu}",
           "-I", str(libbpf().include_dir), "-c", str(src), "-o", str(out)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"clang failed for -mcpu={cpu} -target {target}:\n{proc.stderr}")
    return out


# --------------------------------------------------------------------------
# llvm-objdump
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LlvmSlot:
    """One instruction line of ``llvm-objdump -d``: slot index, bytes, text."""

    index: int
    raw: bytes
    text: str


_SECTION = re.compile(r"^Disassembly of section (.+):$")
_INSN_LINE = re.compile(r"^\s*(\d+):\t([0-9a-f]{2}(?: [0-9a-f]{2})*)\s*\t(.*)$")


def have_llvm_objdump() -> bool:
    return shutil.which(LLVM_OBJDUMP) is not None


def objdump(path: Path) -> dict[str, list[LlvmSlot]]:
    """Section name -> the instruction lines llvm-objdump prints for it."""
    out = subprocess.run(
        [LLVM_OBJDUMP, "-d", "--mcpu=v4", str(path)], capture_output=True, text=True, check=True
    ).stdout
    sections: dict[str, list[LlvmSlot]] = {}
    current: list[LlvmSlot] | None = None
    for line in out.splitlines():
        if m := _SECTION.match(line):
            current = sections.setdefault(m.group(1), [])
        elif (m := _INSN_LINE.match(line)) and current is not None:
            raw = bytes.fromhex(m.group(2))
            current.append(LlvmSlot(int(m.group(1)), raw, m.group(3).strip()))
    return sections


_NUM = r"-?0x[0-9a-f]+"
_ADDR = r"r\d+ (?P<sign>[+-]) (?P<off>0x[0-9a-f]+)"
_MEM = rf"\({_ADDR}\)"
_R = r"[rw]\d+"
# llvm's text forms, each with the fields it shows
_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("exit", r"^exit$"),
        ("call", rf"^call (?P<imm>{_NUM})$"),
        ("goto", r"^goto (?P<off>[+-]0x[0-9a-f]+)"),
        ("gotol", r"^gotol (?P<imm>[+-]0x[0-9a-f]+)"),
        ("may_goto", r"^may_goto (?P<off>[+-]0x[0-9a-f]+)"),
        ("jump", rf"^if {_R} (?P<op>\S+) (?:{_R}|(?P<imm>{_NUM})) goto (?P<off>[+-]0x[0-9a-f]+)"),
        ("ld_imm64", rf"^r\d+ = (?P<imm>{_NUM}) ll$"),
        ("ld_abs", rf"^r0 = \*\(u(?P<width>\d+) \*\)skb\[(?P<imm>{_NUM})\]$"),
        ("ld_ind", r"^r0 = \*\(u(?P<width>\d+) \*\)skb\[r\d+\]$"),
        ("load", rf"^{_R} = \*\((?P<su>[us])(?P<width>\d+) \*\){_MEM}$"),
        ("store", rf"^\*\(u(?P<width>\d+) \*\){_MEM} = {_R}$"),
        ("store_imm", rf"^\*\(u(?P<width>\d+) \*\){_MEM} = (?P<imm>{_NUM})$"),
        ("lock", rf"^lock \*\(u(?P<width>\d+) \*\){_MEM} (?P<op>\S+) {_R}$"),
        ("fetch", rf"^{_R} = atomic_fetch_(?P<op>\w+)\(\(u(?P<width>\d+) \*\){_MEM}, {_R}\)$"),
        ("xchg", rf"^{_R} = xchg(?:32)?_(?P<width>\d+)\({_ADDR}, {_R}\)$"),
        ("cmpxchg", rf"^{_R} = cmpxchg(?:32)?_(?P<width>\d+)\({_ADDR}, {_R}, {_R}\)$"),
        ("swap", r"^r\d+ = (?P<op>be|le|bswap)(?P<width>\d+) r\d+$"),
        ("cast", rf"^r\d+ = addr_space_cast\(r\d+, (?P<a>{_NUM}), (?P<b>{_NUM})\)$"),
        ("neg", rf"^{_R} = -{_R}$"),
        ("alu_x", rf"^{_R} (?P<op>\S+) (?:\(s(?P<width>\d+)\))?{_R}$"),
        ("alu_k", rf"^{_R} (?P<op>\S+) (?P<imm>{_NUM})$"),
    )
)
_REGISTER = re.compile(r"\b([rw])(\d+)\b")


@dataclass(frozen=True)
class LlvmView:
    """What llvm's text for one instruction says, field by field (None: not shown)."""

    form: str
    registers: tuple[tuple[str, int], ...]
    op: str | None = None
    width: int | None = None
    signed: bool | None = None
    off: int | None = None
    imm: int | None = None
    cast: tuple[int, int] | None = None


def read_llvm(text: str) -> LlvmView:
    registers = tuple((m.group(1), int(m.group(2))) for m in _REGISTER.finditer(text))
    for form, pattern in _FORMS:
        m = pattern.match(text)
        if m is None:
            continue
        groups = m.groupdict()
        off = None
        if groups.get("off") is not None:
            off = int(groups["off"], 0)
            if groups.get("sign") == "-":
                off = -off
        return LlvmView(
            form=form,
            registers=registers,
            op=groups.get("op"),
            width=int(groups["width"]) if groups.get("width") else None,
            signed=groups["su"] == "s" if groups.get("su") else None,
            off=off,
            imm=int(groups["imm"], 0) if groups.get("imm") else None,
            cast=(int(groups["a"], 0), int(groups["b"], 0)) if groups.get("a") else None,
        )
    return LlvmView(form="unparsed", registers=registers)


# What this test knows of llvm's spelling, per decoded operation.
_LLVM_ALU = {"ADD": "+=", "SUB": "-=", "MUL": "*=", "DIV": "/=", "OR": "|=", "AND": "&=",
             "LSH": "<<=", "RSH": ">>=", "MOD": "%=", "XOR": "^=", "MOV": "=",
             "ARSH": "s>>="}  # fmt: skip
_LLVM_SIGNED_ALU = {"DIV": "s/=", "MOD": "s%="}
_LLVM_JUMP = {"JEQ": "==", "JNE": "!=", "JGT": ">", "JGE": ">=", "JLT": "<", "JLE": "<=",
              "JSGT": "s>", "JSGE": "s>=", "JSLT": "s<", "JSLE": "s<=", "JSET": "&"}  # fmt: skip
_LLVM_LOCK = {"ADD": "+=", "OR": "|=", "AND": "&=", "XOR": "^="}


def _signed64(value: int) -> int:
    return value - (1 << 64) if value & (1 << 63) else value


def expected_view(insn: Instruction) -> LlvmView:
    """What llvm's text should show for ``insn``, built from the decoded fields only."""
    letter = "w" if insn.is_32bit else "r"
    d, s = insn.dst, insn.src
    width = insn.width.bytes * 8 if insn.width is not None else None
    k = insn.kind
    if k in (Kind.ALU, Kind.MOV, Kind.MOVSX):
        op_name = insn.alu_op.name if insn.alu_op is not None else "?"
        op = (_LLVM_SIGNED_ALU if insn.signed and k is Kind.ALU else _LLVM_ALU)[op_name]
        if insn.source is Source.K:
            return LlvmView("alu_k", ((letter, d),), op=op, imm=insn.imm)
        cast = insn.off if k is Kind.MOVSX else None
        return LlvmView("alu_x", ((letter, d), (letter, s)), op=op, width=cast)
    if k is Kind.NEG:
        return LlvmView("neg", ((letter, d), (letter, d)))
    if k in (Kind.END, Kind.BSWAP):
        op = "bswap" if k is Kind.BSWAP else ("be" if insn.endian is Endian.BE else "le")
        return LlvmView("swap", (("r", d), ("r", d)), op=op, width=insn.imm)
    if k is Kind.ADDR_SPACE_CAST:
        imm = insn.imm & 0xFFFFFFFF
        return LlvmView("cast", (("r", d), ("r", s)), cast=(imm >> 16, imm & 0xFFFF))
    if k is Kind.LD_IMM64:
        assert insn.imm64 is not None
        return LlvmView("ld_imm64", (("r", d),), imm=_signed64(insn.imm64))
    if k is Kind.LD_ABS:
        return LlvmView("ld_abs", (("r", 0),), width=width, imm=insn.imm)
    if k is Kind.LD_IND:
        return LlvmView("ld_ind", (("r", 0), ("r", s)), width=width)
    if k in (Kind.LOAD, Kind.LOAD_SX):
        return LlvmView("load", (("?", d), ("r", s)), width=width, signed=insn.signed, off=insn.off)
    if k is Kind.STORE:
        return LlvmView("store", (("r", d), ("?", s)), width=width, off=insn.off)
    if k is Kind.STORE_IMM:
        return LlvmView("store_imm", (("r", d),), width=width, off=insn.off, imm=insn.imm)
    if k is Kind.ATOMIC:
        op_name = insn.atomic_op.name if insn.atomic_op is not None else "?"
        if op_name == "XCHG":
            return LlvmView("xchg", (("?", s), ("r", d), ("?", s)), width=width, off=insn.off)
        if op_name == "CMPXCHG":
            regs = (("?", 0), ("r", d), ("?", 0), ("?", s))
            return LlvmView("cmpxchg", regs, width=width, off=insn.off)
        if insn.fetch:
            regs = (("?", s), ("r", d), ("?", s))
            return LlvmView("fetch", regs, op=op_name.lower(), width=width, off=insn.off)
        return LlvmView("lock", (("r", d), ("?", s)), op=_LLVM_LOCK[op_name], width=width,
                        off=insn.off)  # fmt: skip
    if k is Kind.JUMP:
        op = _LLVM_JUMP[insn.jump_op.name if insn.jump_op is not None else "?"]
        if insn.source is Source.K:
            return LlvmView("jump", ((letter, d),), op=op, imm=insn.imm, off=insn.off)
        return LlvmView("jump", ((letter, d), (letter, s)), op=op, off=insn.off)
    if k is Kind.GOTO:
        return LlvmView("goto", (), off=insn.off)
    if k is Kind.GOTOL:
        return LlvmView("gotol", (), imm=insn.imm)
    if k is Kind.MAY_GOTO:
        return LlvmView("may_goto", (), off=insn.off)
    if k is Kind.CALL:
        return LlvmView("call", (), imm=insn.imm)
    if k is Kind.EXIT:
        return LlvmView("exit", ())
    return LlvmView(f"no llvm form for {k.value}", ())


def mismatches(insn: Instruction, slot: LlvmSlot, byteorder: ByteOrder) -> list[str]:
    """Every way ``insn`` disagrees with llvm-objdump's line for the same slot."""
    where = f"slot {slot.index} ({slot.raw.hex(' ')}: {slot.text!r})"
    problems: list[str] = []
    if insn.index != slot.index:
        return [f"{where}: decoded as slot {insn.index}"]
    if not insn.valid:
        return [f"{where}: decoded as invalid: {insn.reason}"]
    if insn.code != slot.raw[0]:
        problems.append(f"{where}: opcode {insn.code:#04x}, llvm shows {slot.raw[0]:#04x}")
    if len(slot.raw) != insn.size * 8:
        problems.append(f"{where}: {insn.size} slot(s), llvm shows {len(slot.raw)} bytes")
    if encode([insn], byteorder) != slot.raw:
        problems.append(f"{where}: encodes back to {encode([insn], byteorder).hex(' ')}")
    got = read_llvm(slot.text)
    want = expected_view(insn)
    if got.form != want.form:
        return [
            *problems,
            f"{where}: llvm form {got.form}, decoded {insn.kind.value} ({want.form})",
        ]
    if len(got.registers) != len(want.registers):
        problems.append(f"{where}: registers {got.registers}, expected {want.registers}")
    else:
        for (gl, gn), (wl, wn) in zip(got.registers, want.registers, strict=True):
            if gn != wn or (wl != "?" and gl != wl):
                problems.append(f"{where}: registers {got.registers}, expected {want.registers}")
                break
    for name in ("op", "width", "signed", "off", "imm", "cast"):
        g, w = getattr(got, name), getattr(want, name)
        if g != w:
            problems.append(f"{where}: {name} llvm={g!r} decoded={w!r}")
    return problems


# --------------------------------------------------------------------------
# libbpf and the verifier log
# --------------------------------------------------------------------------


def _libbpf() -> ctypes.CDLL:
    from kptrdoc.toolchain import libbpf

    lib = ctypes.CDLL(str(libbpf().so_path), use_errno=True)
    vp, cp = ctypes.c_void_p, ctypes.c_char_p
    sigs: dict[str, tuple[object, list[object]]] = {
        "bpf_object__open_file": (vp, [cp, vp]),
        "bpf_object__prepare": (ctypes.c_int, [vp]),
        "bpf_object__close": (None, [vp]),
        "bpf_object__next_program": (vp, [vp, vp]),
        "bpf_object__next_map": (vp, [vp, vp]),
        "bpf_map__pin_path": (cp, [vp]),
        "bpf_program__name": (cp, [vp]),
        "bpf_program__set_autoload": (ctypes.c_int, [vp, ctypes.c_bool]),
        "bpf_program__insns": (vp, [vp]),
        "bpf_program__insn_cnt": (ctypes.c_size_t, [vp]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


@contextmanager
def _opened(lib: ctypes.CDLL, path: Path) -> Iterator[int]:
    obj = lib.bpf_object__open_file(str(path).encode(), None)
    if not obj:
        raise AssertionError(f"libbpf cannot open {path}")
    try:
        yield obj
    finally:
        lib.bpf_object__close(obj)


def pins_maps(path: Path) -> bool:
    """True if libbpf would pin a map of this object (prepare would pin it under /sys/fs/bpf)."""
    lib = _libbpf()
    with _opened(lib, path) as obj:
        m = lib.bpf_object__next_map(obj, None)
        while m:
            if lib.bpf_map__pin_path(m):
                return True
            m = lib.bpf_object__next_map(obj, m)
    return False


def prepared_instructions(path: Path, program: str) -> bytes:
    """The instructions libbpf would load for ``program`` (relocated, subprograms appended).

    ``bpf_object__prepare`` creates the maps and does every relocation, but
    loads nothing; closing the object releases the maps again.
    """
    lib = _libbpf()
    with _opened(lib, path) as obj:
        target = None
        prog = lib.bpf_object__next_program(obj, None)
        while prog:
            wanted = lib.bpf_program__name(prog).decode() == program
            lib.bpf_program__set_autoload(prog, wanted)
            if wanted:
                target = prog
            prog = lib.bpf_object__next_program(obj, prog)
        assert target is not None, f"{path}: no program {program}"
        rc = lib.bpf_object__prepare(obj)
        assert rc == 0, f"{path}: bpf_object__prepare failed ({rc})"
        count = lib.bpf_program__insn_cnt(target)
        return ctypes.string_at(lib.bpf_program__insns(target), count * 8)


# "12: (07) r2 += -12    ; R2=fp-12" and, in the 6.18+ liveness listing,
# "     12: ..2...6... (07) r2 += -12"
_LOG_INSN = re.compile(r"^\s*(\d+): (?:[.0-9]+ )?\(([0-9a-f]{2})\) ([^;]*?)\s*(?:;.*)?$")


def verifier_lines(log: str) -> dict[int, set[tuple[int, str]]]:
    """Slot index -> every (opcode, text) the verifier log printed for it."""
    out: dict[int, set[tuple[int, str]]] = {}
    for line in log.splitlines():
        if m := _LOG_INSN.match(line):
            out.setdefault(int(m.group(1)), set()).add((int(m.group(2), 16), m.group(3)))
    return out
