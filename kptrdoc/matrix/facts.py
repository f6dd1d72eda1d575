"""What the matrix says of each program on each kernel, by the one rule of
:mod:`kptrdoc.expectations`, and what a macro page states from it.

A cell is checked with :func:`kptrdoc.expectations.check`: messages are
strict on a build the committed record holds and drift elsewhere; below the
page's floor nothing counts against a sample. The floor is measured from the
record (the oldest recorded kernel from which every ``__success`` program of
the page loads on all newer recorded kernels) until the facts file cites one.

On the pinned kernels a live run must also agree with the record: another
outcome there means the record is out of date (``--record``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kptrdoc.expectations import (
    Checked,
    Expectation,
    Outcome,
    Status,
    check,
    outcome,
    run_wrong,
)
from kptrdoc.matrix import results as res
from kptrdoc.matrix.kernels import Kernel
from kptrdoc.matrix.record import Record, RecordedKernel

NOT_RECORDED = "not in the record"
NOT_AS_RECORDED = "not as recorded"


def cell_outcome(cell: res.Cell) -> Outcome:
    """The outcome of a live cell (the loader's verdict, errno, run and values read back)."""
    run = cell.result.get("run")
    ran: bool | None = None
    run_error = ""
    if isinstance(run, dict):
        run_error = str(run.get("error") or "")
        ran = int(run.get("run_cnt_after") or 0) > int(run.get("run_cnt_before") or 0)
    errno = int(cell.result.get("errno") or 0)
    return outcome(cell.verdict, errno, run_error, ran, wrong=cell_wrong(cell))


def cell_wrong(cell: res.Cell) -> str:
    """What the run's ``__run_check`` read wrongly and the ``__run_printed`` text it did not
    leave, or ""."""
    run = cell.result.get("run")
    return run_wrong(run) if isinstance(run, dict) else ""


@dataclass(frozen=True)
class CellCheck:
    """One live cell, checked."""

    outcome: Outcome
    checked: Checked
    recorded: str = ""
    """``not in the record`` / ``not as recorded: ...`` on a pinned kernel, else ""."""

    @property
    def fails(self) -> bool:
        return self.checked.status.fails or bool(self.recorded)


@dataclass(frozen=True)
class Row:
    sample: str
    """The record's key: ``__kptr/mistakes.bpf.c``."""
    program: str
    expect: Expectation
    cells: dict[str, res.Cell] = field(default_factory=dict)
    """Kernel id -> live cell."""


@dataclass
class KernelCount:
    kernel: Kernel
    recorded_build: bool
    as_recorded: int = 0
    drifted: int = 0
    not_applicable: int = 0
    problems: int = 0
    no_verdict: int = 0

    def line(self) -> str:
        build = "recorded build" if self.recorded_build else "build"
        parts = [
            f"{self.as_recorded} as recorded"
            if self.recorded_build
            else f"{self.as_recorded} as annotated",
            f"{self.drifted} drifted",
            f"{self.not_applicable} not applicable",
        ]
        if self.no_verdict:
            parts.append(f"{self.no_verdict} without a verdict")
        if self.problems:
            parts.append(f"{self.problems} problem(s)")
        return (
            f"{self.kernel.label} Linux {self.kernel.release} ({build} "
            f"{self.kernel.build or '?'}): " + ", ".join(parts)
        )


@dataclass(frozen=True)
class Checker:
    """Checks live cells against the annotations and the record."""

    record: Record
    strict: bool = False
    """Drift fails too (``--strict-messages``)."""
    pinned_toolchain: bool = True
    """False when libbpf is not the pinned release: no build counts as recorded."""

    def recorded_build(self, kernel: Kernel) -> bool:
        return (
            self.pinned_toolchain and kernel.pinned and self.record.holds_build(kernel.btf_sha256)
        )

    def cell(self, row: Row, kernel: Kernel, cell: res.Cell) -> CellCheck:
        got = cell_outcome(cell)
        folder = Path(row.sample).parent.as_posix()
        checked = check(
            row.expect.resolve(kernel.upstream),
            got,
            str(cell.result.get("log") or ""),
            recorded=self.recorded_build(kernel),
            below_floor=self.record.below_floor(folder, kernel.upstream),
            wrong=cell_wrong(cell),
        )
        against = ""
        pinned = self.record.kernel(kernel.id)
        if pinned is not None and kernel.pinned and got is not Outcome.NO_VERDICT:
            entry = self.record.program(row.sample, row.program)
            was = entry.cells.get(kernel.id) if entry else None
            if was is None:
                against = NOT_RECORDED
            elif was.outcome is not got:
                against = f"{NOT_AS_RECORDED}: the record says {was.outcome.value}, now {got.value}"
        return CellCheck(got, checked, against)

    def problems(self, rows: Sequence[Row], kernels: Sequence[Kernel]) -> list[str]:
        """Every cell that fails, and programs no kernel could verify."""
        out: list[str] = []
        for row in rows:
            verified = False
            for kernel in kernels:
                cell = row.cells.get(kernel.id)
                if cell is None:
                    continue
                result = self.cell(row, kernel, cell)
                name = f"{row.sample}: {row.program} on {kernel.label}"
                status = result.checked.status
                if status.fails or (self.strict and status is Status.DRIFT):
                    out.append(f"{name}: {status.value}: {result.checked.detail}")
                if result.recorded:
                    out.append(f"{name}: {result.recorded} (python -m kptrdoc.matrix --record)")
                verified = verified or status is Status.AS_EXPECTED
            if not verified and not self.record.met_on_a_recorded_kernel(
                row.sample, row.program, row.expect
            ):
                out.append(
                    f"{row.sample}: {row.program}: met its annotation on no kernel "
                    "(it must verify as annotated on at least one)"
                )
        return out

    def counts(self, rows: Sequence[Row], kernels: Sequence[Kernel]) -> list[KernelCount]:
        out = []
        for kernel in kernels:
            count = KernelCount(kernel, self.recorded_build(kernel))
            for row in rows:
                cell = row.cells.get(kernel.id)
                if cell is None:
                    continue
                result = self.cell(row, kernel, cell)
                status = result.checked.status
                if result.fails or (self.strict and status is Status.DRIFT):
                    count.problems += 1
                elif status is Status.DRIFT:
                    count.drifted += 1
                elif status is Status.UNVERIFIED:
                    count.not_applicable += 1
                elif status is Status.NO_VERDICT:
                    count.no_verdict += 1
                else:
                    count.as_recorded += 1
            out.append(count)
        return out


def rows_of(
    cells: Sequence[res.Cell],
    expectations: Mapping[tuple[str, str], Expectation],
    sample_of: Mapping[str, str],
) -> list[Row]:
    """Rows in cell order; ``expectations`` maps (object sha256, program) to the annotations,
    ``sample_of`` an object's sha256 to its record key."""
    rows: dict[tuple[str, str], Row] = {}
    for cell in cells:
        key = (cell.object, cell.program)
        if key not in rows:
            expect = expectations.get(key, Expectation())
            rows[key] = Row(sample_of.get(cell.object, cell.source), cell.program, expect)
        rows[key].cells[cell.kernel] = cell
    return list(rows.values())


def floor_label(kernel: RecordedKernel | Kernel | None) -> str | None:
    return ".".join(str(n) for n in kernel.upstream[:2]) if kernel else None
