"""Matrix results: one cell per (program, kernel), cached by (object sha256, kernel id).

``cache_dir()/matrix/results.json`` holds, per object hash and kernel id, the
loader's JSON for every program of the object on that kernel, and the
fingerprint of what produced it (the loader's source and the libbpf ``.so``).
An entry whose fingerprint differs is stale and run again. Only complete
runs are stored: a kernel that failed to boot is retried next time.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import functools
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kptrdoc import toolchain

FORMAT = 2
LOADED = "loaded"
REJECTED = "rejected"
FAILED_BEFORE_VERIFIER = "failed-before-verifier"
REFUSED_PROGRAM_TYPE = "refused-program-type"
NO_BOOT = "kernel-failed-to-boot"
LOADER_ERROR = "loader-error"
CHECK = "✓"


def results_path() -> Path:
    path = toolchain.cache_dir() / "matrix" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def runner_fingerprint(libbpf_so: Path) -> str:
    """What, besides the object and the kernel, decides a verdict: our loader and libbpf."""
    from kptrdoc import expectations, loader
    from kptrdoc.matrix import guest

    digest = hashlib.sha256()
    digest.update(Path(loader.__file__).read_bytes())
    digest.update(Path(expectations.__file__).read_bytes())
    digest.update(Path(guest.__file__).read_bytes())
    digest.update(Path(libbpf_so).resolve().read_bytes())
    return digest.hexdigest()[:16]


_MISSING = (
    (re.compile(r"extern \(func ksym\) '(\w+)': not found"), "kfunc {} missing"),
    (re.compile(r"extern \((?:var|typed) ksym\) '(\w+)': not found"), "ksym {} missing"),
    (re.compile(r"failed to find BTF for extern '(\w+)'"), "kernel BTF lacks {}"),
    (re.compile(r"failed to find kernel BTF type ID of '(\w+)'"), "kernel BTF lacks {}"),
    (re.compile(r"map '(\w+)': failed to create"), "map {} cannot be created"),
)


def did_not_run(result: dict) -> str | None:
    """Why a loaded program that had to run (``__run``) did not, or ``None``."""
    run = result.get("run")
    if not isinstance(run, dict):
        return None
    if run.get("error"):
        return f"loaded, did not run: {run['error']}"
    if int(run.get("run_cnt_after") or 0) <= int(run.get("run_cnt_before") or 0):
        return f"loaded, did not run on {run.get('trigger', '?')}"
    return None


def short_reason(verdict: str, reason: str, log: str = "") -> str:
    """The cell text: ✓, the verifier message, or what the kernel lacks, by name."""
    if verdict == LOADED:
        return CHECK
    if verdict == REJECTED:
        from kptrdoc.loader import verifier_message

        message = verifier_message(log) or reason.removeprefix("verifier: ")
        return message[:160]
    if verdict == FAILED_BEFORE_VERIFIER:
        for pattern, text in _MISSING:
            match = pattern.search(reason)
            if match:
                return text.format(match.group(1))
        return (reason.splitlines() or ["failed before the verifier"])[0][:160]
    if verdict == REFUSED_PROGRAM_TYPE:
        return "program type refused before verification"
    return (reason.splitlines() or [verdict])[0][:160]


@dataclass(frozen=True)
class Cell:
    """The verdict on one program of one object on one kernel."""

    object: str
    """The object's sha256."""
    source: str
    """What the object was built from (for display), e.g. ``samples/__kptr/kptr.bpf.c``."""
    program: str
    kernel: str
    """The kernel id (``trixie/6.12.117-1``, ``host/6.18.44``)."""
    verdict: str
    short: str
    """The table text (``✓`` or a short reason)."""
    reason: str = ""
    kernel_release: str = ""
    cached: bool = False
    result: dict = field(default_factory=dict, compare=False, repr=False)
    """The loader's full JSON for this program (log, insns_processed, ...)."""

    @property
    def loaded(self) -> bool:
        return self.verdict == LOADED


def cells_from_loader(
    obj: str, source: str, kernel: str, results: list[dict], cached: bool
) -> list[Cell]:
    cells = []
    for item in results:
        verdict = str(item.get("verdict", LOADER_ERROR))
        reason = str(item.get("reason") or "")
        cells.append(
            Cell(
                object=obj,
                source=source,
                program=str(item.get("program", "?")),
                kernel=kernel,
                verdict=verdict,
                short=did_not_run(item)
                or short_reason(verdict, reason, str(item.get("log") or "")),
                reason=reason,
                kernel_release=str(item.get("kernel_release") or ""),
                cached=cached,
                result=item,
            )
        )
    return cells


@functools.lru_cache(maxsize=4)
def _parsed(path: Path, size: int, mtime_ns: int) -> object:
    """The results file as JSON, parsed once per process for a given size and mtime."""
    return json.loads(path.read_text())


class Store:
    """The results file: read at open, merged and written back under a lock."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or results_path()
        self.data = self._read()
        self._own_copy = False

    def _read(self) -> dict:
        try:
            stat = self.path.stat()
            # shared with other readers of the same file version: copied before a put
            data = _parsed(self.path, stat.st_size, stat.st_mtime_ns)
        except (OSError, ValueError):
            return {"format": FORMAT, "runs": {}}
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return {"format": FORMAT, "runs": {}}
        data.setdefault("runs", {})
        return data

    def get(self, obj: str, kernel: str, runner: str) -> list[dict] | None:
        entry = self.data["runs"].get(obj, {}).get(kernel)
        if not entry or entry.get("runner") != runner:
            return None
        programs = entry.get("programs")
        return programs if isinstance(programs, list) else None

    def put(self, obj: str, kernel: dict, runner: str, source: str, programs: list[dict]) -> None:
        """Record a complete run; ``kernel`` holds ``id``, ``name``, ``release``, ``version``."""
        entry = {"runner": runner, "source": source, "kernel": kernel, "programs": programs}
        if not self._own_copy:
            self.data = copy.deepcopy(self.data)
            self._own_copy = True
        self.data["runs"].setdefault(obj, {})[kernel["id"]] = entry

    def entries(self, obj: str) -> dict[str, dict]:
        """Every kernel's entry for one object (whatever produced it)."""
        return dict(self.data["runs"].get(obj, {}))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.path.with_suffix(".lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def save(self) -> None:
        """Merge our entries into what is on disk (another process may have added some)."""
        with self._locked():
            on_disk = copy.deepcopy(self._read())
            for obj, kernels in self.data["runs"].items():
                on_disk["runs"].setdefault(obj, {}).update(kernels)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(on_disk, indent=1, sort_keys=True) + "\n")
            tmp.replace(self.path)
            self.data = on_disk
            self._own_copy = True
