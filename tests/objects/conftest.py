"""Fixtures for the object-model tests: objects compiled at test time, kernel access."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"

# The fixtures are inputs of these tests, not samples: keep the kptrdoc pytest
# plugin from turning their programs into sample items.
collect_ignore_glob = ["fixtures/*.bpf.c"]


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true turns this skip into a failure)")
    pytest.skip(reason)


def compile_fixture(src: Path, out_dir: Path, extra: list[str] | None = None) -> Path:
    from kptrdoc.toolchain import clang, libbpf, vmlinux_h

    out = out_dir / (src.name.removesuffix(".c") + ".o")
    cmd = [
        str(clang()),
        "-g",
        "-O2",
        "-target",
        "bpf",
        "-D__TARGET_ARCH_x86",
        "-I",
        str(libbpf().include_dir),
        "-I",
        str(vmlinux_h().parent),
        *(extra or []),
        "-c",
        str(src),
        "-o",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"clang failed on {src.name}:\n{proc.stderr}")
    return out


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
