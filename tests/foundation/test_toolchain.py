"""The pinned toolchain that ``make setup`` leaves behind, checked against the real system."""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kptrdoc import toolchain

KPTRDOC = [sys.executable, "-m", "kptrdoc"]
REPO = Path(__file__).resolve().parents[2]


def run(cmd: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, **env}, timeout=120, check=False
    )


def test_pinned_libbpf_loads_through_ctypes() -> None:
    lib = toolchain.libbpf()
    handle = ctypes.CDLL(str(lib.so_path))
    major = handle.libbpf_major_version
    minor = handle.libbpf_minor_version
    major.restype = minor.restype = ctypes.c_uint32
    assert f"{major()}.{minor()}" == ".".join(lib.version.split(".")[:2])
    assert (major(), minor()) >= (1, 7)


def test_pinned_headers_match_the_library() -> None:
    lib = toolchain.libbpf()
    text = (lib.include_dir / "bpf" / "libbpf_version.h").read_text()
    assert re.search(rf"LIBBPF_MINOR_VERSION\s+{lib.version.split('.')[1]}\b", text)
    assert (lib.include_dir / "bpf" / "bpf_helpers.h").exists()


def test_older_header_releases_are_there() -> None:
    versions = [release.version for release in toolchain.header_releases()]
    # bookworm, bookworm-backports, trixie (toolchain.HEADER_SUITES), then the pinned release
    assert [v.split(".")[:2] for v in versions][:3] == [["1", "1"], ["1", "4"], ["1", "5"]]
    for release in toolchain.header_releases():
        assert (release.bpf_dir / "bpf_helpers.h").exists()


def test_doctor_reports_versions_and_passes() -> None:
    proc = run([*KPTRDOC, "doctor"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = dict(line.split(None, 1) for line in proc.stdout.splitlines() if line.strip())
    assert re.match(r"ok\s+19\.\d+\.\d+", lines["clang"])
    assert re.match(r"ok\s+1\.(7|[89]|\d\d)\.\d+", lines["libbpf"])
    assert platform.release() in lines["kernel"]
    clang_out = subprocess.run(
        [str(toolchain.clang()), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert lines["clang"].split()[1] in clang_out


def test_doctor_names_a_missing_clang() -> None:
    proc = run([*KPTRDOC, "doctor"], KPTRDOC_CLANG="clang-kptrdoc-missing")
    assert proc.returncode == 1
    assert "kptrdoc doctor: missing: clang" in proc.stdout
    assert "apt-get install clang-19" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_second_setup_does_nothing() -> None:
    proc = run([sys.executable, "-m", "kptrdoc.toolchain", "setup"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""


def test_unreachable_archive_is_one_clear_line(tmp_path: Path) -> None:
    # An empty cache forces a fetch; the mirror is a closed port on loopback.
    proc = run(
        [sys.executable, "-m", "kptrdoc.toolchain", "setup"],
        KPTRDOC_CACHE=str(tmp_path),
        KPTRDOC_DEBIAN_MIRROR="http://127.0.0.1:9/debian",
    )
    assert proc.returncode == 1
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("kptrdoc: apt-get update failed")
    assert "Debian archive reachable" in errors[0]


def test_vmlinux_h_comes_from_the_newest_recorded_kernel_not_the_host() -> None:
    from kptrdoc.matrix.record import Record

    record = Record.load(REPO / "samples" / "matrix.lock.json")
    newest = max(record.kernels, key=lambda k: k.upstream)
    assert record.toolchain.vmlinux_btf == newest.btf_sha256
    source = toolchain.vmlinux_btf_path(REPO)
    assert source != toolchain.VMLINUX_BTF
    assert hashlib.sha256(source.read_bytes()).hexdigest() == newest.btf_sha256
    # bpftool reads the same BTF: the release it names is the recorded one's
    raw = run(["bpftool", "btf", "dump", "file", str(source)])
    assert raw.returncode == 0, raw.stderr
    assert "STRUCT 'task_struct'" in raw.stdout
    # kptrdoc writes it, as Debian 12's bpftool writes it from that BTF
    oracle = toolchain.bpftool_release("7.1")
    c_dump = subprocess.run([str(oracle), "btf", "dump", "file", str(source), "format", "c"],
                            capture_output=True, check=True).stdout  # fmt: skip
    assert toolchain.vmlinux_h(REPO).read_bytes() == c_dump


def test_vmlinux_h_is_keyed_by_the_btf_it_came_from(tmp_path: Path, monkeypatch) -> None:
    default = toolchain.vmlinux_h(REPO)
    copy = tmp_path / "vmlinux"
    shutil.copyfile(toolchain.vmlinux_btf_path(REPO), copy)
    monkeypatch.setenv("KPTRDOC_VMLINUX_BTF", str(copy))
    assert toolchain.vmlinux_h() == default
    monkeypatch.setenv("KPTRDOC_VMLINUX_BTF", str(tmp_path / "absent"))
    with pytest.raises(toolchain.ToolchainError, match="absent: cannot read kernel BTF"):
        toolchain.vmlinux_h()


def test_a_tree_without_a_record_uses_the_running_kernel(tmp_path: Path) -> None:
    assert toolchain.vmlinux_btf_path(tmp_path) == toolchain.VMLINUX_BTF


def test_unusable_kernel_btf_is_a_toolchain_error(tmp_path: Path, monkeypatch) -> None:
    broken = tmp_path / "vmlinux"
    broken.write_bytes(toolchain.VMLINUX_BTF.read_bytes()[:100])
    monkeypatch.setenv("KPTRDOC_VMLINUX_BTF", str(broken))
    monkeypatch.setenv("KPTRDOC_CACHE", str(tmp_path / "cache"))
    with pytest.raises(toolchain.ToolchainError, match=r"cannot make vmlinux\.h from it"):
        toolchain.vmlinux_h()
