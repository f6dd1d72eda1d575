"""The committed record, checked offline: no kernel is booted here.

Every program of every sample must be in the record with a cell per
recorded kernel, and its current annotations must hold against what each
recorded kernel said: a wrong ``__msg`` is caught even after the archive has
dropped the kernel that printed the message.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kptrdoc import debversion
from kptrdoc.compile import compile_sample
from kptrdoc.matrix import page_facts
from kptrdoc.matrix.kernels import SUITES
from kptrdoc.matrix.record import Record
from kptrdoc.objects import load_object
from kptrdoc.toolchain import target_arch
from kptrdoc.variants import main_variant

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
SOURCES = sorted(SAMPLES.glob("*/*.bpf.c"))


@pytest.fixture(scope="module")
def committed() -> Record:
    return Record.load(SAMPLES / "matrix.lock.json")


def test_the_record_pins_one_kernel_per_release_of_the_suites(committed: Record) -> None:
    assert {k.suite for k in committed.kernels} <= set(SUITES)
    releases = [k.upstream[:2] for k in committed.kernels]
    assert len(releases) == len(set(releases)), "one kernel per major.minor"
    for kernel in committed.kernels:
        assert not debversion.DebianVersion.parse(kernel.version).prerelease, kernel.id
        assert re.fullmatch(r"[0-9a-f]{64}", kernel.btf_sha256), kernel.id
        assert kernel.packages and kernel.packages[0].name.startswith("linux-image-")
        for package in kernel.packages:
            assert re.fullmatch(r"[0-9a-f]{64}", package.sha256), package
    newest = max(committed.kernels, key=lambda k: k.upstream)
    assert committed.toolchain.vmlinux_btf == newest.btf_sha256


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_annotation_holds_against_the_record(committed: Record, source: Path) -> None:
    variant = main_variant(source, target_arch())
    if variant is None:  # compiler errors or other architectures only: nothing is loaded
        assert committed.key(source) not in committed.samples
        return
    obj = load_object(compile_sample(source, variant).path)
    key = committed.key(source)
    problems = [
        line
        for program in obj.programs
        for line in committed.check_annotations(key, program.name, program.expect)
    ]
    assert problems == [], "\n".join(problems) + "\n(re-record: python -m kptrdoc.matrix --record)"
    recorded = set(committed.samples.get(key, {}))
    assert recorded == {p.name for p in obj.programs}, f"{key}: programs differ from the record"


def test_a_wrong_msg_is_caught_offline(committed: Record) -> None:
    source = SAMPLES / "__kptr" / "mistakes.bpf.c"
    program = next(
        p for p in load_object(compile_sample(source).path).programs if p.name == "kptr_plain_store"
    )
    key = committed.key(source)
    assert committed.check_annotations(key, program.name, program.expect) == []
    from dataclasses import replace

    wrong = replace(program.expect, msgs=("no kernel ever printed this",))
    problems = committed.check_annotations(key, program.name, wrong)
    assert problems and all("message differs" in line for line in problems), problems


def test_the_kptr_page_facts_come_from_the_record(committed: Record) -> None:
    objects = {
        compile_sample(p).path: committed.key(p)
        for p in sorted((SAMPLES / "__kptr").glob("*.bpf.c"))
    }
    facts = page_facts("__kptr", objects, SAMPLES / "matrix.lock.json")
    assert facts.floor == "6.12"
    assert "loads from Linux 6.12 on" in facts.statement and "measured" in facts.statement
    assert [k.label.split()[0] for k in facts.kernels] == [
        ".".join(map(str, k.upstream[:2]))
        for k in sorted(committed.kernels, key=lambda k: k.upstream)
    ]
    assert facts.problems == () and facts.not_measured == ()
    example = next(r for r in facts.rows if r.program == "record_task_cpumask")
    shorts = [example.cells[k.id].short for k in facts.kernels]
    assert shorts[0].startswith("kfunc bpf_cpumask_") and set(shorts[1:]) == {"✓"}
    assert any("bpf_cpumask_" in line and "6.1" in line for line in facts.missing)


def test_a_sample_not_in_the_record_is_not_measured_yet(tmp_path: Path) -> None:
    objects = {
        compile_sample(p).path: f"__kptr/{p.name}" for p in (SAMPLES / "__kptr").glob("*.bpf.c")
    }
    facts = page_facts("__kptr", objects, None)
    assert facts.kernels == () and facts.floor is None
    assert "has not been recorded" in facts.statement
    assert facts.not_measured and all(not r.cells for r in facts.rows)


def test_every_page_has_a_derived_floor_that_the_recorded_kernels_agree_with(
    committed: Record,
) -> None:
    """A page's floor is derived from what its objects use, each use a cited fact
    (kptrdoc/data/kernel_history.json). It is a claim: on every recorded kernel at or above
    it, every example of the page loads as the record measured; and nothing a sample uses
    is left uncited."""
    from kptrdoc.floors import page_floor

    folders = sorted({Path(sample).parent.as_posix() for sample in committed.samples})
    wrong, uncited = [], []
    for folder in folders:
        derived = page_floor(SAMPLES / folder)
        uncited += [f"{folder}: {i.use.key} ({', '.join(i.programs)})" for i in derived.uncited]
        assert derived.floor is not None, f"{folder}: nothing cited is used"
        for reason in derived.reasons:
            assert reason.fact is not None
            assert len(reason.fact.commit) >= 12 and reason.fact.subject and reason.fact.source
            assert reason.fact.verified, f"{folder}: its floor rests on {reason.fact.key}"
        floor = derived.version
        assert floor is not None
        for sample, programs in committed.samples.items():
            if Path(sample).parent.as_posix() != folder:
                continue
            for name, entry in programs.items():
                if entry.expect != "success":
                    continue
                for kernel in committed.kernels:
                    cell = entry.cells.get(kernel.id)
                    at_or_above = not derived.below(kernel.upstream)
                    if at_or_above and (cell is None or not cell.outcome.loaded):
                        wrong.append(f"{sample}: {name} on {kernel.label} (floor {derived.floor})")
    assert uncited == [], "uses with no cited introduction"
    assert wrong == []
