"""Shared fixtures of the BTF reader tests: tools found at test time, objects
compiled at test time (once per session), the CLI run as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from kptrdoc.btf.bpftool_compat import C_DIALECTS, Dialect, dialect_for

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
REPO = HERE.parent.parent
TARGETS = ("bpfel", "bpfeb")
FIXTURE_SOURCES = sorted(FIXTURES.glob("*.c"))


def need_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required in CI")
        pytest.skip(f"{name} is not installed")
    return found


@pytest.fixture(scope="session")
def clang() -> str:
    return need_tool("clang-19")


@pytest.fixture(scope="session")
def bpftool() -> str:
    return need_tool("bpftool")


@pytest.fixture(scope="session")
def bpftool_dialect(bpftool: str) -> Dialect:
    from kptrdoc.facts import release_tuple
    from kptrdoc.toolchain import bpftool_version

    version = bpftool_version(bpftool)
    return dialect_for(release_tuple(version)[:2] if version else None)


@pytest.fixture(scope="session", params=sorted(C_DIALECTS))
def c_bpftool(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(C dialect, the Debian bpftool of that release): the installed one, and the
    other release unpacked from its .deb (``toolchain.bpftool_release``)."""
    return request.param, debian_bpftool(request.param)


def debian_bpftool(release: str) -> str:
    """Debian's bpftool ``release`` ("7.1", "7.5"); a skip (a failure in CI) without it."""
    from kptrdoc import toolchain

    need_tool("bpftool")
    try:
        return str(toolchain.bpftool_release(release))
    except toolchain.ToolchainError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def pahole() -> str:
    return need_tool("pahole")


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("btf-objects")


def compile_c(clang: str, source: Path, target: str, out_dir: Path, *extra: str) -> Path:
    out = out_dir / f"{source.stem}.{target}.o"
    if not out.exists():
        subprocess.run(
            [clang, "-g", "-O2", "-target", target, *extra, "-c", str(source), "-o", str(out)],
            check=True,
            capture_output=True,
        )
    return out


def sample_sources() -> list[Path]:
    from kptrdoc.compile import loadable_samples

    return loadable_samples(REPO / "samples")


def compile_sample(clang: str, source: Path, build_dir: Path) -> Path:
    """A sample compiled as the site compiles it (once per session and sample)."""
    from kptrdoc.toolchain import libbpf, multiarch_includes, vmlinux_h

    try:
        includes = [
            f"-I{libbpf().include_dir}",
            f"-I{Path(vmlinux_h()).parent}",
            f"-I{REPO / 'kptrdoc' / 'include'}",
            *multiarch_includes(),  # <asm/errno.h>, for usdt.bpf.h
        ]
    except Exception as exc:  # the toolchain module explains what is missing
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"toolchain not set up: {exc}")
    out_dir = build_dir / source.parent.name
    out_dir.mkdir(exist_ok=True)
    return compile_c(clang, source, "bpf", out_dir, "-D__TARGET_ARCH_x86", *includes)


@pytest.fixture(scope="session")
def compile_fixture(clang: str, build_dir: Path):
    def build(source: Path, target: str) -> Path:
        return compile_c(clang, source, target, build_dir)

    return build


@dataclass
class Run:
    returncode: int
    stdout: bytes
    stderr: str


def kptrdoc(*args: str) -> Run:
    proc = subprocess.run([sys.executable, "-m", "kptrdoc", *args], capture_output=True)
    return Run(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"))


def bpftool_dump(bpftool: str, path: Path | str, base: Path | str | None = None) -> bytes:
    cmd = [bpftool]
    if base is not None:
        cmd += ["--base-btf", str(base)]
    cmd += ["btf", "dump", "file", str(path)]
    proc = subprocess.run(cmd, capture_output=True, check=True)
    return proc.stdout


def bpftool_c(bpftool: str, path: Path, base: Path | None = None) -> bytes:
    """``bpftool btf dump file PATH format c`` (split against ``base``)."""
    cmd = [bpftool, *(["--base-btf", str(base)] if base else []), "btf", "dump", "file"]
    return subprocess.run([*cmd, str(path), "format", "c"], capture_output=True, check=True).stdout


def kptrdoc_c(dialect: str, path: Path, *extra: str) -> bytes:
    """``kptrdoc btf dump PATH --format c --c-dialect DIALECT``; it must succeed."""
    run = kptrdoc("btf", "dump", str(path), "--format", "c", "--c-dialect", dialect, *extra)
    assert run.returncode == 0, run.stderr
    return run.stdout
