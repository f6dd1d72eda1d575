"""Fixtures for the object-model tests: objects compiled at test time, kernel access."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from objects_support import FIXTURES, compile_fixture

# The fixtures are inputs of these tests, not samples: keep the kptrdoc pytest
# plugin from turning their programs into sample items.
collect_ignore_glob = ["fixtures/*.bpf.c"]


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true turns this skip into a failure)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def objects_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("objects")


@pytest.fixture(scope="session")
def compiled(objects_dir):
    """``compiled("maps")`` -> the object built from ``fixtures/maps.bpf.c``."""
    cache: dict[str, Path] = {}

    def build(name: str) -> Path:
        if name not in cache:
            cache[name] = compile_fixture(FIXTURES / f"{name}.bpf.c", objects_dir)
        return cache[name]

    return build


@pytest.fixture
def kernel():
    """Skip (fail under CI) unless we can load BPF objects into the running kernel."""
    if os.geteuid() != 0:
        _skip_or_fail("loading BPF objects needs root")
    if not Path("/sys/kernel/btf/vmlinux").exists():
        _skip_or_fail("the running kernel has no BTF")
