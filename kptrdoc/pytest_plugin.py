"""pytest plugin: every program of every ``*.bpf.c`` is a test item, checked in the kernel.

Registered through the ``pytest11`` entry point, so ``pytest any/dir`` finds
samples in any tree. For each ``*.bpf.c`` the plugin compiles the file
(:mod:`kptrdoc.compile`, cached), lists its programs with libbpf and reads
each program's expectations from the object's BTF decl tags (the
annotations of ``kptrdoc.h``). Each item, named ``path::program``, loads its
program alone into the running kernel (:mod:`kptrdoc.loader`) and compares
the verdict with the expectation:

- ``__success``: the program must load; with ``__run(...)`` it must also run;
- ``__failure``: the verifier must reject it and every ``__msg`` must appear
  in its log, in order;
- ``__failure_on("RANGE")``: as ``__failure`` when the running kernel is in
  RANGE, as ``__success`` when it is not;
- ``__msg_on("RANGE", "TEXT")``: when the running kernel is in RANGE, these
  messages replace the plain ``__msg`` ones; otherwise they are ignored;
- none or several of ``__success``/``__failure``/``__failure_on``, a bad
  range, or an unknown ``kptrdoc:`` tag: the item is an error.

Ranges (:mod:`kptrdoc.kernel_range`) are read against the upstream version
of ``uname -r`` of the running kernel.

A kernel that refuses the program type outright (empty log, EPERM/EINVAL)
gives an xfail with the reason, never a pass. Without BTF or ``bpf()``
permission the items skip; with ``CI=true`` or ``--kptrdoc-require-kernel``
they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kptrdoc.errors import KptrdocError
from kptrdoc.expectations import Expectation, parse_tags
from kptrdoc.kernel_range import host_version

LOG_TAIL_LINES = 20


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kptrdoc", "kptrdoc BPF samples")
    group.addoption(
        "--kptrdoc-require-kernel",
        action="store_true",
        default=False,
        help="fail (instead of skip) BPF sample items when the kernel cannot load programs",
    )


_COUNTS = pytest.StashKey[dict[str, int]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_COUNTS] = {"compiled": 0, "cached": 0}


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    counts = config.stash.get(_COUNTS, None)
    if counts and (counts["compiled"] or counts["cached"]):  # empty on an xdist controller
        terminalreporter.write_line(
            f"kptrdoc: {counts['compiled']} sample object(s) compiled, "
            f"{counts['cached']} reused from the cache"
        )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.endswith(".bpf.c"):
        return BpfSourceFile.from_parent(parent, path=file_path)
    return None


# --------------------------------------------------------------------------
# Expectations, read from the compiled object's BTF
# --------------------------------------------------------------------------


def read_expectations(obj_path: Path, programs: list[str]) -> dict[str, Expectation]:
    """Each program's expectations, from the decl tags on its BTF FUNC."""
    from kptrdoc.btf import parse_btf
    from kptrdoc.btf.types import Kind
    from kptrdoc.elf import ElfObject

    elf = ElfObject.open(obj_path)
    data = elf.section_data(".BTF")
    if not data:
        raise KptrdocError(f"{obj_path}: no .BTF section (was it compiled with -g?)")
    spec = parse_btf(data)
    out: dict[str, Expectation] = {}
    for name in programs:
        funcs = [t for t in spec.by_name(name) if t.kind == Kind.FUNC]
        tags = [tag.name for func in funcs for tag in spec.decl_tags_of(func.id)
                if tag.component_idx == -1]  # fmt: skip
        out[name] = parse_tags(tags)
    return out


# --------------------------------------------------------------------------
# Kernel access, decided once per process
# --------------------------------------------------------------------------

_ACCESS: str | None = None


def _kernel_problem() -> str:
    global _ACCESS
    if _ACCESS is None:
        from kptrdoc.loader import kernel_access

        _ACCESS = kernel_access()
    return _ACCESS


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


class BpfSourceFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from kptrdoc.compile import CompileError, compile_sample
        from kptrdoc.loader import list_programs
        from kptrdoc.toolchain import ToolchainError

        try:
            compiled = compile_sample(self.path)
        except CompileError as exc:
            yield BrokenSampleItem.from_parent(
                self, name="<compile>", message=f"{exc}\n\n{exc.diagnostics}", kind="fail"
            )
            return
        except KptrdocError as exc:  # toolchain missing: like a kernel without BTF
            yield BrokenSampleItem.from_parent(self, name="<toolchain>", message=str(exc),
                                               kind="skip")  # fmt: skip
            return
        self.config.stash[_COUNTS]["cached" if compiled.cached else "compiled"] += 1
        try:
            programs = list_programs(compiled.path)
            expectations = read_expectations(compiled.path, [p.name for p in programs])
        except ToolchainError as exc:  # the pinned libbpf is missing
            yield BrokenSampleItem.from_parent(self, name="<toolchain>", message=str(exc),
                                               kind="skip")  # fmt: skip
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
                name=program.name,
                obj_path=compiled.path,
                section=program.section,
                expect=expectations[program.name],
            )


class BrokenSampleItem(pytest.Item):
    """Stands for a sample that could not be compiled or read: fails (or skips) with the reason."""

    def __init__(self, *, message: str, kind: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.message = message
        self.kind = kind

    def runtest(self) -> None:
        if self.kind == "skip":
            _skip_or_fail(self.config, self.message)
        raise HarnessFailure(self.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        if isinstance(excinfo.value, HarnessFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


class BpfProgramItem(pytest.Item):
    """One program of a sample, loaded alone into the running kernel."""

    def __init__(
        self, *, obj_path: Path, section: str, expect: Expectation, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)
        self.obj_path = obj_path
        self.section = section
        self.expect = expect
        self.result = None

    def setup(self) -> None:
        problem = self.expect.problem()
        if problem:
            pytest.fail(f"{self.path}: program {self.name!r}: {problem}", pytrace=False)
        reason = _kernel_problem()
        if reason:
            _skip_or_fail(self.config, reason)
        # the running kernel decides which per-kernel expectations apply
        self.expect = self.expect.on_kernel(host_version())

    def runtest(self) -> None:
        from kptrdoc import loader

        result = loader.load_program(self.obj_path, self.name, run=self.expect.run)
        self.result = result
        self.user_properties.append(("verdict", result.verdict))
        self.user_properties.append(("insns_processed", result.insns_processed))
        if result.verdict == loader.REFUSED_PROGRAM_TYPE:
            pytest.xfail(result.reason)
        if self.expect.success:
            if result.verdict != loader.LOADED:
                raise HarnessFailure(self._report("it was not loaded"))
            if self.expect.run and (result.run is None or not result.run.ran):
                run = result.run
                got = (run.error or f"run count {run.run_cnt_before} -> {run.run_cnt_after}"
                       if run else "not run")  # fmt: skip
                raise HarnessFailure(self._report(f"it did not run when triggered ({got})"))
            return
        if result.verdict != loader.REJECTED:
            raise HarnessFailure(self._report("the verifier did not reject it"))
        missing = _first_missing(result.log, self.expect.msgs)
        if missing is not None:
            raise HarnessFailure(
                self._report(f'__msg("{missing}") is not in the verifier log (in order)')
            )

    def _report(self, what: str) -> str:
        r = self.result
        lines = [
            f"{self.name}: {what} (verdict: {r.verdict})",
            f"program:  {self.path}::{self.name} ({self.section})",
            f"expected: {self.expect.describe()}",
            f"got:      {r.verdict}" + (f" (errno {r.errno})" if r.errno else ""),
            f"problem:  {what}",
        ]
        if r.reason:
            lines.append(f"reason:   {r.reason}")
        lines.append(f"kernel:   {r.kernel_release}, libbpf {r.libbpf_version}")
        tail = r.log.rstrip().splitlines()[-LOG_TAIL_LINES:]
        if tail:
            lines.append(f"verifier log (last {len(tail)} lines):")
            lines.extend("  " + ln for ln in tail)
        else:
            lines.append("verifier log: empty")
        return "\n".join(lines)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        if isinstance(excinfo.value, HarnessFailure | KptrdocError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


def _first_missing(log: str, msgs: tuple[str, ...]) -> str | None:
    """The first message not found in ``log`` after the previous one's match."""
    pos = 0
    for msg in msgs:
        found = log.find(msg, pos)
        if found < 0:
            return msg
        pos = found + len(msg)
    return None
