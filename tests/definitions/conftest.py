"""Fixtures of the definition tests: the clang flags of real builds of a real sample."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "samples" / "SEC" / "tracing.bpf.c"


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``; under CI=true a missing piece is a failure, not a skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def _flags(variant) -> list[str]:
    from kptrdoc.compile import compile_flags
    from kptrdoc.errors import KptrdocError

    if shutil.which("clang-19") is None and not os.environ.get("KPTRDOC_CLANG"):
        skip_or_fail("clang-19 is not installed: run 'make setup'")
    try:
        return compile_flags(SAMPLE, variant)
    except KptrdocError as exc:
        skip_or_fail(f"no build flags for {SAMPLE.name} ({variant.label}): {exc}")
        raise


@pytest.fixture(scope="session")
def default_flags() -> list[str]:
    """The main build of a sample on this machine (``-D__TARGET_ARCH_<host>``)."""
    from kptrdoc.variants import DEFAULT

    return _flags(DEFAULT)


@pytest.fixture(scope="session")
def x86_flags() -> list[str]:
    """x86-64 with the kernel's ``vmlinux.h`` (``__VMLINUX_H__``): this machine's main build.
    An ``arch=x86`` variant would read the uapi stand-in instead."""
    from kptrdoc.toolchain import target_arch
    from kptrdoc.variants import DEFAULT

    if target_arch() != "x86":
        pytest.skip("the x86 build with the kernel's vmlinux.h needs an x86-64 machine")
    return _flags(DEFAULT)


@pytest.fixture(scope="session")
def arm64_flags() -> list[str]:
    from kptrdoc.variants import Variant

    return _flags(Variant(arch="arm64"))
