"""The *registers* and *defined* evidence (``kptrdoc/handler/registers.py``), checked
against tools that read the same builds another way: llvm-objdump for the offset each
instruction reads, pahole for the running kernel's ``struct pt_regs``, and clang's own
``-dM`` for which registers and targets each architecture's build defines."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from kptrdoc.compile import compile_flags, compile_sample
from kptrdoc.handler.evidence import SampleContext, Usage
from kptrdoc.handler.registers import (
    Definitions,
    RegisterEvidence,
    Registers,
    _cast_type,
    register_macro,
    register_table,
)
from kptrdoc.toolchain import clang, target_arch
from kptrdoc.variants import ARCHES, NO_ARCH, Variant, read_variants

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
PARAMS = SAMPLES / "PT_REGS_PARM1" / "params.bpf.c"
NAMES = tuple(f"PT_REGS_PARM{n}{core}" for core in ("", "_CORE") for n in range(1, 9))


def _evidence(path: Path, names: tuple[str, ...]) -> tuple[list, SampleContext]:
    source = path.read_text()
    context = SampleContext(path, source, None, Usage(names[0], names, frozenset()))
    return Registers().collect(context), context


def _variant(path: Path, column: str) -> Variant:
    for variant in read_variants(path):
        label = variant.arch or f"{target_arch()} (example)"
        if label == column and variant.error is None:
            return variant
    raise AssertionError(f"no build {column} in {path.name}")


def _objdump_operand(obj: Path, program: str, index: int) -> int:
    """The offset (``+ 0x70``) or immediate (``+= 0x70``) of one instruction of one
    program, as llvm-objdump decodes it."""
    out = subprocess.run(
        ["llvm-objdump-19", "-d", "--no-show-raw-insn", f"--disassemble-symbols={program}",
         str(obj)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    start = re.search(rf"^([0-9a-f]+) <{re.escape(program)}>:", out, re.M)
    assert start, out
    slot = int(start.group(1), 16) // 8 + index
    line = re.search(rf"^\s*{slot}:\s+(.*)$", out, re.M)
    assert line, (program, index, out)
    numbers = re.findall(r"(-?0x[0-9a-f]+)", line.group(1))
    assert numbers, line.group(1)
    return int(numbers[-1], 16)


def test_every_read_is_what_llvm_objdump_decodes_and_clang_lays_out() -> None:
    found, context = _evidence(PARAMS, NAMES)
    assert not context.problems
    table = register_table(found)
    # this machine's build and all ten architectures, eight rows (four plain, four _CORE)
    assert set(table.arches) == {f"{target_arch()} (example)", *ARCHES}
    assert len(table.rows) == 8 and table.unchecked == 0
    for row in table.rows:
        for cell in row.cells:
            assert cell is not None and not cell.error and cell.via != "none", (row.macro, cell)
            assert cell.checked, cell  # offsetof, compiled apart, agrees
            obj = compile_sample(PARAMS, _variant(PARAMS, cell.arch)).path
            assert _objdump_operand(obj, cell.program, cell.insn or 0) == cell.offset, cell
            # a plain read is a load, a _CORE one a relocated address for a probe read
            assert ("_CORE" in row.macro) == (" = *(" not in cell.text), cell


def test_x86_example_reads_the_kernels_pt_regs_as_our_btf_reader_has_it() -> None:
    """The x86 column of this machine's build: each offset is the member's offset in the
    running kernel's ``struct pt_regs``, read from /sys/kernel/btf/vmlinux by kptrdoc's
    BTF reader (and, in the next test, by pahole)."""
    from kptrdoc.btf.load import load_btf
    from kptrdoc.btf.types import Struct

    if target_arch() != "x86":
        pytest.skip("needs an x86-64 machine")
    (pt_regs,) = load_btf("/sys/kernel/btf/vmlinux").by_name("pt_regs", Struct)
    assert isinstance(pt_regs, Struct)
    offsets = {m.name: m.bit_offset // 8 for m in pt_regs.members}
    for path in (PARAMS, SAMPLES / "PT_REGS_PARM1_SYSCALL" / "syscall.bpf.c",
                 SAMPLES / "PT_REGS_RC" / "entry.bpf.c"):  # fmt: skip
        names = tuple(
            f"PT_REGS_{what}" for what in (*(f"PARM{n}" for n in range(1, 7)), "IP", "SP")
        ) + tuple(f"PT_REGS_PARM{n}{c}_SYSCALL" for c in ("", "_CORE") for n in range(1, 7))
        found, _ = _evidence(path, names + tuple(n + "_CORE" for n in names[:8]))
        example = [r for e in found for r in e.reads if r.arch == "x86 (example)"]
        assert example, path
        for read in example:
            assert read.offset == offsets[read.field], (path.name, read)


def test_x86_example_reads_the_kernels_pt_regs_as_pahole_lays_it_out() -> None:
    if target_arch() != "x86" or shutil.which("pahole") is None:
        pytest.skip("needs an x86-64 machine and pahole")
    layout = subprocess.run(
        ["pahole", "-C", "pt_regs", "/sys/kernel/btf/vmlinux"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    offsets = {name: int(at) for name, at in re.findall(r"\s(\w+);\s+/\*\s+(\d+)\s", layout)}
    found, _ = _evidence(PARAMS, NAMES)
    example = [r for e in found for r in e.reads if r.arch == "x86 (example)"]
    assert {r.field for r in example} == {"di", "si", "dx", "cx"}
    for read in example:
        assert read.via == "CO-RE" and read.struct == "struct pt_regs"
        assert read.offset == offsets[read.field], (read, layout)


def _final_macros(path: Path, variant: Variant) -> dict[str, str]:
    """clang -E -dM of the sample with the build's flags: every macro at its end."""
    out = subprocess.run(
        [str(clang()), *compile_flags(path, variant), "-E", "-dM", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = {}
    for line in out.splitlines():
        match = re.match(r"#define (\w+)(\([^)]*\))? ?(.*)", line)
        if match:
            found[match[1]] = match[3]
    return found


@pytest.mark.parametrize("sample", ["parm7", "parm5", "parm6"])
def test_a_register_the_header_lacks_is_a_build_that_fails(sample: str) -> None:
    """A cell says *does not compile* exactly where clang's -dM, for that architecture,
    has the register macro expand to ``__unsupported__``."""
    path = SAMPLES / "PT_REGS_PARM1" / f"{sample}.bpf.c"
    number = sample.removeprefix("parm")
    found, context = _evidence(path, (f"PT_REGS_PARM{number}", f"PT_REGS_PARM{number}_CORE"))
    assert not context.problems
    cells = {r.arch: r for e in found for r in e.reads if r.macro == f"PT_REGS_PARM{number}"}
    assert set(ARCHES) <= set(cells)
    for arch in ARCHES:
        build = next(v for v in read_variants(path) if v.arch == arch)
        macros = _final_macros(path, Variant(arch=arch))  # -dM needs no member to exist
        lacks = macros[f"__PT_PARM{number}_REG"] == "__unsupported__"
        assert lacks == bool(cells[arch].error) == (build.error is not None), arch


def test_target_table_is_what_each_build_defines() -> None:
    path = SAMPLES / "bpf_target_defined" / "target.bpf.c"
    names = ("bpf_target_defined", "__BPF_TARGET_MISSING", *(f"bpf_target_{a}" for a in ARCHES))
    context = SampleContext(path, path.read_text(), None, Usage(names[0], names, frozenset()))
    (evidence,) = Definitions().collect(context)
    assert not context.problems
    builds = [v for v in read_variants(path) if v.error is None]
    assert len(evidence.builds) == len(builds) == len(ARCHES) + 2
    for column, variant in enumerate(builds):
        truth = _final_macros(path, variant)
        for row, name in enumerate(evidence.names):
            cell = evidence.cells[row][column]
            assert cell.defined == (name in truth), (variant.label, name)
        arches = [a for a in ARCHES if f"bpf_target_{a}" in truth]
        assert arches == ([] if variant.arch == NO_ARCH else [variant.arch or target_arch()])


def test_names_and_casts() -> None:
    assert register_macro("PT_REGS_PARM4_CORE_SYSCALL") == "__PT_PARM4_SYSCALL_REG"
    assert register_macro("PT_REGS_RC") == "__PT_RC_REG"
    assert register_macro("__PT_FP_REG") == "__PT_FP_REG"
    assert register_macro("PT_REGS_SYSCALL_REGS") == "__PT_PARM1_REG"
    assert register_macro("BPF_KPROBE") is None and register_macro("__PT_REGS_CAST") is None
    assert _cast_type("((const struct user_pt_regs *)(ctx))") == "const struct user_pt_regs"
    assert _cast_type("((const user_pt_regs *)(ctx))") == "const user_pt_regs"
    assert _cast_type("(ctx)") == "struct pt_regs"


def test_a_read_that_disagrees_with_offsetof_is_flagged() -> None:
    found, _ = _evidence(PARAMS, NAMES[:1])
    (evidence,) = found
    first = evidence.reads[0]
    wrong = RegisterEvidence(evidence.sample, (replace(first, offset=(first.offset or 0) + 8),))
    assert register_table([wrong]).unchecked == 1
