"""pytest plugin: every program of every ``*.bpf.c`` is a test item, checked in the kernel.

Registered through the ``pytest11`` entry point, so ``pytest any/dir`` finds
samples in any tree. For each ``*.bpf.c`` the plugin compiles the file
(:mod:`kptrdoc.compile`, cached), lists its programs with libbpf and reads
each program's expectations from the object's BTF decl tags (the
annotations of ``kptrdoc.h``). Each item, named ``path::program``, loads its
program alone into the running kernel (:mod:`kptrdoc.loader`) and compares
the verdict with the expectation:

- ``__success``: the program must load; with ``__run(...)`` it must also run,
  and every ``__run_check("GLOBAL", "VALUE")`` must read VALUE back from the
  global (after ``__run_set`` wrote its globals); a different value fails
  with both values;
- ``__failure``: the verifier must reject it and every ``__msg`` must appear
  in its log, in order;
- ``__failure_on("RANGE")``: as ``__failure`` when the running kernel is in
  RANGE, as ``__success`` when it is not;
- ``__msg_on("RANGE", "TEXT")``: when the running kernel is in RANGE, these
  messages replace the plain ``__msg`` ones; otherwise they are ignored;
- none or several of ``__success``/``__failure``/``__failure_on``, a bad
  range, an unknown ``kptrdoc:`` tag, or a ``__run_check``/``__run_set`` naming
  a global the object lacks or a value its trigger does not record: the item
  is an error.

The rule is :func:`kptrdoc.expectations.check`, the same for the matrix and
the site. Ranges (:mod:`kptrdoc.kernel_range`) are read against the upstream
version of ``uname -r`` of the running kernel; the matrix record (the first
``matrix.lock.json`` above the sample) says whether this kernel *build* was
measured (its BTF hash) and where the sample's floor is:

- a flipped verdict fails;
- a ``__msg`` missing from the log fails on a recorded build, and is *drift*
  on any other: listed in the summary, failing only with ``--strict-messages``;
- a program type the kernel refuses by policy (EPERM, empty log), a program
  it cannot attach, and a kernel below the floor give an xfail with the
  reason, never a pass. Under ``CI=true`` that needs the program to have met
  its annotation on a recorded kernel, else it fails.

Without BTF or ``bpf()`` permission the items skip; with ``CI=true`` or
``--kptrdoc-require-kernel`` they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kptrdoc.errors import KptrdocError
from kptrdoc.expectations import Expectation, Status, Variable, check, object_variables, outcome
from kptrdoc.kernel_range import host_version

if TYPE_CHECKING:
    from kptrdoc.loader import RunResult
    from kptrdoc.matrix.record import Record
    from kptrdoc.variants import Variant

LOG_TAIL_LINES = 20


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kptrdoc", "kptrdoc BPF samples")
    group.addoption(
        "--kptrdoc-require-kernel",
        action="store_true",
        default=False,
        help="fail (instead of skip) BPF sample items when the kernel cannot load programs",
    )
    group.addoption(
        "--strict-messages",
        action="store_true",
        default=False,
        help="fail on message drift: a __msg missing from the log of a kernel build that the "
        "matrix record does not hold (by default drift is only listed)",
    )


_COUNTS = pytest.StashKey[dict[str, int]]()
_HOST = pytest.StashKey["HostKernel"]()
_RECORDS = pytest.StashKey[dict[Path, "Record"]]()
DRIFT_PROPERTY = "kptrdoc_drift"


@dataclass(frozen=True)
class HostKernel:
    """The running kernel, as the checks need it."""

    version: tuple[int, ...]
    btf_sha256: str
    pinned_libbpf: bool


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_COUNTS] = {"compiled": 0, "cached": 0}
    config.stash[_RECORDS] = {}


def _host(config: pytest.Config) -> HostKernel:
    if _HOST not in config.stash:
        from kptrdoc import toolchain
        from kptrdoc.matrix.kernels import host_btf_sha256

        try:
            pinned = toolchain.libbpf().version == toolchain.PINNED_LIBBPF
        except KptrdocError:
            pinned = False
        config.stash[_HOST] = HostKernel(host_version(), host_btf_sha256(), pinned)
    return config.stash[_HOST]


def _record(config: pytest.Config, sample: Path) -> Record:
    """The matrix record that holds ``sample`` (an empty one when there is none)."""
    from kptrdoc.matrix.record import Record, find_record

    path = find_record(sample.parent)
    key = path or Path("/nonexistent") / "matrix.lock.json"
    records = config.stash[_RECORDS]
    if key not in records:
        records[key] = Record.load(path) if path else Record(key)
    return records[key]


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    counts = config.stash.get(_COUNTS, None)
    if counts and (counts["compiled"] or counts["cached"]):  # empty on an xdist controller
        terminalreporter.write_line(
            f"kptrdoc: {counts['compiled']} sample object(s) compiled, "
            f"{counts['cached']} reused from the cache"
        )
    drifted = [
        (report.nodeid, value)
        for report in terminalreporter.stats.get("passed", [])
        for name, value in getattr(report, "user_properties", [])
        if name == DRIFT_PROPERTY
    ]
    if drifted:
        terminalreporter.write_sep("-", f"kptrdoc: message drift ({len(drifted)})")
        terminalreporter.write_line(
            "this kernel build is not in the matrix record; these programs got the right "
            "verdict with another message (--strict-messages fails them):"
        )
        for nodeid, text in drifted:
            terminalreporter.write_line(f"  {nodeid}: {text}")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.endswith(".bpf.c"):
        return BpfSourceFile.from_parent(parent, path=file_path)
    return None


# --------------------------------------------------------------------------
# Expectations, read from the compiled object's BTF
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# Kernel access, decided once per process
# --------------------------------------------------------------------------

_ACCESS = pytest.StashKey[str]()


def _kernel_problem(config: pytest.Config) -> str:
    if _ACCESS not in config.stash:
        from kptrdoc.loader import kernel_access

        config.stash[_ACCESS] = kernel_access()
    return config.stash[_ACCESS]


def _require_kernel(config: pytest.Config) -> bool:
    ci = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")
    return ci or bool(config.getoption("kptrdoc_require_kernel", default=False))


def _skip_or_fail(config: pytest.Config, reason: str) -> None:
    if _require_kernel(config):
        pytest.fail(f"{reason} (CI=true or --kptrdoc-require-kernel: not skipped)", pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------------
# Collectors and items
# --------------------------------------------------------------------------


class HarnessFailure(Exception):
    """A program did not do what its annotations say; the message is the whole report."""


class SampleItem(pytest.Item):
    """An item of a sample file: its failures are the harness's own report, no traceback."""

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        if isinstance(excinfo.value, HarnessFailure | KptrdocError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


class BpfSourceFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from kptrdoc.toolchain import target_arch
        from kptrdoc.variants import VariantError, read_variants

        try:
            variants = read_variants(self.path)
        except VariantError as exc:
            yield BrokenSampleItem.from_parent(self, name="<build>", message=str(exc), kind="fail")
            return
        host_arch = target_arch()
        loaded = False
        for variant in variants:
            suffix = "" if variant is variants[0] else f"[{variant.label}]"
            if variant.error is not None:
                yield CompileErrorItem.from_parent(
                    self, name=f"<compile:{variant.label}>", variant=variant
                )
            elif variant.native(host_arch):
                yield from self._programs(variant, suffix if loaded else "")
                loaded = True
            else:
                yield BuildOnlyItem.from_parent(
                    self, name=f"<build:{variant.label}>", variant=variant
                )

    def _programs(self, variant: Variant, suffix: str) -> Iterator[pytest.Item]:
        from kptrdoc.compile import CompileError, compile_sample
        from kptrdoc.objects import load_object
        from kptrdoc.toolchain import ToolchainError

        try:
            compiled = compile_sample(self.path, variant)
        except CompileError as exc:
            yield BrokenSampleItem.from_parent(
                self, name=f"<compile{suffix}>", message=f"{exc}\n\n{exc.diagnostics}",
                kind="fail",
            )  # fmt: skip
            return
        except KptrdocError as exc:  # toolchain missing: like a kernel without BTF
            yield BrokenSampleItem.from_parent(
                self, name="<toolchain>", message=str(exc), kind="skip"
            )
            return
        self.config.stash[_COUNTS]["cached" if compiled.cached else "compiled"] += 1
        try:
            programs = load_object(compiled.path).programs
            record = _record(self.config, self.path)
        except ToolchainError as exc:  # the pinned libbpf is missing
            yield BrokenSampleItem.from_parent(
                self, name="<toolchain>", message=str(exc), kind="skip"
            )
            return
        except (KptrdocError, ImportError) as exc:
            yield BrokenSampleItem.from_parent(
                self, name="<object>", message=f"{self.path}: {exc}", kind="fail"
            )
            return
        if not programs:
            yield BrokenSampleItem.from_parent(
                self, name="<object>", message=f"{self.path}: no BPF programs in it", kind="fail"
            )
            return
        for program in programs:
            yield BpfProgramItem.from_parent(
                self,
                name=program.name + suffix,
                program=program.name,
                obj_path=compiled.path,
                section=program.section,
                expect=program.expect,
                record=record,
            )


class CompileErrorItem(SampleItem):
    """A build variant whose point is a compiler error: clang must fail with that text."""

    def __init__(self, *, variant: Variant, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.variant = variant

    def runtest(self) -> None:
        from kptrdoc.compile import CompileError, compile_sample

        try:
            compiled = compile_sample(self.path, self.variant)
        except CompileError as exc:
            if self.variant.error and self.variant.error in exc.diagnostics:
                return
            raise HarnessFailure(
                f"{self.path} ({self.variant.label}): clang failed, but not with "
                f"{self.variant.error!r}:\n{exc.diagnostics}"
            ) from None
        raise HarnessFailure(
            f"{self.path} ({self.variant.label}): compiled to {compiled.path}, expected the "
            f"compiler error {self.variant.error!r}"
        )


class BuildOnlyItem(CompileErrorItem):
    """A variant the build machine cannot load (another architecture or byte order):
    it must compile, and the object model must read it."""

    def runtest(self) -> None:
        from kptrdoc.compile import CompileError, compile_sample
        from kptrdoc.objects import load_object

        try:
            compiled = compile_sample(self.path, self.variant)
        except CompileError as exc:
            raise HarnessFailure(f"{exc}\n\n{exc.diagnostics}") from None
        load_object(compiled.path)


class BrokenSampleItem(SampleItem):
    """Stands for a sample that could not be compiled or read: fails (or skips) with the reason."""

    def __init__(self, *, message: str, kind: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.message = message
        self.kind = kind

    def runtest(self) -> None:
        if self.kind == "skip":
            _skip_or_fail(self.config, self.message)
        raise HarnessFailure(self.message)


class BpfProgramItem(SampleItem):
    """One program of a sample, loaded alone into the running kernel."""

    def __init__(
        self,
        *,
        program: str,
        obj_path: Path,
        section: str,
        expect: Expectation,
        record: Record,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self.program = program
        self.obj_path = obj_path
        self.section = section
        self.expect = expect
        self.record = record
        self.sample = record.key(self.path)
        self.result = None

    def setup(self) -> None:
        problem = self.expect.problem(self._variables())
        if problem:
            pytest.fail(f"{self.path}: program {self.name!r}: {problem}", pytrace=False)
        reason = _kernel_problem(self.config)
        if reason:
            _skip_or_fail(self.config, reason)

    def _variables(self) -> dict[str, Variable] | None:
        """The object's globals, when a ``__run_check``/``__run_set`` names some."""
        if not (self.expect.checks or self.expect.inputs):
            return None
        from kptrdoc.objects import load_object

        try:
            return object_variables(load_object(self.obj_path))
        except KptrdocError:  # the loader reports a global it cannot find, by name
            return None

    def runtest(self) -> None:
        from kptrdoc import loader

        host = _host(self.config)
        resolved = self.expect.resolve(host.version)
        result = loader.load_program(self.obj_path, self.program, run=resolved.run)
        self.result = result
        run = result.run
        wrong = run.wrong if run else ""
        got = outcome(
            result.verdict,
            result.errno,
            run.error if run else "",
            run.ran if run else None,
            wrong=wrong,
        )
        self.user_properties.append(("verdict", result.verdict))
        self.user_properties.append(("outcome", got.value))
        self.user_properties.append(("insns_processed", result.insns_processed))
        folder = str(Path(self.sample).parent)
        recorded = host.pinned_libbpf and self.record.holds_build(host.btf_sha256)
        checked = check(
            resolved,
            got,
            result.log,
            recorded=recorded,
            below_floor=self.record.below_floor(folder, host.version),
            wrong=wrong,
        )
        status = checked.status
        if status is Status.AS_EXPECTED:
            return
        if status is Status.DRIFT:
            said = loader.verifier_message(result.log)
            if self.config.getoption("strict_messages", default=False):
                raise HarnessFailure(self._report(f"{checked.detail} (--strict-messages)"))
            self.user_properties.append((DRIFT_PROPERTY, f"{checked.detail}; it says: {said}"))
            return
        if status is Status.UNVERIFIED:
            why = f"{got.label}: {result.reason or checked.detail}"
            if _require_kernel(self.config) and not self.record.met_on_a_recorded_kernel(
                self.sample, self.program, self.expect
            ):
                raise HarnessFailure(
                    self._report(
                        f"not verifiable here ({got.label}) and it met its annotation on no "
                        "recorded kernel (CI=true)"
                    )
                )
            pytest.xfail(why)
        what = {
            Status.FLIPPED: checked.detail,
            Status.MSG_DIFFERS: f"{checked.detail}, on a kernel build the record holds",
            Status.DID_NOT_RUN: f"it did not run when triggered ({checked.detail}"
            + (
                f": {run.error or f'run count {run.run_cnt_before} -> {run.run_cnt_after}'}"
                if run
                else ""
            )
            + ")",
            Status.WRONG_VALUE: f"it ran on {run.trigger if run else '?'}, but user space read "
            f"a wrong value: {checked.detail}",
            Status.MISSING_ABOVE_FLOOR: f"{checked.detail} (this kernel is not below the floor)",
            Status.NO_VERDICT: checked.detail,
        }.get(status, checked.detail)
        raise HarnessFailure(self._report(what))

    def _report(self, what: str) -> str:
        r = self.result
        lines = [
            f"{self.name}: {what} (verdict: {r.verdict})",
            f"program:  {self.path}::{self.name} ({self.section})",
            f"expected: {self.expect.describe(_host(self.config).version)}",
            f"got:      {r.verdict}" + (f" (errno {r.errno})" if r.errno else ""),
            f"problem:  {what}",
        ]
        if r.reason:
            lines.append(f"reason:   {r.reason}")
        if r.run is not None:
            lines.extend(_run_lines(r.run))
        lines.append(f"kernel:   {r.kernel_release}, libbpf {r.libbpf_version}")
        tail = r.log.rstrip().splitlines()[-LOG_TAIL_LINES:]
        if tail:
            lines.append(f"verifier log (last {len(tail)} lines):")
            lines.extend("  " + ln for ln in tail)
        else:
            lines.append("verifier log: empty")
        return "\n".join(lines)


def _run_lines(run: RunResult) -> list[str]:
    """The run in the report: the trigger, what it recorded, each value written and read."""
    recorded = ", ".join(f"{k}={v}" for k, v in run.values.items()) or "nothing"
    lines = [f"run:      {run.trigger}, run count {run.run_cnt_before} -> {run.run_cnt_after}; "
             f"recorded {recorded}"]  # fmt: skip
    if run.error:
        lines.append(f"          error: {run.error}")
    for item in run.inputs:
        done = f"wrote {item.written}" if not item.error else f"not written: {item.error}"
        lines.append(f'          __run_set("{item.variable}", "{item.value}"): {done}')
    for check_ in run.checks:
        if check_.error:
            said = f"not compared: {check_.error}"
        else:
            said = f"read {check_.got}, expected {check_.expected}"
            said += "" if check_.ok else "  <-- wrong"
        where = f" ({check_.section}+{check_.offset})" if check_.section else ""
        lines.append(f'          __run_check("{check_.variable}", "{check_.value}"){where}: {said}')
    return lines
