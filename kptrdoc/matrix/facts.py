"""What a macro page states from the matrix: the table, the minimum kernel, what is missing.

A ``__success`` program that does not load on an older kernel is not a
failure: it is the compatibility fact the page shows. The minimum kernel is
the oldest kernel from which every ``__success`` program loads on all newer
kernels tested. Cells that say nothing about the kernel's BPF support (a
kernel that did not boot, a program type the kernel refuses before
verification, a loader error) neither count for nor against it.

Per-kernel expectations: a decl tag ``kptrdoc:msg@RANGE=TEXT`` (RANGE such
as ``<6.13``, ``>=6.13`` or ``6.12``, see :mod:`kptrdoc.kernel_range`) states
a verifier message for the kernels in RANGE only; on those kernels it
replaces the plain ``__msg``s. ``kptrdoc:failure@RANGE`` (``__failure_on``)
marks a mistake that the kernels in RANGE reject (checked as ``__failure``)
and the others accept: there it must load, and a verifier rejection is a
problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kptrdoc.expectations import parse_tags
from kptrdoc.kernel_range import KernelRange, RangeError
from kptrdoc.matrix import results as res
from kptrdoc.matrix.kernels import Kernel

UNKNOWN = (res.REFUSED_PROGRAM_TYPE, res.NO_BOOT, res.LOADER_ERROR)
VERIFIED = (res.LOADED, res.REJECTED)
"""Verdicts that mean a kernel's verifier ran on the program."""

OK = "as expected"
INCOMPATIBLE = "not on this kernel"
MSG_DIFFERS = "message differs"
UNEXPECTED_LOAD = "loaded, expected a rejection"
UNEXPECTED_REJECT = "rejected, expected to load on this kernel"
NO_VERDICT = "no verdict"
DID_NOT_RUN = "loaded but did not run"


@dataclass(frozen=True)
class Expectation:
    """What the sample says a program must do (from its ``kptrdoc:`` decl tags)."""

    verdict: str | None
    """``success``, ``failure`` or ``None``."""
    msgs: tuple[str, ...] = ()
    kernel_msgs: tuple[tuple[str, str], ...] = ()
    """``(RANGE, TEXT)`` pairs from ``kptrdoc:msg@RANGE=TEXT`` tags."""
    description: str | None = None
    failure_ranges: tuple[str, ...] = ()
    """RANGEs from ``kptrdoc:failure@RANGE`` tags; ``verdict`` is then ``failure``."""

    @classmethod
    def from_tags(cls, tags: Sequence[str]) -> Expectation:
        annotations = parse_tags(list(tags))
        failure = annotations.failure or bool(annotations.failure_ranges)
        verdicts = {v for v, on in (("success", annotations.success), ("failure", failure)) if on}
        verdict = verdicts.pop() if len(verdicts) == 1 else None
        description = annotations.description or None
        return cls(
            verdict, annotations.msgs, annotations.kernel_msgs, description,
            annotations.failure_ranges,
        )  # fmt: skip

    def msgs_for(self, kernel: Kernel) -> tuple[str, ...]:
        specific = tuple(text for spec, text in self.kernel_msgs if in_range(kernel, spec))
        return specific or self.msgs

    def verdict_on(self, kernel: Kernel) -> str | None:
        """``success``/``failure`` on this kernel: ``__failure_on`` resolved by its ranges."""
        if self.failure_ranges:
            rejected = any(in_range(kernel, spec) for spec in self.failure_ranges)
            return "failure" if rejected else "success"
        return self.verdict


def in_range(kernel: Kernel, spec: str) -> bool:
    """Whether ``kernel`` is in ``spec``: ``<6.13``, ``<=6.12``, ``>=7``, ``>6.1``, ``6.12``.

    A malformed range holds no kernel.
    """
    try:
        return KernelRange.parse(spec).contains(kernel.upstream)
    except RangeError:
        return False


def msgs_match(log: str, msgs: Sequence[str]) -> str | None:
    """``None`` when every message occurs in ``log`` in order, else the first one missing."""
    position = 0
    for msg in msgs:
        found = log.find(msg, position)
        if found < 0:
            return msg
        position = found + len(msg)
    return None


def check(cell: res.Cell, expect: Expectation, kernel: Kernel) -> str:
    """How a cell stands against the program's expectation on this kernel."""
    if cell.verdict in UNKNOWN:
        return NO_VERDICT
    verdict = expect.verdict_on(kernel)
    if verdict == "success":
        if cell.loaded and res.did_not_run(cell.result):
            return DID_NOT_RUN
        if cell.loaded:
            return OK
        # a mistake that this kernel accepts (outside its __failure_on range) must load here
        if expect.failure_ranges and cell.verdict == res.REJECTED:
            return UNEXPECTED_REJECT
        return INCOMPATIBLE
    if verdict == "failure":
        if cell.loaded:
            return UNEXPECTED_LOAD
        if cell.verdict != res.REJECTED:
            return INCOMPATIBLE
        missing = msgs_match(str(cell.result.get("log") or ""), expect.msgs_for(kernel))
        return OK if missing is None else MSG_DIFFERS
    return NO_VERDICT


@dataclass(frozen=True)
class Row:
    source: str
    program: str
    expect: Expectation
    cells: dict[str, res.Cell] = field(default_factory=dict)
    """Kernel id -> cell."""


@dataclass(frozen=True)
class Compatibility:
    """One macro's compatibility facts over the kernels tested."""

    kernels: list[Kernel]
    rows: list[Row]
    minimum: Kernel | None
    missing: list[str]
    """What older kernels lack, by name (``kfunc bpf_cpumask_copy missing on 6.1``)."""

    @property
    def statement(self) -> str:
        if not any(row.expect.verdict == "success" for row in self.rows):
            return "no __success program: no minimum kernel to state"
        if self.minimum is None:
            return "the __success programs load on none of the kernels tested"
        return f"needs Linux ≥ {version_label(self.minimum)} of the kernels tested"

    def supported(self, kernel: Kernel) -> bool:
        """Whether the macro works on ``kernel``: it is the minimum kernel or newer.

        With no ``__success`` program every kernel counts; with one that loads
        nowhere, none does.
        """
        if not any(row.expect.verdict == "success" for row in self.rows):
            return True
        return self.minimum is not None and kernel.upstream >= self.minimum.upstream

    def problems(self) -> list[str]:
        """Cells that contradict a sample's own expectations on a kernel the macro works on.

        Below the minimum kernel a ``__failure`` program may load or fail differently:
        that kernel does not support the macro, which the table already shows.
        """
        out = []
        by_id = {k.id: k for k in self.kernels}
        for row in self.rows:
            for kernel_id, cell in row.cells.items():
                if not self.supported(by_id[kernel_id]):
                    continue
                status = check(cell, row.expect, by_id[kernel_id])
                if status in (UNEXPECTED_LOAD, UNEXPECTED_REJECT, MSG_DIFFERS, DID_NOT_RUN):
                    label = by_id[kernel_id].label
                    out.append(f"{row.source}: {row.program} on {label}: {status} ({cell.short})")
            refused = [c for c in row.cells.values() if c.verdict == res.REFUSED_PROGRAM_TYPE]
            verified = [c for c in row.cells.values() if c.verdict in VERIFIED]
            if refused and not verified:
                # a program type some kernel refuses outright must be verified on another
                out.append(
                    f"{row.source}: {row.program}: refused before verification on every "
                    "kernel tested, so no kernel verified it"
                )
        return out


def version_label(kernel: Kernel) -> str:
    return ".".join(str(n) for n in kernel.upstream[:2])


def _state(cell: res.Cell | None) -> str:
    if cell is None or cell.verdict in UNKNOWN:
        return "unknown"
    return "ok" if cell.loaded else "fail"


def minimum_kernel(kernels: Sequence[Kernel], rows: Sequence[Row]) -> Kernel | None:
    """The oldest kernel from which every ``__success`` program loads on all newer ones."""
    success = [row for row in rows if row.expect.verdict == "success"]
    if not success:
        return None
    minimum = None
    for kernel in sorted(kernels, key=lambda k: k.upstream, reverse=True):
        states = {_state(row.cells.get(kernel.id)) for row in success}
        if "fail" in states:
            break
        if states == {"ok"}:
            minimum = kernel
    return minimum


def compatibility(
    kernels: Sequence[Kernel],
    cells: Sequence[res.Cell],
    expectations: Mapping[tuple[str, str], Expectation],
) -> Compatibility:
    """Rows in cell order; ``expectations`` maps (object sha256, program) to expectations."""
    ordered = sorted(kernels, key=lambda k: k.upstream)
    rows: dict[tuple[str, str], Row] = {}
    for cell in cells:
        key = (cell.object, cell.program)
        if key not in rows:
            expect = expectations.get(key, Expectation(None))
            rows[key] = Row(cell.source, cell.program, expect)
        rows[key].cells[cell.kernel] = cell
    missing: list[str] = []
    for kernel in ordered:
        for row in rows.values():
            cell = row.cells.get(kernel.id)
            if cell is not None and cell.verdict == res.FAILED_BEFORE_VERIFIER:
                line = f"{cell.short} on {kernel.label}"
                if line not in missing:
                    missing.append(line)
    row_list = list(rows.values())
    return Compatibility(ordered, row_list, minimum_kernel(ordered, row_list), missing)
