"""The matrix per macro: expectations read from the objects, a text table, JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kptrdoc.matrix import facts
from kptrdoc.matrix.run import Matrix, ObjectRef

CELL_WIDTH = 36


@dataclass(frozen=True)
class MacroReport:
    macro: str
    """The sample folder's name, e.g. ``__kptr``."""
    compatibility: facts.Compatibility


def expectations(refs: Sequence[ObjectRef]) -> dict[tuple[str, str], facts.Expectation]:
    """(object sha256, program) -> expectations, read back from each object's BTF decl tags."""
    from kptrdoc.objects import ObjectError, load_object

    out: dict[tuple[str, str], facts.Expectation] = {}
    for ref in refs:
        try:
            programs = load_object(ref.path).programs
        except (ObjectError, OSError):
            continue
        for program in programs:
            expect = program.expect
            out[(ref.sha256, program.name)] = facts.Expectation(
                verdict=None if expect.conflicting else expect.verdict,
                msgs=tuple(expect.msgs),
                kernel_msgs=tuple(expect.kernel_msgs),
                description=expect.description,
                failure_ranges=tuple(expect.failure_ranges),
            )
    return out


def by_macro(matrix: Matrix, macro_of: dict[str, str]) -> list[MacroReport]:
    """One report per macro; ``macro_of`` maps an object's sha256 to its macro."""
    expect = expectations(matrix.objects)
    macros: list[str] = []
    for ref in matrix.objects:
        macro = macro_of.get(ref.sha256, ref.source)
        if macro not in macros:
            macros.append(macro)
    reports = []
    for macro in macros:
        objs = {r.sha256 for r in matrix.objects if macro_of.get(r.sha256, r.source) == macro}
        cells = [c for c in matrix.cells if c.object in objs]
        reports.append(MacroReport(macro, facts.compatibility(matrix.kernels, cells, expect)))
    return reports


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table(report: MacroReport) -> str:
    comp = report.compatibility
    names = [f"{Path(row.source).name}:{row.program}" for row in comp.rows]
    first = max([len("program"), *(len(n) for n in names)])
    header = ["program".ljust(first), *(k.label.ljust(CELL_WIDTH) for k in comp.kernels)]
    lines = [f"{report.macro}: {comp.statement}", "  ".join(header).rstrip()]
    for name, row in zip(names, comp.rows, strict=True):
        cells = []
        for kernel in comp.kernels:
            cell = row.cells.get(kernel.id)
            cells.append(_fit(cell.short if cell else "-", CELL_WIDTH).ljust(CELL_WIDTH))
        expect = {"success": "(__success)", "failure": "(__failure)"}.get(
            row.expect.verdict or "", "(no expectation)"
        )
        if row.expect.failure_ranges:
            expect = "(" + " ".join(f'__failure_on("{r}")' for r in row.expect.failure_ranges) + ")"
        lines.append("  ".join([name.ljust(first), *cells]).rstrip() + f"  {expect}")
    for line in comp.missing:
        lines.append(f"  missing: {line}")
    for line in comp.problems():
        lines.append(f"  PROBLEM: {line}")
    return "\n".join(lines)


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


def macro_json(item: MacroReport) -> dict:
    """One macro's facts for its page: statement, minimum, missing names, rows of cells."""
    comp = item.compatibility
    by_id = {k.id: k for k in comp.kernels}
    return {
        "macro": item.macro,
        "statement": comp.statement,
        "minimum": facts.version_label(comp.minimum) if comp.minimum else None,
        "kernels": [
            {"id": k.id, "name": k.name, "release": k.release, "label": k.label}
            for k in comp.kernels
        ],
        "missing": comp.missing,
        "problems": comp.problems(),
        "rows": [
            {
                "source": row.source,
                "program": row.program,
                "expect": row.expect.verdict,
                "failure_ranges": list(row.expect.failure_ranges),
                "cells": {
                    kid: {
                        "verdict": c.verdict,
                        "short": c.short,
                        "reason": c.reason,
                        "kernel_release": c.kernel_release,
                        "status": facts.check(c, row.expect, by_id[kid]),
                    }
                    for kid, c in row.cells.items()
                },
            }
            for row in comp.rows
        ],
    }


def to_json(matrix: Matrix, reports: Sequence[MacroReport]) -> dict:
    return {
        "kernels": [
            {
                "id": k.id,
                "name": k.name,
                "release": k.release,
                "version": k.version,
                "label": k.label,
                "error": run.error if (run := matrix.run_for(k)) else None,
                "seconds": round(run.seconds, 2) if run else None,
                "ran": run.ran if run else 0,
            }
            for k in matrix.kernels
        ],
        "macros": [macro_json(r) for r in reports],
    }
