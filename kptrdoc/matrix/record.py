"""The committed record of the kernel matrix, reviewed like a lock file.

``samples/matrix.lock.json`` (any tree: the first ``matrix.lock.json`` found
walking up from a sample) holds:

- ``toolchain``: the clang, libbpf and ``vmlinux.h`` BTF the record was made with;
- ``kernels``: the exact Debian kernel packages (suite, version, sha256 of
  each ``.deb``), with the kernel's release and the sha256 of its BTF, which
  identifies the build;
- ``samples``: per sample path (relative to the record's folder) and program,
  the annotation's verdict and, per kernel, the outcome, the decisive
  message, the verifier log lines the ``__msg`` annotations are checked
  against, and the instructions processed (shown, never asserted).

A record changes only through ``python -m kptrdoc.matrix --record``. Results
are keyed by sample path and program name, not by object hash, so a record
stays readable after clang or libbpf moved on.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kptrdoc import debversion
from kptrdoc.errors import KptrdocError
from kptrdoc.expectations import Checked, Expectation, Outcome, check
from kptrdoc.matrix.kernels import Kernel, Package

RECORD_NAME = "matrix.lock.json"
FORMAT = 1
LOG_LIMIT = 64 * 1024
"""Bytes of a verifier log kept per cell: the head and the tail beyond that."""


class RecordError(KptrdocError):
    """A record that cannot be read: the message names the file and what is wrong."""


@dataclass(frozen=True)
class RecordedKernel:
    suite: str
    version: str
    release: str
    btf_sha256: str
    packages: tuple[Package, ...]

    @property
    def id(self) -> str:
        return f"{self.suite}/{self.version}"

    @property
    def upstream(self) -> tuple[int, ...]:
        return debversion.upstream_numbers(self.version)[:3]

    @property
    def label(self) -> str:
        return f"{'.'.join(map(str, self.upstream[:2]))} ({self.suite})"

    def kernel(self) -> Kernel:
        """As a matrix kernel (no files: for pages and offline checks)."""
        return Kernel(
            name=self.suite,
            release=self.release,
            version=self.version,
            packages=self.packages,
            btf_sha256=self.btf_sha256,
        )

    @classmethod
    def of(cls, kernel: Kernel) -> RecordedKernel:
        return cls(kernel.name, kernel.version, kernel.release, kernel.btf_sha256, kernel.packages)


@dataclass(frozen=True)
class RecordedCell:
    """One program on one recorded kernel."""

    outcome: Outcome
    message: str = ""
    """The decisive line: the verifier's last word, or libbpf's reason."""
    log: tuple[str, ...] = ()
    """The verifier log of a rejection: what the ``__msg`` annotations are checked against."""
    insns_processed: int | None = None

    @property
    def log_text(self) -> str:
        return "\n".join(self.log)


@dataclass(frozen=True)
class RecordedProgram:
    expect: str
    """The annotation when recorded: ``success``, ``failure`` or ``failure_on <ranges>``."""
    cells: Mapping[str, RecordedCell] = field(default_factory=dict)
    """Kernel id -> cell."""


@dataclass(frozen=True)
class Toolchain:
    clang: str = ""
    libbpf: str = ""
    vmlinux_btf: str = ""
    """sha256 of the BTF ``vmlinux.h`` was generated from."""


@dataclass(frozen=True)
class Record:
    path: Path
    toolchain: Toolchain = Toolchain()
    kernels: tuple[RecordedKernel, ...] = ()
    samples: Mapping[str, Mapping[str, RecordedProgram]] = field(default_factory=dict)
    """Sample path -> program -> what was recorded."""

    # ------------------------------------------------------------------ reading

    @classmethod
    def load(cls, path: Path) -> Record:
        """The record at ``path``; an empty one when the file does not exist. Read once
        per process for a given size and modification time."""
        try:
            stat = path.stat()
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise RecordError(f"{path}: cannot read the matrix record ({exc.strerror})") from None
        return _load_cached(path, stat.st_size, stat.st_mtime_ns)

    @classmethod
    def _read(cls, path: Path) -> Record:
        try:
            text = path.read_text()
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise RecordError(f"{path}: cannot read the matrix record ({exc.strerror})") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise RecordError(f"{path}: not JSON ({exc})") from None
        try:
            return cls._from_json(path, data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RecordError(f"{path}: not a matrix record of format {FORMAT} ({exc!r})") from None

    @classmethod
    def _from_json(cls, path: Path, data: dict) -> Record:
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        kernels = tuple(
            RecordedKernel(
                suite=str(k["suite"]),
                version=str(k["version"]),
                release=str(k["release"]),
                btf_sha256=str(k["btf_sha256"]),
                packages=tuple(
                    Package(str(p["name"]), str(k["version"]), str(p["sha256"]))
                    for p in k["packages"]
                ),
            )
            for k in data["kernels"]
        )
        samples: dict[str, dict[str, RecordedProgram]] = {}
        for sample, programs in data["samples"].items():
            for program, entry in programs.items():
                cells = {
                    kid: RecordedCell(
                        outcome=Outcome(c["outcome"]),
                        message=str(c.get("message", "")),
                        log=tuple(str(line) for line in c.get("log", [])),
                        insns_processed=c.get("insns_processed"),
                    )
                    for kid, c in entry["kernels"].items()
                }
                samples.setdefault(sample, {})[program] = RecordedProgram(
                    str(entry["expect"]), cells
                )
        tool = data.get("toolchain", {})
        return cls(path, Toolchain(**{k: str(v) for k, v in tool.items()}), kernels, samples)

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "toolchain": {
                "clang": self.toolchain.clang,
                "libbpf": self.toolchain.libbpf,
                "vmlinux_btf": self.toolchain.vmlinux_btf,
            },
            "kernels": [
                {
                    "suite": k.suite,
                    "version": k.version,
                    "release": k.release,
                    "btf_sha256": k.btf_sha256,
                    "packages": [{"name": p.name, "sha256": p.sha256} for p in k.packages],
                }
                for k in sorted(self.kernels, key=lambda k: k.upstream)
            ],
            "samples": {
                sample: {
                    program: {
                        "expect": entry.expect,
                        "kernels": {kid: _cell_json(c) for kid, c in sorted(entry.cells.items())},
                    }
                    for program, entry in sorted(programs.items())
                }
                for sample, programs in sorted(self.samples.items())
            },
        }

    def save(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n")
        tmp.replace(self.path)

    # ------------------------------------------------------------------ questions

    @property
    def empty(self) -> bool:
        return not self.kernels

    def kernel(self, kernel_id: str) -> RecordedKernel | None:
        return next((k for k in self.kernels if k.id == kernel_id), None)

    def holds_build(self, btf_sha256: str) -> bool:
        """Whether a kernel build (by the hash of its BTF) is one the record measured."""
        return bool(btf_sha256) and any(k.btf_sha256 == btf_sha256 for k in self.kernels)

    def pins(self) -> dict[str, tuple[Package, ...]]:
        """Suite -> the packages pinned for it."""
        return {k.suite: k.packages for k in self.kernels}

    def key(self, source: Path) -> str:
        """The record's key of a sample: its path relative to the record's folder."""
        source = Path(source).resolve()
        try:
            return source.relative_to(self.path.parent.resolve()).as_posix()
        except ValueError:
            return source.as_posix()

    def program(self, source: Path | str, program: str) -> RecordedProgram | None:
        sample = source if isinstance(source, str) else self.key(source)
        return self.samples.get(sample, {}).get(program)

    @functools.cached_property
    def _examples(self) -> dict[str, list[RecordedProgram]]:
        """Folder -> its ``__success`` programs."""
        out: dict[str, list[RecordedProgram]] = {}
        for sample, programs in self.samples.items():
            folder = out.setdefault(Path(sample).parent.as_posix(), [])
            folder += [e for e in programs.values() if e.expect == "success"]
        return out

    def floor(self, folder: str) -> RecordedKernel | None:
        """The measured floor of a page (a sample folder): the oldest recorded kernel
        from which every ``__success`` program of the folder loads on every newer
        recorded kernel. ``None`` when none does (or nothing is recorded)."""
        entries = self._examples.get(folder, [])
        if not entries:
            return min(self.kernels, key=lambda k: k.upstream, default=None)
        floor = None
        for kernel in sorted(self.kernels, key=lambda k: k.upstream, reverse=True):
            cells = [e.cells.get(kernel.id) for e in entries]
            if any(c is None or not c.outcome.loaded for c in cells):
                break
            floor = kernel
        return floor

    def below_floor(self, folder: str, version: tuple[int, ...]) -> bool:
        """Whether a kernel of ``version`` is older than the page's floor: the cited one,
        derived from what the folder's samples use (:func:`kptrdoc.floors.page_floor`),
        else (nothing cited, or a sample that does not build) the floor the record
        measured."""
        from kptrdoc.floors import page_floor

        samples = self.path.parent / folder
        if samples.is_dir():
            try:
                derived = page_floor(samples)
            except KptrdocError:
                derived = None
            if derived is not None and derived.version is not None:
                return derived.below(version)
        floor = self.floor(folder)
        return floor is not None and version[: len(floor.upstream)] < floor.upstream

    def checked(
        self, sample: str, expect: Expectation, kernel: RecordedKernel, cell: RecordedCell
    ) -> Checked:
        """One recorded cell against the current annotations, by the one rule."""
        return check(
            expect.resolve(kernel.upstream),
            cell.outcome,
            cell.log_text,
            recorded=True,
            below_floor=self.below_floor(Path(sample).parent.as_posix(), kernel.upstream),
        )

    def met_on_a_recorded_kernel(self, sample: str, program: str, expect: Expectation) -> bool:
        """Whether the program met its annotation on at least one recorded kernel."""
        entry = self.program(sample, program)
        if entry is None:
            return False
        for kernel_id, cell in entry.cells.items():
            kernel = self.kernel(kernel_id)
            if kernel is not None and self.checked(sample, expect, kernel, cell).ok:
                return True
        return False

    def check_annotations(self, sample: str, program: str, expect: Expectation) -> list[str]:
        """Offline: the current annotations of one program against every recorded cell.

        A ``__msg`` that is not in a recorded log is caught here even after the
        archive dropped that kernel."""
        entry = self.program(sample, program)
        if entry is None:
            return [f"{sample}: {program}: not in the record"]
        out = []
        for kernel in self.kernels:
            cell = entry.cells.get(kernel.id)
            if cell is None:
                out.append(f"{sample}: {program} on {kernel.label}: not in the record")
                continue
            got = self.checked(sample, expect, kernel, cell)
            if got.status.fails:
                out.append(
                    f"{sample}: {program} on {kernel.label}: {got.status.value}: {got.detail}"
                )
        return out


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path, size: int, mtime_ns: int) -> Record:
    return Record._read(path)


def _cell_json(cell: RecordedCell) -> dict:
    out: dict = {"outcome": cell.outcome.value}
    if cell.message:
        out["message"] = cell.message
    if cell.log:
        out["log"] = list(cell.log)
    if cell.insns_processed is not None:
        out["insns_processed"] = cell.insns_processed
    return out


def expect_label(expect: Expectation) -> str:
    if expect.failure_ranges:
        return "failure_on " + " ".join(expect.failure_ranges)
    return expect.verdict or "none"


def clip_log(log: str) -> tuple[str, ...]:
    """The log as lines, at most :data:`LOG_LIMIT` bytes (head and tail kept)."""
    lines = log.rstrip("\n").splitlines()
    if len(log) <= LOG_LIMIT:
        return tuple(lines)
    head: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) > LOG_LIMIT // 2:
            break
        head.append(line)
        size += len(line) + 1
    tail: list[str] = []
    size = 0
    for line in reversed(lines[len(head) :]):
        if size + len(line) > LOG_LIMIT // 2:
            break
        tail.insert(0, line)
        size += len(line) + 1
    return (*head, f"... ({len(lines) - len(head) - len(tail)} lines left out)", *tail)


def find_record(start: Path) -> Path | None:
    """The first ``matrix.lock.json`` in ``start`` or a folder above it."""
    start = Path(start).resolve()
    for folder in (start, *start.parents) if start.is_dir() else start.parents:
        candidate = folder / RECORD_NAME
        if candidate.is_file():
            return candidate
    return None


def diff(old: Record, new: Record) -> list[str]:
    """What changed, per sample: ``__kptr/mistakes.bpf.c: direct_store: 7.3 now says X
    where 7.2 said Y``, new and dropped kernels, changed outcomes."""
    lines: list[str] = []
    old_by_suite = {k.suite: k for k in old.kernels}
    new_by_suite = {k.suite: k for k in new.kernels}
    for suite in sorted(set(old_by_suite) | set(new_by_suite)):
        a, b = old_by_suite.get(suite), new_by_suite.get(suite)
        if a and not b:
            lines.append(f"kernel dropped: {a.label} {a.version}")
        elif b and not a:
            lines.append(f"kernel added: {b.label} {b.version} ({b.release})")
        elif a and b and (a.version, a.btf_sha256) != (b.version, b.btf_sha256):
            lines.append(f"kernel moved: {suite} {a.version} -> {b.version}")
    for tool in ("clang", "libbpf", "vmlinux_btf"):
        was, now = getattr(old.toolchain, tool), getattr(new.toolchain, tool)
        if was != now:
            lines.append(f"toolchain: {tool} {was or '-'} -> {now or '-'}")
    for sample in sorted(set(old.samples) | set(new.samples)):
        before, after = old.samples.get(sample, {}), new.samples.get(sample, {})
        for program in sorted(set(before) | set(after)):
            lines += _program_diff(
                sample, program, before.get(program), after.get(program), old, new
            )
    return lines


def _program_diff(
    sample: str,
    program: str,
    before: RecordedProgram | None,
    after: RecordedProgram | None,
    old: Record,
    new: Record,
) -> list[str]:
    name = f"{sample}: {program}"
    if before is None:
        return [f"{name}: new"]
    if after is None:
        return [f"{name}: gone"]
    out = []
    if before.expect != after.expect:
        out.append(f"{name}: annotation {before.expect} -> {after.expect}")
    old_suites = {k.id: k for k in old.kernels}
    new_suites = {k.id: k for k in new.kernels}
    for kid, cell in sorted(after.cells.items()):
        kernel = new_suites.get(kid)
        if kernel is None:
            continue
        label = ".".join(map(str, kernel.upstream[:2]))
        prior_id = next((k.id for k in old.kernels if k.suite == kernel.suite), None)
        prior = before.cells.get(prior_id) if prior_id else None
        if prior is None:
            out.append(f"{name}: {label} {cell.outcome.value}: {cell.message or '-'}")
            continue
        prior_kernel = old_suites[prior_id] if prior_id else kernel
        was = ".".join(map(str, prior_kernel.upstream[:2]))
        if prior.outcome != cell.outcome:
            out.append(
                f"{name}: {label} now {cell.outcome.value} where {was} was {prior.outcome.value}"
            )
        elif prior.message != cell.message:
            out.append(
                f'{name}: {label} now says "{cell.message}" where {was} said "{prior.message}"'
            )
    return out


def merged(
    old: Record,
    kernels: Iterable[RecordedKernel],
    toolchain: Toolchain,
    updates: Mapping[str, Mapping[str, RecordedProgram]],
    keep_others: bool,
) -> Record:
    """A new record: ``updates`` replace whole samples; the other samples of ``old``
    stay when ``keep_others`` (a subset was re-recorded on the same kernels), unless
    their file is gone."""
    root = old.path.parent
    samples: dict[str, Mapping[str, RecordedProgram]] = (
        {k: v for k, v in old.samples.items() if (root / k).is_file()} if keep_others else {}
    )
    samples.update(updates)
    return Record(old.path, toolchain, tuple(kernels), samples)
