"""The kernels of the matrix: exact Debian kernel packages, pinned by the record.

The committed record (:mod:`kptrdoc.matrix.record`) names, per suite, the
kernel packages, their version and the sha256 of each ``.deb``. :func:`fetch`
downloads exactly those and checks the hashes. When the archive no longer has
a pinned version, the suite's newest kernel is used instead, said in one
line, and marked ``pinned=False``: the record has never seen it, so its
messages count as drift. A new kernel enters the record only through
``python -m kptrdoc.matrix --record``, which asks :func:`newest`.

For each suite, the version of the ``linux-image-amd64`` meta package in the
isolated apt index names the kernel image package it depends on (release
candidates are never chosen). Newer Debian kernels split that package into
``linux-binary-*`` (the vmlinuz) and ``linux-modules-*``; the dependencies with
the same version are followed so the unpacked tree always holds a vmlinuz
and the modules.

Each kernel is unpacked with ``dpkg-deb -x`` into
``cache_dir()/matrix/kernels/<suite>-<version>/`` and described by a
``kernel.json`` written last: a directory with that file is complete, and
nothing is downloaded again.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from kptrdoc import debversion, toolchain
from kptrdoc.errors import KptrdocError

SUITES = ("bookworm", "trixie", "trixie-backports", "sid")
META_PACKAGE = "linux-image-amd64"
HOST = "host"
MEMO_SCHEME = 3
"""Bumped when the choice of packages changes (3: no release candidates)."""
KERNEL_JSON_SCHEME = 2
"""Bumped when ``kernel.json`` gains fields (2: package hashes and the BTF hash)."""


class KernelError(KptrdocError):
    """A kernel of the matrix could not be found, fetched or unpacked."""


@dataclass(frozen=True)
class Package:
    """One ``.deb`` of a kernel, as the record pins it."""

    name: str
    version: str
    sha256: str


@dataclass(frozen=True)
class Kernel:
    """One kernel of the matrix. ``vmlinuz`` is ``None`` for the host kernel (and for
    kernels read back from the record)."""

    name: str
    """``bookworm``, ``trixie``, ``trixie-backports``, ``sid`` or ``host``."""
    release: str
    """What ``uname -r`` says on it, e.g. ``6.1.0-50-amd64``."""
    version: str
    """The Debian package version (``6.1.176-1``), or the release for the host."""
    vmlinuz: Path | None = None
    modules: Path | None = None
    """The ``lib/modules/<release>`` directory of the unpacked package."""
    config: Path | None = None
    """The kernel's ``.config``: libbpf reads it for ``__kconfig`` externs."""
    packages: tuple[Package, ...] = ()
    btf_sha256: str = ""
    """The sha256 of the kernel's BTF: identifies the build, not only the release."""
    pinned: bool = True
    """False for a stand-in: the archive had dropped the version the record pins."""

    @property
    def build(self) -> str:
        """A short build identity for pages and messages (the BTF hash's first 12 digits)."""
        return self.btf_sha256[:12]

    @property
    def id(self) -> str:
        """The key of this kernel in the results: changes when the kernel does (for the
        host, whose release does not name its build, the BTF hash is part of it)."""
        if self.is_host and self.btf_sha256:
            return f"{self.name}/{self.version}@{self.build}"
        return f"{self.name}/{self.version}"

    @property
    def upstream(self) -> tuple[int, ...]:
        """The upstream Linux version, for ordering (``(6, 1, 176)``)."""
        if self.is_host:
            return tuple(int(n) for n in re.findall(r"\d+", self.release.split("-", 1)[0])[:3])
        return debversion.upstream_numbers(self.version)[:3]

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
    return Kernel(name=HOST, release=release, version=release, btf_sha256=host_btf_sha256())


@functools.cache
def host_btf_sha256() -> str:
    """The sha256 of the running kernel's BTF, or "" when it has none (once per process:
    the running kernel does not change under it)."""
    try:
        return hashlib.sha256(toolchain.VMLINUX_BTF.read_bytes()).hexdigest()
    except OSError:
        return ""


def btf_file(kernel: Kernel) -> Path:
    """The kernel's BTF as a file (``cache_dir()/vmlinux/<hash>/vmlinux.btf``), extracted
    from its vmlinuz once; the host's is ``/sys/kernel/btf/vmlinux``."""
    from kptrdoc import kernel_btf

    if kernel.is_host or kernel.vmlinuz is None:
        return toolchain.VMLINUX_BTF
    target = toolchain.cache_dir() / "vmlinux" / kernel.btf_sha256[:16] / "vmlinux.btf"
    if target.exists():
        return target
    data = kernel_btf.extract_vmlinuz_btf(kernel.vmlinuz)
    if kernel.btf_sha256 and kernel_btf.btf_sha256(data) != kernel.btf_sha256:
        raise KernelError(f"{kernel.vmlinuz}: its BTF changed since it was unpacked")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


def _log(message: str) -> None:
    print(f"kptrdoc matrix: {message}", flush=True)


def _apt() -> toolchain.IsolatedApt:
    apt = toolchain.IsolatedApt(toolchain.cache_dir() / "apt")
    if apt.stale():
        _log("the isolated apt index is missing a suite: updating it")
        apt.update()
    return apt


def _image_package(apt: toolchain.IsolatedApt, suite: str) -> tuple[str, str]:
    """The kernel image package (name, version) the suite's meta package depends on.

    Release candidates (``7.3~rc7``) are never chosen."""
    versions = [
        v
        for v in apt.versions(META_PACKAGE, suite)
        if not debversion.DebianVersion.parse(v).prerelease
    ]
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


def _available(apt: toolchain.IsolatedApt, packages: tuple[Package, ...]) -> bool:
    """Whether the index still has every pinned package at its pinned version."""
    for package in packages:
        try:
            apt.fields(package.name, package.version)
        except toolchain.ToolchainError:
            return False
    return True


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
        if data.get("scheme") != KERNEL_JSON_SCHEME:
            return None
        kernel = Kernel(
            name=data["name"],
            release=data["release"],
            version=data["version"],
            vmlinuz=Path(data["vmlinuz"]),
            modules=Path(data["modules"]),
            config=Path(data["config"]),
            packages=tuple(Package(**p) for p in data["packages"]),
            btf_sha256=data["btf_sha256"],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(p is not None and p.exists() for p in (kernel.vmlinuz, kernel.config)):
        return None
    return kernel


def _cached(suite: str) -> list[Kernel]:
    """Every complete kernel of ``suite`` already in the cache, newest first."""
    found = [_load(d) for d in kernels_dir().glob(f"{suite}-*")]
    kernels = [k for k in found if k is not None and k.name == suite]  # not trixie-backports
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


def fetch(
    suite: str,
    pin: tuple[Package, ...] | None = None,
    apt: toolchain.IsolatedApt | None = None,
) -> Kernel:
    """The kernel the record pins for ``suite`` (``pin``: its packages), downloaded and
    unpacked unless already cached; without a pin, the suite's newest kernel.

    A pinned version the archive no longer has is replaced by the suite's
    newest kernel, marked ``pinned=False``.
    """
    if suite not in SUITES:
        raise KernelError(f"unknown suite {suite!r}: expected one of {', '.join(SUITES)}")
    with _locked(suite):
        return _fetch(suite, pin, apt)


def _matches(kernel: Kernel | None, pin: tuple[Package, ...]) -> bool:
    return kernel is not None and {(p.name, p.version, p.sha256) for p in pin} <= {
        (p.name, p.version, p.sha256) for p in kernel.packages
    }


def _fetch(
    suite: str, pin: tuple[Package, ...] | None, apt: toolchain.IsolatedApt | None
) -> Kernel:
    if pin:
        cached = _load(kernels_dir() / f"{suite}-{pin[0].version}")
        if _matches(cached, pin):
            assert cached is not None
            return cached
    try:
        apt = apt or _apt()
        if pin and _available(apt, pin):
            return _unpack(suite, apt, [p.name for p in pin], pin[0].version, pin)
        parts, version = _choose(apt, suite)
    except toolchain.ToolchainError as exc:
        cached = _cached(suite)
        if cached:
            _log(f"{suite}: cannot read the apt index ({exc}); using cached {cached[0].version}")
            return replace(cached[0], pinned=not pin)
        raise KernelError(f"{suite}: {exc}") from None
    kernel = _unpack(suite, apt, parts, version, None)
    if pin:
        _log(
            f"{suite}: {pin[0].name} {pin[0].version}, which the record pins, is no longer in "
            f"the archive; using {version} instead (not in the record: its messages count as drift)"
        )
        return replace(kernel, pinned=False)
    return kernel


def _unpack(
    suite: str,
    apt: toolchain.IsolatedApt,
    parts: list[str],
    version: str,
    pin: tuple[Package, ...] | None,
) -> Kernel:
    from kptrdoc import kernel_btf

    directory = kernels_dir() / f"{suite}-{version}"
    kernel = _load(directory)
    if kernel is not None and (pin is None or _matches(kernel, pin)):
        return kernel
    _log(f"{suite}: downloading {', '.join(parts)} {version}")
    if directory.exists():
        shutil.rmtree(directory)
    packages: list[Package] = []
    with tempfile.TemporaryDirectory(prefix="kptrdoc-kernel-", dir=kernels_dir()) as tmp:
        work = Path(tmp)
        try:
            _download(apt, [f"{part}={version}" for part in parts], work)
        except toolchain.ToolchainError as exc:
            raise KernelError(f"{suite}: {exc}") from None
        root = work / "root"
        for deb in sorted(work.glob("*.deb")):
            name = deb.name.split("_", 1)[0]
            packages.append(Package(name, version, hashlib.sha256(deb.read_bytes()).hexdigest()))
            proc = subprocess.run(
                ["dpkg-deb", "-x", str(deb), str(root)], capture_output=True, text=True
            )
            if proc.returncode != 0:
                raise KernelError(f"{deb.name}: dpkg-deb -x failed: {proc.stderr.strip()}")
        for want in pin or ():
            have = next((p for p in packages if p.name == want.name), None)
            if have is None or have.sha256 != want.sha256:
                got = have.sha256[:16] if have else "nothing"
                raise KernelError(
                    f"{suite}: {want.name}_{want.version}.deb has sha256 {got}..., the record "
                    f"pins {want.sha256[:16]}...: the archive served another file"
                )
        _vmlinuz(root, _modules_dir(root))
        _config(root, _modules_dir(root))
        directory.mkdir(parents=True)
        root.rename(directory / "root")
    modules = _modules_dir(directory / "root")
    vmlinuz = _vmlinuz(directory / "root", modules)
    order = {name: i for i, name in enumerate(parts)}
    kernel = Kernel(
        name=suite,
        release=modules.name,
        version=version,
        vmlinuz=vmlinuz,
        config=_config(directory / "root", modules),
        modules=modules,
        packages=tuple(sorted(packages, key=lambda p: order.get(p.name, len(order)))),
        btf_sha256=kernel_btf.btf_sha256(kernel_btf.extract_vmlinuz_btf(vmlinuz)),
    )
    record = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(kernel).items()}
    record.pop("pinned")
    record["scheme"] = KERNEL_JSON_SCHEME
    (directory / "kernel.json").write_text(json.dumps(record, indent=2) + "\n")
    _log(f"{suite}: Linux {kernel.release} unpacked in {directory}")
    return kernel


def resolve(names: list[str], pins: dict[str, tuple[Package, ...]] | None = None) -> list[Kernel]:
    """The kernels named (suites and/or ``host``), fetched as needed, oldest first.

    ``pins``: suite -> the packages the record pins (a suite without one gets
    its newest kernel)."""
    kernels = []
    for name in names:
        kernels.append(host_kernel() if name == HOST else fetch(name, (pins or {}).get(name)))
    return sorted(kernels, key=lambda k: k.upstream)
