"""`pytest samples` leaves the kernel as it found it: no program, map, link or pin behind."""

from __future__ import annotations

from pathlib import Path

from harness_support import REPO, new_kernel_objects, run_pytest

BPFFS = Path("/sys/fs/bpf")


def _pins() -> list[str]:
    if not BPFFS.is_dir():
        return []
    return sorted(str(p) for p in BPFFS.rglob("*"))


def _snapshot() -> dict[str, list]:
    from kptrdoc.loader import kernel_object_ids

    return {**kernel_object_ids(), "pins": _pins()}


def test_pytest_samples_leaves_nothing_behind(kernel: None) -> None:
    before = _snapshot()
    run = run_pytest(str(REPO / "samples"), cwd=REPO)
    assert run.returncode == 0, run.output
    assert run.outcomes and set(run.outcomes.values()) <= {"PASSED", "XFAIL"}, run.output
    # the kernel frees closed objects from a work queue; an xdist sibling may hold
    # one for a moment: new_kernel_objects waits for transient ones to go
    new = new_kernel_objects(before)
    assert not any(new.values()), f"left behind in the kernel: {new}"
    assert _pins() == before["pins"]


def test_second_run_recompiles_nothing(kernel: None) -> None:
    from kptrdoc.compile import compile_sample

    run_pytest(str(REPO / "samples"), cwd=REPO)
    run = run_pytest(str(REPO / "samples"), cwd=REPO)
    assert run.returncode == 0, run.output
    assert "kptrdoc: 0 sample object(s) compiled" in run.output, run.output
    from kptrdoc.toolchain import target_arch
    from kptrdoc.variants import main_variant

    for sample in sorted((REPO / "samples").rglob("*.bpf.c")):
        variant = main_variant(sample, target_arch())
        if variant is not None:  # a sample whose point is a compiler error has no object
            assert compile_sample(sample, variant).cached, sample
