"""The kernel matrix: every sample program loaded on several real kernels.

- :func:`run_matrix` (``kptrdoc.matrix.run``): boot each kernel once under QEMU
  (the host kernel runs directly), load every program of every object with
  our loader, cache the verdicts by (object sha256, kernel id);
- :func:`page_facts`: a macro page's table and "needs Linux ≥ X" statement,
  from the recorded results only (no VM, no network: for site builds);
- ``python -m kptrdoc.matrix``: compile every sample, run, print the tables.

Imports are lazy: the guest side (``kptrdoc.matrix.guest``) must stay
standard-library only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kptrdoc.matrix.run import Matrix


def run_matrix(objects, kernels=None, **options) -> Matrix:
    """See :func:`kptrdoc.matrix.run.run_matrix`."""
    from kptrdoc.matrix import run

    if kernels is None:
        kernels = run.DEFAULT_KERNELS
    return run.run_matrix(objects, kernels, **options)


def page_facts(
    macro: str, objects: list[Path], sources: dict[Path, str] | None = None, store=None
) -> dict:
    """The compatibility facts of one macro page, as last recorded by ``make matrix``.

    ``objects`` are the compiled samples of the macro's folder. The result has
    ``statement`` (e.g. "needs Linux ≥ 6.12 of the kernels tested"),
    ``minimum``, ``kernels`` (columns, oldest first), ``rows`` (one per program,
    with ``cells`` per kernel id: ``verdict``, ``short`` = ✓ or the short
    reason, ``kernel_release``), ``missing`` (kfuncs and types older kernels
    lack, by name) and ``problems``. ``store`` defaults to the cache's
    results file. With nothing recorded, ``kernels`` and
    ``rows`` are empty and ``statement`` says the matrix has not run.
    """
    from kptrdoc.matrix import report
    from kptrdoc.matrix.run import from_store

    matrix = from_store(objects, sources, store)
    if not matrix.cells:
        return {
            "macro": macro,
            "statement": "the kernel matrix has not run for these samples ('make matrix')",
            "minimum": None,
            "kernels": [],
            "missing": [],
            "problems": [],
            "rows": [],
        }
    reports = report.by_macro(matrix, {ref.sha256: macro for ref in matrix.objects})
    return report.macro_json(reports[0])
