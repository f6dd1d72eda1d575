"""Checked runs in the kernel matrix: the same loader in QEMU guests reads the values back."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from runs_support import NO_STREAM_KFUNC, REPO, RUNS, STREAMS, TRIGGERED, write_sample

from kptrdoc.compile import compile_sample
from kptrdoc.errors import KptrdocError
from kptrdoc.expectations import Outcome, outcome, wrong_values

pytestmark = pytest.mark.matrix


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(f"{reason} (CI=true: not skipped)", pytrace=False)
    pytest.skip(reason)


def test_every_trigger_checks_its_values_in_the_guests(tmp_path: Path) -> None:
    if not shutil.which("qemu-system-x86_64"):
        _skip_or_fail("qemu-system-x86_64 is not installed: the kernel matrix cannot run")
    from kptrdoc.matrix import results as res
    from kptrdoc.matrix.kernels import resolve
    from kptrdoc.matrix.record import Record
    from kptrdoc.matrix.run import run_matrix

    record = Record.load(REPO / "samples" / "matrix.lock.json")
    try:
        kernels = resolve([k.suite for k in record.kernels], record.pins())
    except KptrdocError as exc:
        _skip_or_fail(f"the matrix kernels are not available: {exc}")
    obj = compile_sample(write_sample(tmp_path, "runs.bpf.c", RUNS)).path
    streams = compile_sample(write_sample(tmp_path, "streams.bpf.c", STREAMS)).path
    matrix = run_matrix([obj, streams], kernels, store=res.Store(tmp_path / "results.json"))
    assert all(run.error is None for run in matrix.runs), [r.error for r in matrix.runs]
    for kernel in matrix.kernels:
        for program, trigger in (*TRIGGERED, ("fork_wrong", "fork")):
            cell = matrix.cell(matrix.objects[0].sha256, program, kernel.id)
            assert cell is not None and cell.verdict == "loaded", (kernel.id, program)
            run = cell.result["run"]
            assert run["trigger"] == trigger and run["error"] == "", (kernel.id, program, run)
            wrong = wrong_values(run["checks"])
            ran = run["run_cnt_after"] > run["run_cnt_before"]
            got = outcome(cell.verdict, 0, run["error"], ran, wrong=wrong)
            if program == "fork_wrong":
                assert got is Outcome.RAN_WRONG, (kernel.id, run)
                assert "user space read parent_tgid = " in wrong
            else:
                assert got is Outcome.RAN and run["checks"], (kernel.id, program, wrong)
    streamed_somewhere = False
    for kernel in matrix.kernels:
        runs = {}
        for program in ("streams_seven", "streams_seven_not_eight"):
            cell = matrix.cell(matrix.objects[1].sha256, program, kernel.id)
            assert cell is not None and cell.verdict == "loaded", (kernel.id, program)
            runs[program] = cell.result["run"]
        (streamed,) = runs["streams_seven"]["checks"]
        if streamed["got"] == NO_STREAM_KFUNC:
            continue  # a kernel without BPF streams
        streamed_somewhere = True
        assert streamed["got"] == 0, (kernel.id, streamed)
        (found,) = runs["streams_seven"]["printed"]
        assert found["found"] and found["line"] == found["text"], (kernel.id, found)
        assert found["text"].endswith(" streamed 7")
        (missed,) = runs["streams_seven_not_eight"]["printed"]
        assert not missed["found"] and "is not in the trace buffer" in missed["error"]
    assert streamed_somewhere, "no kernel of the matrix has BPF streams: the reader is untested"
