"""Fixtures of the kernel-matrix tests: the kernels, and one matrix run per test session.

Tests that boot kernels carry the ``matrix`` marker (select with ``-m matrix``,
leave out with ``-m 'not matrix'``). They run whenever QEMU is installed; the
kernels are fetched into the cache on first use. Without QEMU they skip, and
with ``CI=true`` that skip is a failure.

Under pytest-xdist, workers share one matrix run: the first one to get the
lock boots each kernel once, the others read its results from a results file
private to this test run.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest

from kptrdoc.errors import KptrdocError

REPO = Path(__file__).resolve().parents[2]
KPTR_SAMPLES = REPO / "samples" / "__kptr"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "matrix: boots Debian kernels under QEMU (slow, ~30 s)")


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(f"{reason} (CI=true: not skipped)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory shared by the xdist workers of this run (and by nobody else)."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID") or str(os.getpid())
    path = tmp_path_factory.getbasetemp().parent / f"kptrdoc-matrix-{run_id}"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def record():
    """The committed record of the matrix."""
    from kptrdoc.matrix.record import Record

    return Record.load(REPO / "samples" / "matrix.lock.json")


@pytest.fixture(scope="session")
def kernels(record):
    """The Debian kernels the record pins, and the host, oldest first (fetched once)."""
    if not shutil.which("qemu-system-x86_64"):
        skip_or_fail("qemu-system-x86_64 is not installed: the kernel matrix cannot run")
    from kptrdoc.matrix.kernels import resolve

    try:
        return resolve([*(k.suite for k in record.kernels), "host"], record.pins())
    except KptrdocError as exc:
        skip_or_fail(f"the matrix kernels are not available: {exc}")


@pytest.fixture(scope="session")
def kptr_objects():
    from kptrdoc.compile import compile_sample

    try:
        objs = [compile_sample(p) for p in sorted(KPTR_SAMPLES.glob("*.bpf.c"))]
    except KptrdocError as exc:
        skip_or_fail(f"the __kptr samples do not compile here: {exc}")
    if not objs:
        pytest.fail(f"{KPTR_SAMPLES}: no *.bpf.c samples")
    return objs


@pytest.fixture(scope="session")
def kptr_matrix(kernels, kptr_objects, shared_dir: Path):
    """The ``__kptr`` samples on every kernel: each kernel booted once per test run."""
    from kptrdoc.matrix.results import Store
    from kptrdoc.matrix.run import run_matrix

    sources = {o.path: str(o.source.relative_to(REPO / "samples")) for o in kptr_objects}
    with open(shared_dir / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        store = Store(shared_dir / "results.json")
        return run_matrix([o.path for o in kptr_objects], kernels, sources=sources, store=store)
