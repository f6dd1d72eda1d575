"""``kptrdoc doctor``: one line per piece of the toolchain and the kernel.

Exits 1 naming the missing pieces when something the build needs is absent.
Uses only the standard library and the pinned libbpf through ctypes.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kptrdoc import toolchain

BPF_MAP_TYPE_ARRAY = 2


@dataclass(frozen=True)
class Check:
    """The outcome of one check: what was looked at, what was found, whether the build needs it."""

    name: str
    ok: bool
    detail: str
    required: bool = True


def check_clang() -> Check:
    try:
        path = toolchain.clang()
        return Check("clang", True, f"{toolchain.clang_version(path)} ({path})")
    except toolchain.ToolchainError as exc:
        return Check("clang", False, str(exc))


def check_libbpf() -> Check:
    try:
        lib = toolchain.libbpf()
        ctypes.CDLL(str(lib.so_path))
        return Check("libbpf", True, f"{lib.version} ({lib.so_path})")
    except toolchain.ToolchainError as exc:
        return Check("libbpf", False, str(exc))
    except OSError as exc:
        return Check("libbpf", False, f"cannot load the pinned libbpf: {exc}")


def check_old_headers() -> Check:
    try:
        releases = toolchain.header_releases()
    except toolchain.ToolchainError as exc:
        return Check("headers", False, str(exc))
    versions = ", ".join(release.version for release in releases)
    ok = len(releases) > len(toolchain.HEADER_SUITES)
    detail = versions if ok else f"only {versions}: run 'make setup' for the older releases"
    return Check("headers", ok, detail)


def check_kernel() -> Check:
    from kptrdoc.matrix.kernels import host_btf_sha256

    build = host_btf_sha256()[:12] or "no BTF"
    return Check("kernel", True, f"{platform.release()} ({platform.machine()}), build {build}")


def check_vmlinux_btf() -> Check:
    path = toolchain.VMLINUX_BTF
    if not os.access(path, os.R_OK):
        return Check(
            "kernel BTF", False, f"{path} is not readable (kernel without CONFIG_DEBUG_INFO_BTF?)"
        )
    return Check("btf", True, f"{path} readable, {path.stat().st_size} bytes")


def check_vmlinux_h() -> Check:
    """Where the samples' vmlinux.h comes from: the record's pinned kernel, or the host."""
    try:
        source = toolchain.vmlinux_btf_path()
    except toolchain.ToolchainError as exc:
        return Check("vmlinux.h", False, str(exc))
    if source == toolchain.VMLINUX_BTF:
        return Check("vmlinux.h", True, "from the running kernel's BTF (no matrix record here)")
    return Check("vmlinux.h", True, f"from the BTF the matrix record pins: {source}")


def check_bpf_syscall() -> Check:
    """Whether bpf() is permitted: create (and close) a one-element array map."""
    try:
        lib = ctypes.CDLL(str(toolchain.libbpf().so_path), use_errno=True)
    except (toolchain.ToolchainError, OSError):
        return Check("bpf()", False, "not checked: the pinned libbpf is missing")
    create = lib.bpf_map_create
    create.restype = ctypes.c_int
    create.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32, ctypes.c_uint32,
                       ctypes.c_uint32, ctypes.c_void_p]  # fmt: skip
    fd = create(BPF_MAP_TYPE_ARRAY, b"kptrdoc_doctor", 4, 4, 1, None)
    if fd < 0:
        err = -fd
        return Check("bpf()", False, f"not permitted: {os.strerror(err)} (run as root)")
    os.close(fd)
    return Check("bpf()", True, "permitted (created and closed an array map)")


def check_bpffs() -> Check:
    mounts = Path("/proc/self/mounts").read_text().splitlines()
    points = [line.split()[1] for line in mounts if line.split()[2:3] == ["bpf"]]
    if points:
        return Check("bpffs", True, f"mounted at {', '.join(points)}", required=False)
    hint = "not mounted (only needed for pinning: mount -t bpf bpf /sys/fs/bpf)"
    return Check("bpffs", False, hint, required=False)


CHECKS: tuple[Callable[[], Check], ...] = (
    check_clang,
    check_libbpf,
    check_old_headers,
    check_kernel,
    check_vmlinux_btf,
    check_vmlinux_h,
    check_bpf_syscall,
    check_bpffs,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Exit status 1 names the missing pieces the build needs."


def run(args: argparse.Namespace) -> int:
    results = [check() for check in CHECKS]
    width = max(len(result.name) for result in results)
    for result in results:
        mark = "ok" if result.ok else ("MISSING" if result.required else "note")
        print(f"{result.name:<{width}}  {mark:<7}  {result.detail}")
    missing = [result.name for result in results if result.required and not result.ok]
    if missing:
        print(f"kptrdoc doctor: missing: {', '.join(missing)}")
        return 1
    return 0
