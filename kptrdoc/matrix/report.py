"""The matrix as text and JSON: per-kernel counts, problems, drift, one table per page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kptrdoc.expectations import Expectation, Status
from kptrdoc.matrix import facts
from kptrdoc.matrix.run import Matrix, ObjectRef

CELL_WIDTH = 36


def expectations(refs: Sequence[ObjectRef]) -> dict[tuple[str, str], Expectation]:
    """(object sha256, program) -> annotations, read back from each object's BTF decl tags."""
    from kptrdoc.objects import ObjectError, load_object

    out: dict[tuple[str, str], Expectation] = {}
    for ref in refs:
        try:
            programs = load_object(ref.path).programs
        except (ObjectError, OSError):
            continue
        for program in programs:
            out[(ref.sha256, program.name)] = program.expect
    return out


def rows(matrix: Matrix, sample_of: dict[str, str]) -> list[facts.Row]:
    """Every (sample, program) row of the matrix; ``sample_of``: object sha256 -> record key."""
    return facts.rows_of(matrix.cells, expectations(matrix.objects), sample_of)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def tables(matrix: Matrix, rows_: Sequence[facts.Row], checker: facts.Checker) -> list[str]:
    """One text table per sample folder."""
    out = []
    folders: dict[str, list[facts.Row]] = {}
    for row in rows_:
        folders.setdefault(str(Path(row.sample).parent), []).append(row)
    for folder, members in folders.items():
        floor = checker.record.floor(folder)
        names = [f"{Path(r.sample).name}:{r.program}" for r in members]
        first = max([len("program"), *(len(n) for n in names)])
        head = ["program".ljust(first), *(k.label.ljust(CELL_WIDTH) for k in matrix.kernels)]
        lines = [
            f"{folder}: measured floor {facts.floor_label(floor) or '-'}",
            "  ".join(head).rstrip(),
        ]
        for name, row in zip(names, members, strict=True):
            cells = []
            for kernel in matrix.kernels:
                cell = row.cells.get(kernel.id)
                text = "-"
                if cell is not None:
                    status = checker.cell(row, kernel, cell).checked.status
                    text = (
                        cell.short
                        if status is Status.AS_EXPECTED
                        else f"{status.value}: {cell.short}"
                    )
                cells.append(_fit(text, CELL_WIDTH).ljust(CELL_WIDTH))
            label = row.expect.verdict or "none"
            if row.expect.failure_ranges:
                label = " ".join(f'failure_on("{r}")' for r in row.expect.failure_ranges)
            lines.append("  ".join([name.ljust(first), *cells]).rstrip() + f"  (__{label})")
        out.append("\n".join(lines))
    return out


def drift(matrix: Matrix, rows_: Sequence[facts.Row], checker: facts.Checker) -> list[str]:
    """Each drifted cell: the annotation's message and what that kernel printed instead."""
    out = []
    for row in rows_:
        for kernel in matrix.kernels:
            cell = row.cells.get(kernel.id)
            if cell is None:
                continue
            checked = checker.cell(row, kernel, cell).checked
            if checked.status is Status.DRIFT:
                out.append(
                    f"{row.sample}: {row.program} on {kernel.label} (build "
                    f"{kernel.build or '?'}): {checked.detail}; it says: {cell.short}"
                )
    return out


def runs_summary(matrix: Matrix) -> list[str]:
    lines = []
    for run in matrix.runs:
        k = run.kernel
        what = f"{k.label} Linux {k.release}"
        if run.error:
            lines.append(
                f"{what}: {run.error}" + (f" (console: {run.console})" if run.console else "")
            )
        elif run.ran == 0:
            lines.append(f"{what}: every object cached")
        else:
            lines.append(f"{what}: {run.ran} object(s) in {run.seconds:.1f} s")
    return lines


def to_json(matrix: Matrix, rows_: Sequence[facts.Row], checker: facts.Checker) -> dict:
    return {
        "kernels": [
            {
                "id": k.id,
                "name": k.name,
                "release": k.release,
                "version": k.version,
                "label": k.label,
                "btf_sha256": k.btf_sha256,
                "pinned": k.pinned,
                "recorded_build": checker.recorded_build(k),
                "error": run.error if (run := matrix.run_for(k)) else None,
                "seconds": round(run.seconds, 2) if run else None,
                "ran": run.ran if run else 0,
            }
            for k in matrix.kernels
        ],
        "rows": [
            {
                "sample": row.sample,
                "program": row.program,
                "expect": row.expect.verdict,
                "cells": {
                    k.id: {
                        "outcome": result.outcome.value,
                        "status": result.checked.status.value,
                        "detail": result.checked.detail,
                        "against_record": result.recorded,
                        "message": row.cells[k.id].short,
                    }
                    for k in matrix.kernels
                    if k.id in row.cells
                    for result in [checker.cell(row, k, row.cells[k.id])]
                },
            }
            for row in rows_
        ],
        "counts": [
            {
                "kernel": c.kernel.id,
                "as_recorded": c.as_recorded,
                "drifted": c.drifted,
                "not_applicable": c.not_applicable,
                "problems": c.problems,
            }
            for c in checker.counts(rows_, matrix.kernels)
        ],
        "problems": checker.problems(rows_, matrix.kernels),
    }
