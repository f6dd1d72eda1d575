"""The kernel matrix: every sample program loaded on several real kernels.

- :func:`run_matrix` (``kptrdoc.matrix.run``): boot each kernel once under QEMU
  (the host kernel runs directly), load every program of every object with
  our loader, cache the verdicts by (object sha256, kernel id);
- :mod:`kptrdoc.matrix.record`: the committed record (``samples/matrix.lock.json``)
  that pins the kernels and holds what each program did on each;
- :func:`page_facts`: a macro page's table and measured floor, from the
  record alone (no VM, no network: for site builds);
- ``python -m kptrdoc.matrix``: compile every sample, run, check against the
  record (``--record`` writes it).

Imports are lazy: the guest side (``kptrdoc.matrix.guest``) must stay
standard-library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kptrdoc.floors import DerivedFloor
    from kptrdoc.matrix.run import Matrix


def run_matrix(objects, kernels=None, **options) -> Matrix:
    """See :func:`kptrdoc.matrix.run.run_matrix`."""
    from kptrdoc.matrix import run

    if kernels is None:
        kernels = run.DEFAULT_KERNELS
    return run.run_matrix(objects, kernels, **options)


@dataclass(frozen=True)
class PageCell:
    outcome: str
    """An :class:`kptrdoc.expectations.Outcome` value."""
    status: str
    """A :class:`kptrdoc.expectations.Status` value."""
    short: str
    """``✓`` or the decisive message."""
    detail: str = ""


@dataclass(frozen=True)
class PageRow:
    sample: str
    program: str
    expect: str
    """``success``, ``failure`` or ``""``."""
    cells: dict[str, PageCell] = field(default_factory=dict)
    """Kernel id -> cell; empty when the record has not measured the program yet."""
    failure_ranges: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageKernel:
    id: str
    label: str
    release: str
    build: str
    """The first digits of the sha256 of the kernel's BTF."""


@dataclass(frozen=True)
class PageFacts:
    """A macro page's kernel facts, from the committed record alone (nothing is booted)."""

    macro: str
    statement: str
    floor: str | None = None
    """The measured floor (``6.12``): the oldest recorded kernel that loads every example."""
    derived: DerivedFloor | None = None
    """The cited floor, derived from what the objects use (:mod:`kptrdoc.floors`)."""
    kernels: tuple[PageKernel, ...] = ()
    rows: tuple[PageRow, ...] = ()
    missing: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    not_measured: tuple[str, ...] = ()
    """Programs the record does not hold yet (``sample: program``)."""


def page_facts(
    macro: str, objects: dict[Path, str], record_path: Path | None, also: tuple[str, ...] = ()
) -> PageFacts:
    """The compatibility facts of one macro page, from the committed record.

    ``objects`` maps each compiled sample of the page to its record key
    (``__kptr/kptr.bpf.c``); ``record_path`` is the record file (``None``: no
    record, every program is "not measured yet"); ``also``: the other names the page
    documents (a cited fact that names one of them is the macro's own).
    """
    from kptrdoc.expectations import Outcome
    from kptrdoc.floors import derive_floor, objects_uses
    from kptrdoc.matrix.record import Record
    from kptrdoc.objects import load_object

    record = Record.load(record_path) if record_path else None
    rows: list[PageRow] = []
    not_measured: list[str] = []
    problems: list[str] = []
    missing: list[str] = []
    folder = ""
    for obj, sample in objects.items():
        folder = str(Path(sample).parent)
        for program in load_object(obj).programs:
            expect = program.expect
            entry = record.program(sample, program.name) if record else None
            if entry is None:
                not_measured.append(f"{sample}: {program.name}")
                rows.append(
                    PageRow(
                        sample,
                        program.name,
                        expect.verdict or "",
                        failure_ranges=expect.failure_ranges,
                    )
                )
                continue
            assert record is not None
            cells: dict[str, PageCell] = {}
            for kernel in record.kernels:
                cell = entry.cells.get(kernel.id)
                if cell is None:
                    continue
                got = record.checked(sample, expect, kernel, cell)
                short = "✓" if cell.outcome.loaded else (cell.message or cell.outcome.label)
                cells[kernel.id] = PageCell(
                    cell.outcome.value, got.status.value, short[:160], got.detail
                )
                if got.status.fails:
                    problems.append(
                        f"{sample}: {program.name} on {kernel.label}: "
                        f"{got.status.value}: {got.detail}"
                    )
                if cell.outcome is Outcome.MISSING_FEATURE:
                    line = f"{cell.message} on {kernel.label}"
                    if line not in missing:
                        missing.append(line)
            rows.append(
                PageRow(sample, program.name, expect.verdict or "", cells, expect.failure_ranges)
            )
    folder_name = Path(folder).name if folder else macro
    derived = derive_floor(
        folder_name,
        objects_uses((Path(sample).name, obj) for obj, sample in objects.items()),
        (macro, *also),
    )
    if record is None or record.empty:
        return PageFacts(
            macro,
            "the kernel matrix has not been recorded for these samples "
            "('python -m kptrdoc.matrix --record')",
            derived=derived,
            rows=tuple(rows),
            not_measured=tuple(not_measured),
        )
    floor = record.floor(folder)
    kernels = tuple(
        PageKernel(k.id, k.label, k.release, k.btf_sha256[:12])
        for k in sorted(record.kernels, key=lambda k: k.upstream)
    )
    if not any(r.expect == "success" for r in rows):
        statement = "no __success program: no floor to measure"
    elif floor is None:
        statement = "the examples load on none of the recorded kernels"
    else:
        statement = (
            f"loads from Linux {'.'.join(map(str, floor.upstream[:2]))} on, of the "
            "recorded kernels (a measured floor, not a cited requirement)"
        )
    floor_text = ".".join(map(str, floor.upstream[:2])) if floor else None
    return PageFacts(
        macro=macro,
        statement=statement,
        floor=floor_text,
        derived=derived,
        kernels=kernels,
        rows=tuple(rows),
        missing=tuple(missing),
        problems=tuple(problems),
        not_measured=tuple(not_measured),
    )
