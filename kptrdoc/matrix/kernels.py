"""The kernels of the matrix: Debian's newest kernel image per suite, fetched once.

For each suite, the version of the ``linux-image-amd64`` meta package in the
isolated apt index names the kernel image package it depends on. Newer
Debian kernels split that package into ``linux-binary-*`` (the vmlinuz) and
``linux-modules-*``; the dependencies with the same version are followed so
the unpacked tree always holds a vmlinuz and the modules.

Each kernel is unpacked with ``dpkg-deb -x`` into
``cache_dir()/matrix/kernels/<suite>-<version>/`` and described by a
``kernel.json`` written last: a directory with that file is complete, and
nothing is downloaded again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from kptrdoc import toolchain
from kptrdoc.errors import KptrdocError

SUITES = ("bookworm", "trixie", "sid")
META_PACKAGE = "linux-image-amd64"
HOST = "host"
MEMO_SCHEME = 2
"""Bumped when the choice of packages changes (2: ``linux-base-*`` holds the config)."""


class KernelError(KptrdocError):
    """A kernel of the matrix could not be found, fetched or unpacked."""


@dataclass(frozen=True)
class Kernel:
    """One kernel of the matrix. ``vmlinuz`` is ``None`` for the host kernel (and for
    kernels read back from recorded results)."""

    name: str
    """``bookworm``, ``trixie``, ``sid`` or ``host``."""
    release: str
    """What ``uname -r`` says on it, e.g. ``6.1.0-50-amd64``."""
    version: str
    """The Debian package version (``6.1.176-1``), or the release for the host."""
    vmlinuz: Path | None = None
    modules: Path | None = None
    """The ``lib/modules/<release>`` directory of the unpacked package."""
    config: Path | None = None
    """The kernel's ``.config``: libbpf reads it for ``__kconfig`` externs."""

    @property
    def id(self) -> str:
        """The key of this kernel in the results: changes when the kernel does."""
        return f"{self.name}/{self.version}"

    @property
    def upstream(self) -> tuple[int, ...]:
        """The upstream Linux version, for ordering (``(6, 1, 176)``)."""
        source = self.release if self.is_host else self.version
        return tuple(int(n) for n in re.findall(r"\d+", source.split("-", 1)[0])[:3])

    @property
    def label(self) -> str:
        """A short column title, e.g. ``6.1 (bookworm)``."""
        major_minor = ".".join(str(n) for n in self.upstream[:2])
        return f"{major_minor} ({self.name})"

    @property
    def is_host(self) -> bool:
        return self.name == HOST


def kernels_dir() -> Path:
    path = toolchain.cache_dir() / "matrix" / "kernels"
    path.mkdir(parents=True, exist_ok=True)
    return path


def host_kernel() -> Kernel:
    release = platform.release()
    return Kernel(name=HOST, release=release, version=release)


def _log(message: str) -> None:
    print(f"kptrdoc matrix: {message}", flush=True)


def _apt() -> toolchain.IsolatedApt:
    apt = toolchain.IsolatedApt(toolchain.cache_dir() / "apt")
    if not any((apt.root / "lists").glob("*_Packages*")):
        _log("the isolated apt index is empty: updating it")
        apt.update()
    return apt


def _image_package(apt: toolchain.IsolatedApt, suite: str) -> tuple[str, str]:
    """The kernel image package (name, version) the suite's meta package depends on."""
    versions = apt.versions(META_PACKAGE, suite)
    if not versions:
        raise KernelError(f"{META_PACKAGE} is not in {suite}'s index: cannot pick its kernel")
    depends = apt.fields(META_PACKAGE, versions[0]).get("Depends", "")
    for alternative in depends.split(","):
        match = re.match(r"\s*(linux-image-\S+)\s*\(=\s*([^)\s]+)\)", alternative)
        if match:
            return match.group(1), match.group(2)
    raise KernelError(f"{META_PACKAGE} {versions[0]} ({suite}) names no linux-image package")


def _index_signature(apt: toolchain.IsolatedApt) -> str:
    lists = sorted((apt.root / "lists").glob("*_Packages*"))
    return ";".join(f"{p.name}:{p.stat().st_mtime_ns}:{p.stat().st_size}" for p in lists)


def _choose(apt: toolchain.IsolatedApt, suite: str) -> tuple[list[str], str]:
    """The packages (image first) and version of ``suite``'s newest kernel.

    apt-cache takes over a second per query, so the answer is remembered
    until the isolated index changes.
    """
    memo_path = kernels_dir() / "chosen.json"
    signature = _index_signature(apt)
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    if memo.get("index") != signature or memo.get("scheme") != MEMO_SCHEME:
        memo = {"index": signature, "scheme": MEMO_SCHEME}
    if suite not in memo:
        package, version = _image_package(apt, suite)
        memo[suite] = {"packages": _split_parts(apt, package, version), "version": version}
        tmp = memo_path.with_name(f"{memo_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(memo, indent=2) + "\n")
        tmp.replace(memo_path)
    return memo[suite]["packages"], memo[suite]["version"]


def _split_parts(apt: toolchain.IsolatedApt, package: str, version: str) -> list[str]:
    """``package`` plus its same-version ``linux-binary``/``-modules``/``-base`` dependencies."""
    depends = apt.fields(package, version).get("Depends", "")
    parts = [package]
    for alternative in depends.split(","):
        match = re.match(r"\s*(linux-(?:binary|modules|base)-\S+)\s*\(=\s*([^)\s]+)\)", alternative)
        if match and match.group(2) == version:
            parts.append(match.group(1))
    return parts


def _download(apt: toolchain.IsolatedApt, specs: list[str], dest: Path) -> None:
    try:
        apt.run("download", *specs, cwd=dest)
    except toolchain.ToolchainError:
        _log("download failed: refreshing the isolated apt index and retrying once")
        apt.update()
        apt.run("download", *specs, cwd=dest)


def _modules_dir(root: Path) -> Path:
    for base in ("lib/modules", "usr/lib/modules"):
        candidates = sorted(p for p in (root / base).glob("*") if (p / "kernel").is_dir())
        if candidates:
            return candidates[-1]
    raise KernelError(f"{root}: the kernel package holds no lib/modules/*/kernel directory")


def _vmlinuz(root: Path, modules: Path) -> Path:
    """``boot/vmlinuz-<release>``, or ``lib/modules/<release>/vmlinuz`` in newer packages."""
    for path in (root / "boot" / f"vmlinuz-{modules.name}", modules / "vmlinuz"):
        if path.is_file():
            return path
    raise KernelError(f"{root}: the kernel package holds no vmlinuz for {modules.name}")


def _config(root: Path, modules: Path) -> Path:
    """``boot/config-<release>``, or ``lib/modules/<release>/config`` in newer packages."""
    for path in (root / "boot" / f"config-{modules.name}", modules / "config"):
        if path.is_file():
            return path
    raise KernelError(f"{root}: the kernel package holds no config for {modules.name}")


def _load(directory: Path) -> Kernel | None:
    try:
        data = json.loads((directory / "kernel.json").read_text())
        kernel = Kernel(
            name=data["name"],
            release=data["release"],
            version=data["version"],
            vmlinuz=Path(data["vmlinuz"]),
            modules=Path(data["modules"]),
            config=Path(data["config"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(p is not None and p.exists() for p in (kernel.vmlinuz, kernel.config)):
        return None
    return kernel


def _cached(suite: str) -> list[Kernel]:
    """Every complete kernel of ``suite`` already in the cache, newest first."""
    found = [_load(d) for d in kernels_dir().glob(f"{suite}-*")]
    kernels = [k for k in found if k is not None]
    return sorted(kernels, key=lambda k: (k.upstream, k.version), reverse=True)


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """Serialise fetches of one suite between processes (pytest-xdist workers)."""
    with open(kernels_dir() / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fetch(suite: str, apt: toolchain.IsolatedApt | None = None) -> Kernel:
    """The newest kernel of ``suite``, downloaded and unpacked unless already cached."""
    if suite not in SUITES:
        raise KernelError(f"unknown suite {suite!r}: expected one of {', '.join(SUITES)}")
    with _locked(suite):
        return _fetch(suite, apt)


def _fetch(suite: str, apt: toolchain.IsolatedApt | None) -> Kernel:
    try:
        apt = apt or _apt()
        parts, version = _choose(apt, suite)
    except toolchain.ToolchainError as exc:
        cached = _cached(suite)
        if cached:
            _log(f"{suite}: cannot read the apt index ({exc}); using cached {cached[0].version}")
            return cached[0]
        raise KernelError(f"{suite}: {exc}") from None
    directory = kernels_dir() / f"{suite}-{version}"
    kernel = _load(directory)
    if kernel is not None:
        return kernel
    _log(f"{suite}: downloading {', '.join(parts)} {version}")
    if directory.exists():
        shutil.rmtree(directory)
    with tempfile.TemporaryDirectory(prefix="kptrdoc-kernel-", dir=kernels_dir()) as tmp:
        work = Path(tmp)
        try:
            _download(apt, [f"{part}={version}" for part in parts], work)
        except toolchain.ToolchainError as exc:
            cached = _cached(suite)
            if cached:
                _log(f"{suite}: {exc}; using cached {cached[0].version}")
                return cached[0]
            raise KernelError(f"{suite}: {exc}") from None
        root = work / "root"
        for deb in sorted(work.glob("*.deb")):
            proc = subprocess.run(
                ["dpkg-deb", "-x", str(deb), str(root)], capture_output=True, text=True
            )
            if proc.returncode != 0:
                raise KernelError(f"{deb.name}: dpkg-deb -x failed: {proc.stderr.strip()}")
        _vmlinuz(root, _modules_dir(root))
        _config(root, _modules_dir(root))
        directory.mkdir(parents=True)
        root.rename(directory / "root")
    modules = _modules_dir(directory / "root")
    kernel = Kernel(
        name=suite,
        release=modules.name,
        version=version,
        vmlinuz=_vmlinuz(directory / "root", modules),
        config=_config(directory / "root", modules),
        modules=modules,
    )
    record = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(kernel).items()}
    (directory / "kernel.json").write_text(json.dumps(record, indent=2) + "\n")
    _log(f"{suite}: Linux {kernel.release} unpacked in {directory}")
    for old in kernels_dir().glob(f"{suite}-*"):  # the suite moved on: drop its older kernels
        if old != directory and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
            _log(f"{suite}: removed the older {old.name}")
    return kernel


def resolve(names: list[str]) -> list[Kernel]:
    """The kernels named (suites and/or ``host``), fetched as needed, oldest first."""
    kernels = []
    for name in names:
        kernels.append(host_kernel() if name == HOST else fetch(name))
    return sorted(kernels, key=lambda k: k.upstream)
