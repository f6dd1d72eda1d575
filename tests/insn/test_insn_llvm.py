"""The decoder against llvm-objdump-19, slot by slot, on every sample and on fixtures.

For each instruction: the slot index, the opcode byte and the byte count
(llvm's raw bytes), the bytes ``encode`` writes back, and every field
llvm's text shows — registers (and ``w``/``r`` for 32/64-bit arithmetic and
jumps), operator, width, signedness, offset, immediate. The texts are not
compared with each other: llvm's syntax is not the kernel's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from insn_support import CPUS, TARGETS, build_fixture, have_llvm_objdump, mismatches, objdump

from kptrdoc.compile import CompileError, compile_main, loadable_samples
from kptrdoc.elf import read_object
from kptrdoc.insn import CallKind, Instruction, Kind, PseudoSrc, decode, format_insn

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = loadable_samples(ROOT / "samples")

pytestmark = pytest.mark.skipif(not have_llvm_objdump(), reason="llvm-objdump-19 is not installed")


def compare(path: Path) -> list[Instruction]:
    """Decode every executable section of ``path``, assert it agrees with llvm, return it all."""
    obj = read_object(path)
    listing = objdump(path)
    decoded: list[Instruction] = []
    problems: list[str] = []
    for section in obj.sections.values():
        if not section.executable or not section.data:
            continue
        insns = decode(section.data, obj.byte_order)  # type: ignore[arg-type]
        slots = listing.get(section.name, [])
        ours = [i.index for i in insns]
        theirs = [s.index for s in slots]
        assert ours == theirs, f"{path.name} [{section.name}]: slot indexes differ"
        for insn, slot in zip(insns, slots, strict=True):
            problems += [f"[{section.name}] {p}" for p in mismatches(insn, slot, obj.byte_order)]  # type: ignore[arg-type]
            assert format_insn(insn)
        decoded += insns
    assert not problems, f"{path.name}:\n" + "\n".join(problems[:40])
    return decoded


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_objects_match_llvm(sample: Path) -> None:
    try:
        compiled = compile_main(sample)
    except CompileError as exc:
        pytest.skip(f"the sample does not compile: {exc}")
    insns = compare(compiled.path)
    assert insns, f"{sample}: no instructions decoded"


@pytest.fixture(scope="module")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("insn-fixtures")


def _forms(insns: list[Instruction]) -> set[str]:
    """Names for the forms an object contains, to check that a fixture exercises them."""
    out: set[str] = set()
    for i in insns:
        out.add(i.kind.value)
        if i.kind is Kind.ALU and i.signed:
            out.add("sdiv/smod")
        if i.kind is Kind.ATOMIC:
            op = i.atomic_op.name.lower() if i.atomic_op is not None else "?"
            size = i.width.name if i.width is not None else "?"
            out.add(f"atomic {op}{' fetch' if i.fetch else ''} {size}")
        if i.kind is Kind.JUMP and i.is_32bit:
            out.add("jmp32")
        if i.kind in (Kind.ALU, Kind.MOV) and i.is_32bit:
            out.add("alu32")
        if i.kind is Kind.END and i.endian is not None:
            out.add(f"end {i.endian.name.lower()}")
    return out


ALWAYS = {"alu", "mov", "neg", "end", "end be", "end le", "ld_imm64", "ld_abs", "ld_ind",
          "load", "store", "store_imm", "jump", "goto", "call", "exit",
          "atomic add DW", "atomic add W"}  # fmt: skip
FROM_V3 = {"jmp32", "alu32", "atomic or DW", "atomic and DW", "atomic xor W",
           "atomic add fetch DW", "atomic or fetch W", "atomic and fetch DW",
           "atomic xor fetch W", "atomic xchg fetch DW", "atomic xchg fetch W",
           "atomic cmpxchg fetch DW", "atomic cmpxchg fetch W"}  # fmt: skip
FROM_V4 = {"bswap", "movsx", "load_sx", "sdiv/smod", "gotol", "may_goto", "addr_space_cast"}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("cpu", CPUS)
def test_fixture_matches_llvm(cpu: str, target: str, fixture_dir: Path) -> None:
    path = build_fixture(fixture_dir, cpu, target)
    assert read_object(path).byte_order == ("big" if target == "bpfeb" else "little")
    insns = compare(path)
    version = int(cpu[1])
    wanted = ALWAYS | (FROM_V3 if version >= 3 else set()) | (FROM_V4 if version >= 4 else set())
    missing = wanted - _forms(insns)
    assert not missing, f"-mcpu={cpu} -target {target}: the fixture did not exercise {missing}"
    assert all(i.valid for i in insns)


@pytest.mark.parametrize("target", TARGETS)
def test_wrong_byte_order_disagrees_with_llvm(target: str, fixture_dir: Path) -> None:
    """The comparison can fail: the same object read in the other byte order disagrees."""
    path = build_fixture(fixture_dir, "v3", target)
    obj = read_object(path)
    wrong = "little" if obj.byte_order == "big" else "big"
    section = obj.sections["xdp"]
    slots = objdump(path)["xdp"]
    insns = decode(section.data, wrong)
    problems = [
        p
        for insn, slot in zip(insns, slots, strict=False)
        for p in mismatches(insn, slot, obj.byte_order)  # type: ignore[arg-type]
    ]
    assert len(problems) > len(slots) // 2


@pytest.mark.parametrize("target", TARGETS)
def test_relocated_calls_and_loads(target: str, fixture_dir: Path) -> None:
    """What the ELF relocations point at: kfunc/global calls, map and global loads."""
    path = build_fixture(fixture_dir, "v4", target)
    obj = read_object(path)
    insns = {i.index: i for i in decode(obj.sections["xdp"].data, obj.byte_order)}  # type: ignore[arg-type]
    relocs = {r.offset // 8: r.symbol for r in obj.relocations["xdp"]}
    by_symbol = {name: insns[index] for index, name in relocs.items()}

    for kfunc in ("bpf_rcu_read_lock", "bpf_rcu_read_unlock", "global_sub"):
        call = by_symbol[kfunc]
        # clang leaves kfunc and global-function calls as pseudo calls to -1; libbpf fills them
        assert (call.kind, call.call_kind, call.imm) == (Kind.CALL, CallKind.SUBPROG, -1)
        assert format_insn(call, symbols=relocs) == f"call {kfunc}"
        assert format_insn(call) == "call pc-1"
    for data in ("counts", "total", "total32"):
        load = by_symbol[data]
        assert (load.kind, load.pseudo, load.imm64, load.size) == (
            Kind.LD_IMM64,
            PseudoSrc.IMM,
            0,
            2,
        )
        assert format_insn(load, symbols=relocs) == f"r{load.dst} = {data}"
    # calls to static functions are relocated against the section symbol, with imm + 1
    # the function's slot in that section
    functions = {s.value // 8: s.name for s in obj.symbols_in(".text") if s.type == "FUNC"}
    static_calls = [insns[index] for index, name in relocs.items() if name == ".text"]
    assert {functions[c.imm + 1] for c in static_calls} == {"mix", "swaps", "cmp32", "signed_ops"}
    assert all(c.call_kind is CallKind.SUBPROG for c in static_calls)
    helpers = [i for i in insns.values() if i.kind is Kind.CALL and i.index not in relocs]
    assert {(i.call_kind, i.imm) for i in helpers} == {(CallKind.HELPER, 1), (CallKind.HELPER, 5)}
