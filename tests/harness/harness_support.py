"""Fixtures of the sample-harness tests: kernel access, writing samples, running pytest."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEADERS = """\
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"
"""
LICENSE = '\nchar LICENSE[] SEC("license") = "GPL";\n'
OUTCOME_RE = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+)", re.M)


@pytest.fixture(scope="session")
def kernel() -> None:
    """Skip (or fail under CI=true) when this process cannot load BPF programs."""
    from kptrdoc.loader import kernel_access

    reason = kernel_access()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def write_sample(directory: Path, name: str, body: str) -> Path:
    """A ``*.bpf.c`` with the usual includes and a GPL license around ``body``."""
    path = directory / name
    path.write_text(HEADERS + body + LICENSE)
    return path


@dataclass
class PytestRun:
    returncode: int
    output: str
    outcomes: dict[str, str]  # node id -> PASSED / FAILED / ERROR / SKIPPED / XFAIL


def run_pytest(*args: str, cwd: Path, env: dict[str, str] | None = None) -> PytestRun:
    """Run pytest (with the kptrdoc plugin, as installed) in a fresh process."""
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args]
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    outcomes = {}
    for match in OUTCOME_RE.finditer(proc.stdout):
        outcomes[match.group(2)] = match.group(1)
    return PytestRun(proc.returncode, proc.stdout + proc.stderr, outcomes)


def new_kernel_objects(before: dict[str, list[int]], wait: float = 5.0) -> dict[str, list[int]]:
    """Ids present now but not in ``before``, after waiting up to ``wait`` s for them to go.

    The kernel frees a closed program or map from a work queue, a moment after
    the last fd is closed; a leak stays.
    """
    import time

    from kptrdoc.loader import kernel_object_ids

    deadline = time.monotonic() + wait
    while True:
        after = kernel_object_ids()
        new = {kind: sorted(set(after[kind]) - set(before.get(kind, []))) for kind in after}
        if not any(new.values()) or time.monotonic() > deadline:
            return new
        time.sleep(0.1)
