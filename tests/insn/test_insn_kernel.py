"""Our text against the running kernel's verifier log, instruction by instruction.

For every program of every sample that the host kernel's verifier sees (accepted
or rejected: the log shows the instructions it walked either way): libbpf
prepares the object (``bpf_object__prepare``: maps created, every relocation
done, nothing loaded) and hands over the program's final instructions; the
loader loads the same program at log level 2. Every ``N: (op) text`` line of
the log must show the opcode we decoded for slot N and exactly the text
:func:`format_insn` gives, with helper names from the pinned
``bpf_helper_defs.h`` and kfunc names from the running kernel's BTF (the
kernel resolves both itself). The one exception: an ``ld_imm64`` of a map or
kernel variable, for which the kernel prints the address it put there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from insn_support import pins_maps, prepared_instructions, verifier_lines

from kptrdoc.btf import parse_btf
from kptrdoc.compile import CompileError, compile_main, compile_sample, loadable_samples
from kptrdoc.insn import CallKind, Kind, PseudoSrc, decode, format_insn, pinned_helper_names
from kptrdoc.loader import LOADED, REJECTED, list_programs, load_program

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = loadable_samples(ROOT / "samples")
VMLINUX_BTF = Path("/sys/kernel/btf/vmlinux")
ADDRESS_LOADS = (PseudoSrc.MAP_FD, PseudoSrc.MAP_VALUE, PseudoSrc.MAP_IDX,
                 PseudoSrc.MAP_IDX_VALUE, PseudoSrc.BTF_ID)  # fmt: skip


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true turns this skip into a failure)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def kernel() -> dict[int, str]:
    """Skip (fail under CI) without root and kernel BTF; return helper names."""
    if os.geteuid() != 0:
        _skip_or_fail("loading BPF programs needs root")
    if not VMLINUX_BTF.exists():
        _skip_or_fail("the running kernel has no BTF")
    return pinned_helper_names()


@pytest.fixture(scope="module")
def kernel_btf():
    return parse_btf(VMLINUX_BTF.read_bytes())


def compare_program(obj: Path, program: str, helpers: dict[int, str], btf) -> int:
    """Assert every log line for ``program`` matches; return how many slots were compared."""
    result = load_program(obj, program)
    if result.verdict not in (LOADED, REJECTED):
        return -1
    insns = decode(prepared_instructions(obj, program))
    logged = verifier_lines(result.log)
    kfuncs = {
        i.index: btf.type(i.imm).name
        for i in insns
        if i.kind is Kind.CALL and i.call_kind is CallKind.KFUNC and i.off == 0
    }
    compared = 0
    problems: list[str] = []
    for insn in insns:
        for code, text in sorted(logged.pop(insn.index, set())):
            compared += 1
            ours = format_insn(insn, helpers=helpers, symbols=kfuncs)
            if code != insn.code:
                problems.append(f"{insn.index}: opcode {insn.code:02x}, log ({code:02x}) {text}")
            elif insn.kind is Kind.LD_IMM64 and insn.pseudo in ADDRESS_LOADS:
                if not re.fullmatch(rf"r{insn.dst} = 0x[0-9a-f]+", text):
                    problems.append(f"{insn.index}: log {text!r}, an address load into r{insn.dst}")
            elif ours != text:
                problems.append(f"{insn.index}: ours {ours!r}, log {text!r}")
    # every instruction line of the log belongs to a decoded slot
    problems += [f"{index}: in the log, not decoded: {lines}" for index, lines in logged.items()]
    assert not problems, f"{obj.name} {program}:\n" + "\n".join(problems)
    return compared


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_text_matches_verifier_log(sample: Path, kernel: dict[int, str], kernel_btf) -> None:
    try:
        obj = compile_main(sample).path
    except CompileError as exc:
        pytest.skip(f"the sample does not compile: {exc}")
    if pins_maps(obj):
        pytest.skip("its maps pin by name: bpf_object__prepare would pin them under /sys/fs/bpf")
    counts = {p.name: compare_program(obj, p.name, kernel, kernel_btf) for p in list_programs(obj)}
    verified = {name: n for name, n in counts.items() if n >= 0}
    if not verified:
        pytest.skip("the kernel verifies no program of this sample (libbpf or the kernel "
                    "refuses them before the verifier)")  # fmt: skip
    assert all(n > 0 for n in verified.values()), f"no instruction line in a log: {verified}"


@pytest.mark.parametrize(
    ("sample", "program", "at_least"),
    [("__kptr/kptr.bpf.c", "record_task_cpumask", 33), ("__uint/uint.bpf.c", "count_children", 10)],
)
def test_named_programs(
    sample: str, program: str, at_least: int, kernel: dict[int, str], kernel_btf
) -> None:
    """The programs the page shows first: loaded, and most of their slots compared."""
    obj = compile_sample(ROOT / "samples" / sample).path
    assert compare_program(obj, program, kernel, kernel_btf) >= at_least
