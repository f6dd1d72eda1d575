"""The __kptr samples on the recorded Debian kernels and the host, checked against the record."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kptrdoc.expectations import Outcome, Status
from kptrdoc.matrix import facts, report
from kptrdoc.matrix import results as res
from kptrdoc.matrix.run import run_matrix

pytestmark = pytest.mark.matrix
REPO = Path(__file__).resolve().parents[2]


def _rows(matrix) -> list[facts.Row]:
    return report.rows(matrix, {ref.sha256: ref.source for ref in matrix.objects})


def _cell(matrix, program: str, suite: str) -> res.Cell:
    kernel = next(k for k in matrix.kernels if k.name == suite)
    cells = [c for c in matrix.cells if c.program == program and c.kernel == kernel.id]
    assert len(cells) == 1, f"{program} on {suite}: {cells}"
    return cells[0]


def test_every_recorded_kernel_boots_and_gives_verdicts(kptr_matrix, kernels, record):
    assert [k.name for k in kptr_matrix.kernels] == [k.name for k in kernels]
    assert {k.name for k in kernels} == {k.suite for k in record.kernels} | {"host"}
    for kernel in kernels:  # the very builds the record pins
        if not kernel.is_host:
            assert kernel.pinned and record.holds_build(kernel.btf_sha256), kernel.id
            assert record.kernel(kernel.id) is not None
    for run in kptr_matrix.runs:
        assert run.error is None, f"{run.kernel.id}: {run.error}"
    for cell in kptr_matrix.cells:
        assert cell.verdict not in (res.NO_BOOT, res.LOADER_ERROR), cell
    by_kernel = {k.id: k for k in kptr_matrix.kernels}
    for cell in kptr_matrix.cells:  # the verdict really came from that kernel
        assert cell.kernel_release == by_kernel[cell.kernel].release


def test_example_needs_cpumask_kfuncs_missing_from_6_1(kptr_matrix):
    old = _cell(kptr_matrix, "record_task_cpumask", "bookworm")
    assert facts.cell_outcome(old) is Outcome.MISSING_FEATURE
    assert old.short.startswith("kfunc bpf_cpumask_") and old.short.endswith(" missing")
    for kernel in kptr_matrix.kernels:
        if kernel.upstream < (6, 12):
            continue
        cell = _cell(kptr_matrix, "record_task_cpumask", kernel.name)
        assert facts.cell_outcome(cell) is Outcome.RAN, f"{kernel.label}: {cell.short}"
        run = cell.result["run"]  # __run("fork"): attached and triggered on that kernel
        assert run["trigger"] == "fork" and not run["error"], run
        assert run["run_cnt_after"] > run["run_cnt_before"], f"{kernel.label}: did not run"


def test_live_results_agree_with_the_record_and_the_annotations(kptr_matrix, record):
    checker = facts.Checker(record)
    rows = _rows(kptr_matrix)
    failures = [row for row in rows if row.expect.verdict == "failure"]
    assert failures, "the __kptr samples have no __failure program"
    for row in failures:
        for kernel in kptr_matrix.kernels:
            if kernel.upstream < (6, 12):
                continue
            result = checker.cell(row, kernel, row.cells[kernel.id])
            assert result.outcome is Outcome.REJECTED, f"{row.program} on {kernel.label}"
            if checker.recorded_build(kernel):
                assert result.checked.ok, f"{row.program} on {kernel.label}: {result.checked}"
            else:  # the host: drift at most
                assert result.checked.status in (Status.AS_EXPECTED, Status.DRIFT)
            assert not result.recorded, f"{row.program} on {kernel.label}: {result.recorded}"
    assert checker.problems(rows, kptr_matrix.kernels) == []


def test_unchanged_objects_are_not_run_again(kptr_matrix, kernels, kptr_objects, shared_dir):
    from kptrdoc.matrix.results import Store

    start = time.monotonic()
    again = run_matrix(
        [o.path for o in kptr_objects], kernels, store=Store(shared_dir / "results.json")
    )
    elapsed = time.monotonic() - start
    assert all(run.ran == 0 for run in again.runs), [(r.kernel.id, r.ran) for r in again.runs]
    assert all(cell.cached for cell in again.cells)
    first = {(c.object, c.program, c.kernel): c.verdict for c in kptr_matrix.cells}
    second = {(c.object, c.program, c.kernel): c.verdict for c in again.cells}
    assert first == second, f"a fully cached matrix took {elapsed:.1f} s"


def _copy_with_record(tmp_path: Path) -> Path:
    samples = tmp_path / "samples"
    shutil.copytree(REPO / "samples" / "__kptr", samples / "__kptr")
    shutil.copyfile(REPO / "samples" / "matrix.lock.json", samples / "matrix.lock.json")
    return samples


def _matrix_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kptrdoc.matrix", *args],
        capture_output=True, text=True, cwd=REPO, check=False, timeout=600,
    )  # fmt: skip


def test_cli_json_on_the_host(tmp_path):
    samples = _copy_with_record(tmp_path)
    proc = _matrix_cli("--samples", str(samples), "--kernels", "host", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert [k["name"] for k in data["kernels"]] == ["host"]
    assert data["problems"] == []
    programs = {row["program"] for row in data["rows"]}
    assert "record_task_cpumask" in programs and "kptr_plain_store" in programs


def test_a_wrong_msg_fails_make_matrix_on_a_recorded_kernel(tmp_path, record):
    samples = _copy_with_record(tmp_path)
    mistakes = samples / "__kptr" / "mistakes.bpf.c"
    text = mistakes.read_text()
    assert '__msg("store to referenced kptr disallowed")' in text
    mistakes.write_text(text.replace(
        '__msg("store to referenced kptr disallowed")', '__msg("no kernel ever says this")', 1
    ))  # fmt: skip
    suite = max(record.kernels, key=lambda k: k.upstream).suite
    proc = _matrix_cli("--samples", str(samples), "--kernels", suite)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert 'message differs: __msg("no kernel ever says this") is not in the verifier log' in (
        proc.stdout
    )
    assert "1 problem(s)" in proc.stdout
