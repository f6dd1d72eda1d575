"""The __kptr samples on bookworm (6.1), trixie (6.12), sid and the host kernel."""

from __future__ import annotations

import time

import pytest

from kptrdoc.matrix import facts, report
from kptrdoc.matrix import results as res
from kptrdoc.matrix.run import run_matrix

pytestmark = pytest.mark.matrix


def _compat(matrix) -> facts.Compatibility:
    return facts.compatibility(matrix.kernels, matrix.cells, report.expectations(matrix.objects))


def _cell(matrix, program: str, suite: str) -> res.Cell:
    kernel = next(k for k in matrix.kernels if k.name == suite)
    cells = [c for c in matrix.cells if c.program == program and c.kernel == kernel.id]
    assert len(cells) == 1, f"{program} on {suite}: {cells}"
    return cells[0]


def test_every_kernel_boots_and_gives_verdicts(kptr_matrix, kernels):
    assert [k.name for k in kptr_matrix.kernels] == [k.name for k in kernels]
    assert {k.name for k in kernels} == {"bookworm", "trixie", "sid", "host"}
    for run in kptr_matrix.runs:
        assert run.error is None, f"{run.kernel.id}: {run.error}"
    assert kptr_matrix.cells
    for cell in kptr_matrix.cells:
        assert cell.verdict not in (res.NO_BOOT, res.LOADER_ERROR), cell
    by_kernel = {k.id: k for k in kptr_matrix.kernels}
    for cell in kptr_matrix.cells:  # the verdict really came from that kernel
        assert cell.kernel_release == by_kernel[cell.kernel].release


def test_example_needs_cpumask_kfuncs_missing_from_6_1(kptr_matrix):
    old = _cell(kptr_matrix, "record_task_cpumask", "bookworm")
    assert old.verdict == res.FAILED_BEFORE_VERIFIER
    assert old.short.startswith("kfunc bpf_cpumask_") and old.short.endswith(" missing")
    for suite in ("trixie", "sid", "host"):
        cell = _cell(kptr_matrix, "record_task_cpumask", suite)
        assert cell.verdict == res.LOADED, f"{suite}: {cell.short}"
        assert cell.short == res.CHECK
        run = cell.result["run"]  # __run("fork"): attached and triggered on that kernel
        assert run["trigger"] == "fork" and not run["error"], run
        assert run["run_cnt_after"] > run["run_cnt_before"], f"{suite}: did not run"


def test_negative_samples_rejected_with_their_message_from_6_12(kptr_matrix):
    compat = _compat(kptr_matrix)
    failures = [row for row in compat.rows if row.expect.verdict == "failure"]
    assert failures, "the __kptr samples have no __failure program"
    for row in failures:
        for kernel in compat.kernels:
            if kernel.upstream < (6, 12):
                continue
            cell = row.cells[kernel.id]
            assert cell.verdict == res.REJECTED, f"{row.program} on {kernel.label}: {cell.short}"
            assert facts.check(cell, row.expect, kernel) == facts.OK, (
                f"{row.program} on {kernel.label}: {row.expect.msgs} not in the log"
            )
    assert compat.problems() == []


def test_page_statement_and_missing_names(kptr_matrix):
    compat = _compat(kptr_matrix)
    assert compat.statement == "needs Linux ≥ 6.12 of the kernels tested"
    assert any("bpf_cpumask_copy" in line and "6.1" in line for line in compat.missing)


def test_unchanged_objects_are_not_run_again(kptr_matrix, kernels, kptr_objects, shared_dir):
    from kptrdoc.matrix.results import Store

    start = time.monotonic()
    again = run_matrix(
        [o.path for o in kptr_objects], kernels, store=Store(shared_dir / "results.json")
    )
    elapsed = time.monotonic() - start
    assert all(run.ran == 0 for run in again.runs), [(r.kernel.id, r.ran) for r in again.runs]
    assert all(cell.cached for cell in again.cells)
    assert elapsed < 10, f"a fully cached matrix took {elapsed:.1f} s"
    first = {(c.object, c.program, c.kernel): c.verdict for c in kptr_matrix.cells}
    second = {(c.object, c.program, c.kernel): c.verdict for c in again.cells}
    assert first == second


def test_page_facts_from_recorded_results(kptr_matrix, kptr_objects, shared_dir):
    from kptrdoc.matrix import page_facts
    from kptrdoc.matrix.results import Store

    facts_ = page_facts(
        "__kptr", [o.path for o in kptr_objects], store=Store(shared_dir / "results.json")
    )
    assert facts_["statement"] == "needs Linux ≥ 6.12 of the kernels tested"
    assert facts_["minimum"] == "6.12"
    assert [k["name"] for k in facts_["kernels"]] == ["bookworm", "trixie", "host", "sid"]
    example = next(r for r in facts_["rows"] if r["program"] == "record_task_cpumask")
    shorts = [example["cells"][k["id"]]["short"] for k in facts_["kernels"]]
    assert shorts[0].startswith("kfunc bpf_cpumask_") and shorts[1:] == ["✓", "✓", "✓"]


def test_page_facts_without_results_says_so(kptr_objects, tmp_path):
    from kptrdoc.matrix import page_facts
    from kptrdoc.matrix.results import Store

    facts_ = page_facts("__kptr", [o.path for o in kptr_objects], store=Store(tmp_path / "r.json"))
    assert facts_["rows"] == [] and facts_["minimum"] is None
    assert "has not run" in facts_["statement"]


def test_cli_json_on_the_host(tmp_path):
    import json
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "samples" / "__kptr", tmp_path / "samples" / "__kptr")
    proc = subprocess.run(
        [sys.executable, "-m", "kptrdoc.matrix", "--samples", str(tmp_path / "samples"),
         "--kernels", "host", "--json"],
        capture_output=True, text=True, cwd=repo, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [k["name"] for k in data["kernels"]] == ["host"]
    (macro,) = data["macros"]
    assert macro["macro"] == "__kptr" and macro["problems"] == []
