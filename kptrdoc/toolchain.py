"""Find and pin the toolchain: clang, the pinned libbpf, older libbpf headers, vmlinux.h.

This module needs only the standard library: ``make setup`` runs
``python3 -m kptrdoc.toolchain setup`` before the virtual environment exists.

Everything it fetches lives in a cache directory outside the repository
(``$KPTRDOC_CACHE``, else ``${XDG_CACHE_HOME:-~/.cache}/kptrdoc``). Debian's
trixie and sid suites are reached through an isolated apt configuration in
that cache; the system's apt sources are never touched.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kptrdoc import debversion
from kptrdoc.errors import KptrdocError

PINNED_LIBBPF = "1.7.0"
"""The libbpf release built from sid's source package (the newest is used if sid moved on)."""

HEADER_SUITES = {"bookworm": "1.1", "bookworm-backports": "1.4", "trixie": "1.5"}
"""Suites whose ``libbpf-dev`` headers are kept for the definition history."""

CLANG_CANDIDATES = ("clang-19", "clang")
VMLINUX_BTF = Path("/sys/kernel/btf/vmlinux")
PACKAGE_DIR = Path(__file__).resolve().parent


class ToolchainError(KptrdocError):
    """A piece of the toolchain is missing; the message says which and how to get it."""


@dataclass(frozen=True)
class Libbpf:
    """The pinned libbpf: its release, shared object and header directory."""

    version: str
    prefix: Path

    @property
    def so_path(self) -> Path:
        return self.prefix / "lib" / "libbpf.so.1"

    @property
    def include_dir(self) -> Path:
        """The directory holding ``bpf/bpf_helpers.h`` and friends."""
        return self.prefix / "include"


@dataclass(frozen=True)
class HeaderRelease:
    """The eBPF-side headers of one libbpf release."""

    version: str
    include_dir: Path
    source: str

    @property
    def bpf_dir(self) -> Path:
        return self.include_dir / "bpf"


def cache_dir() -> Path:
    """The root of kptrdoc's cache (created on demand)."""
    env = os.environ.get("KPTRDOC_CACHE")
    if env:
        root = Path(env)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(xdg) / "kptrdoc"
    root.mkdir(parents=True, exist_ok=True)
    return root


def kptrdoc_include_dir() -> Path:
    """The directory holding ``kptrdoc.h``, shipped inside the package."""
    return PACKAGE_DIR / "include"


def _manifest_path() -> Path:
    return cache_dir() / "toolchain.json"


def _read_manifest() -> dict:
    path = _manifest_path()
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_manifest(data: dict) -> None:
    tmp = _manifest_path().with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(_manifest_path())


# --------------------------------------------------------------------------
# Lookups used by the rest of kptrdoc
# --------------------------------------------------------------------------


def clang() -> Path:
    """The clang binary used for samples (``$KPTRDOC_CLANG`` overrides)."""
    env = os.environ.get("KPTRDOC_CLANG")
    candidates = (env,) if env else CLANG_CANDIDATES
    for name in candidates:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise ToolchainError(
        f"clang not found ({', '.join(candidates)}): install it with "
        "'apt-get install clang-19' or run 'make setup'"
    )


def clang_version(path: Path | None = None) -> str:
    """The version clang reports, e.g. ``19.1.7`` (asked once per binary and process)."""
    return _clang_version(path or clang())


@functools.cache
def _clang_version(path: Path) -> str:
    out = subprocess.run(
        [str(path), "--version"], capture_output=True, text=True, check=False
    ).stdout
    match = re.search(r"clang version (\S+)", out)
    if not match:
        raise ToolchainError(f"{path}: cannot read the clang version")
    return match.group(1).split("-")[0]


def libbpf() -> Libbpf:
    """The pinned libbpf that ``make setup`` built."""
    env = os.environ.get("KPTRDOC_LIBBPF_PREFIX")
    if env:
        prefix = Path(env)
        version = _version_from_header(prefix / "include" / "bpf" / "libbpf_version.h")
        lib = Libbpf(version, prefix)
    else:
        entry = _read_manifest().get("libbpf")
        if not entry:
            raise ToolchainError(
                f"the pinned libbpf is not built (no entry in {_manifest_path()}): run 'make setup'"
            )
        lib = Libbpf(entry["version"], Path(entry["prefix"]))
    if not lib.so_path.exists():
        raise ToolchainError(f"{lib.so_path}: pinned libbpf is missing: run 'make setup'")
    return lib


def header_releases() -> list[HeaderRelease]:
    """Every libbpf release whose headers we have, oldest first, the pinned one last."""
    releases = [
        HeaderRelease(item["version"], Path(item["include_dir"]), item["source"])
        for item in _read_manifest().get("headers", [])
        if Path(item["include_dir"]).is_dir()
    ]
    pinned = libbpf()
    releases.append(HeaderRelease(pinned.version, pinned.include_dir, "pinned"))
    return sorted(releases, key=lambda r: _version_key(r.version))


def vmlinux_btf_path(start: Path | None = None) -> Path:
    """The kernel BTF that ``vmlinux.h`` is made from.

    ``$KPTRDOC_VMLINUX_BTF`` when set; else the BTF of the newest kernel the
    matrix record pins (the first ``matrix.lock.json`` in ``start``, the
    current directory or their ``samples/`` folder, or a folder above), which
    makes every machine compile against the same header; else, in a tree
    without a record, the running kernel's ``/sys/kernel/btf/vmlinux``.
    """
    env = os.environ.get("KPTRDOC_VMLINUX_BTF")
    if env:
        return Path(env)
    record = _find_record(start or Path.cwd())
    if record is None:
        return VMLINUX_BTF
    stat = record.stat()
    return _pinned_btf(record, stat.st_size, stat.st_mtime_ns)


def _find_record(start: Path) -> Path | None:
    from kptrdoc.matrix.record import find_record

    start = start if start.is_dir() else start.parent
    return find_record(start) or (find_record(start / "samples") if (start / "samples").is_dir()
                                  else None)  # fmt: skip


@functools.cache
def _pinned_btf(record_path: Path, size: int, mtime_ns: int) -> Path:
    """The BTF file of the kernel the record pins ``vmlinux.h`` to, extracted once."""
    from kptrdoc.matrix.kernels import KernelError, btf_file, fetch
    from kptrdoc.matrix.record import Record

    record = Record.load(record_path)
    wanted = record.toolchain.vmlinux_btf
    if not wanted:  # a record that pins no vmlinux.h
        return VMLINUX_BTF
    kernel = next((k for k in record.kernels if k.btf_sha256 == wanted), None)
    if kernel is None:
        raise ToolchainError(
            f"{record_path}: vmlinux_btf {wanted[:16] or '(none)'} is the BTF of none of the "
            "recorded kernels: re-record ('python -m kptrdoc.matrix --record')"
        )
    try:
        image = fetch(kernel.suite, kernel.packages)
        path = btf_file(image)
    except KernelError as exc:
        raise ToolchainError(f"vmlinux.h: the pinned kernel {kernel.id}: {exc}") from None
    if image.btf_sha256 != wanted:
        raise ToolchainError(
            f"vmlinux.h: the BTF of {kernel.id} ({image.vmlinuz}) is not the one the record "
            f"pins ({wanted[:16]}...)"
        )
    return path


def vmlinux_h(start: Path | None = None) -> Path:
    """``vmlinux.h`` for the kernel BTF in use (:func:`vmlinux_btf_path`), written once
    per distinct BTF by kptrdoc's C dump (:mod:`kptrdoc.btf.cdump`) as Debian 12's
    ``bpftool btf dump file F format c`` writes it, byte for byte, so it is the same
    on every machine and needs no bpftool.

    That is bpftool 7.1's dialect: 7.5's header adds every kfunc's prototype
    (``extern ... __weak __ksym``), which clashes with a sample's own ``__ksym``
    declaration of a kfunc unless it defines ``BPF_NO_KFUNC_PROTOTYPES``.
    """
    from kptrdoc.btf.bpftool_compat import C_7_1

    source = vmlinux_btf_path(start)
    try:
        stat = source.stat()
    except OSError as exc:
        raise ToolchainError(f"{source}: cannot read kernel BTF ({exc.strerror})") from None
    digest = _btf_digest(source, stat.st_size, stat.st_mtime_ns)
    target = cache_dir() / "vmlinux" / digest / f"bpftool-{C_7_1.name}" / "vmlinux.h"
    if target.exists():
        return target
    from kptrdoc.btf import BTFError
    from kptrdoc.btf.cdump import dump_c
    from kptrdoc.btf.load import elf_pointer_size, load_records

    try:
        size = elf_pointer_size(source)
        text = dump_c(load_records(source), C_7_1, pointer_size=size)
    except BTFError as exc:
        raise ToolchainError(f"{source}: cannot make vmlinux.h from it: {exc}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(text.encode("utf-8", "surrogateescape"))
    tmp.replace(target)
    return target


@functools.cache
def _btf_digest(source: Path, size: int, mtime_ns: int) -> str:
    """The content hash of a BTF file, once per process for a given size and mtime."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ToolchainError(f"{source}: cannot read kernel BTF ({exc.strerror})") from None
    return hashlib.sha256(data).hexdigest()[:16]


def target_arch() -> str:
    """The ``__TARGET_ARCH_*`` name libbpf's bpf_tracing.h expects for this machine."""
    machine = platform.machine()
    return {
        "x86_64": "x86",
        "aarch64": "arm64",
        "s390x": "s390",
        "ppc64le": "powerpc",
        "riscv64": "riscv",
        "loongarch64": "loongarch",
        "armv7l": "arm",
    }.get(machine, machine)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def _version_from_header(path: Path) -> str:
    try:
        text = path.read_text()
    except OSError:
        raise ToolchainError(f"{path}: missing, not a libbpf install") from None
    major = re.search(r"LIBBPF_MAJOR_VERSION\s+(\d+)", text)
    minor = re.search(r"LIBBPF_MINOR_VERSION\s+(\d+)", text)
    if not major or not minor:
        raise ToolchainError(f"{path}: no LIBBPF_MAJOR/MINOR_VERSION")
    return f"{major.group(1)}.{minor.group(1)}.0"


# --------------------------------------------------------------------------
# Setup: the isolated apt configuration, libbpf from source, old headers
# --------------------------------------------------------------------------


def _system_mirror() -> str:
    """The Debian mirror the system's own apt sources use (``$KPTRDOC_DEBIAN_MIRROR`` overrides)."""
    if os.environ.get("KPTRDOC_DEBIAN_MIRROR"):
        return os.environ["KPTRDOC_DEBIAN_MIRROR"].rstrip("/")
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        try:
            text = path.read_text()
        except OSError:
            continue
        for match in re.finditer(r"(?:URIs:\s*|^deb\s+(?:\[[^\]]*\]\s+)?)(\S+)", text, re.M):
            uri = match.group(1).rstrip("/")
            if uri.endswith("/debian"):
                return uri
    raise ToolchainError("no Debian mirror found in /etc/apt/sources.list*: cannot fetch libbpf")


class IsolatedApt:
    """apt-get with its own sources, lists and cache under kptrdoc's cache directory."""

    SUITES = ("bookworm", "bookworm-backports", "trixie", "trixie-backports", "sid")

    def __init__(
        self,
        root: Path,
        mirror: str | None = None,
        suites: tuple[str, ...] | None = None,
        trusted: bool = False,
    ) -> None:
        """``mirror``, ``suites`` and ``trusted`` (an unsigned local archive) are for tests."""
        self.root = root
        for sub in ("lists/partial", "archives/partial", "etc/preferences.d", "etc/apt.conf.d"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        mirror = mirror or _system_mirror()
        option = "[trusted=yes] " if trusted else ""
        lines = []
        for suite in suites or self.SUITES:
            lines.append(f"deb {option}{mirror} {suite} main")
            lines.append(f"deb-src {option}{mirror} {suite} main")
        self.sources = "\n".join(lines) + "\n"
        path = root / "etc" / "sources.list"
        if not path.exists() or path.read_text() != self.sources:
            path.write_text(self.sources)

    @property
    def _stamp(self) -> Path:
        return self.root / "lists" / ".kptrdoc-sources"

    def stale(self) -> bool:
        """Whether the index was never updated for the current sources (a suite was added)."""
        try:
            return self._stamp.read_text() != self.sources
        except OSError:
            return True

    def _options(self) -> list[str]:
        r = self.root
        return [
            "-o", f"Dir::Etc::SourceList={r / 'etc' / 'sources.list'}",
            "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::Etc::Preferences={r / 'etc' / 'preferences'}",
            "-o", f"Dir::Etc::PreferencesParts={r / 'etc' / 'preferences.d'}",
            "-o", f"Dir::State::Lists={r / 'lists'}",
            "-o", f"Dir::Cache={r / 'cache'}",
            "-o", f"Dir::Cache::Archives={r / 'archives'}",
            "-o", "APT::Get::AllowUnauthenticated=false",
            "-o", "Acquire::Retries=3",
            "-o", "Debug::NoLocking=1",
        ]  # fmt: skip

    def run(self, *args: str, cwd: Path | None = None) -> str:
        cmd = ["apt-get", "-q", *self._options(), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, check=False)
        if proc.returncode != 0:
            errors = [ln for ln in proc.stderr.splitlines() if ln.startswith(("E:", "W:"))]
            reason = errors[0] if errors else (proc.stderr.strip().splitlines() or ["?"])[-1]
            raise ToolchainError(
                f"apt-get {args[0]} failed ({reason}): is the Debian archive reachable?"
            )
        return proc.stdout

    def update(self) -> None:
        (self.root / "cache").mkdir(exist_ok=True)
        cmd = ["apt-get", "-q", *self._options(), "update"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        # apt-get update exits 0 when a source fails: its warnings say so.
        failures = [
            line
            for line in proc.stderr.splitlines()
            if line.startswith("E:") or "Failed to fetch" in line
        ]
        if proc.returncode != 0 or failures:
            reason = failures[0] if failures else f"exit status {proc.returncode}"
            raise ToolchainError(
                f"apt-get update failed ({reason.strip()}): is the Debian archive reachable?"
            )
        self._stamp.write_text(self.sources)

    def versions(self, package: str, suite: str, source: bool = False) -> list[str]:
        """Versions of a binary (or source) package in one suite, newest first."""
        cmd = ["apt-cache", *self._options(), "madison", package]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
        kind = "Sources" if source else "Packages"
        versions = set()
        for line in out.splitlines():
            cells = [cell.strip() for cell in line.split("|")]
            if (
                len(cells) == 3
                and cells[0] == package
                and cells[2].endswith(kind)
                and f" {suite}/" in cells[2]
            ):
                versions.add(cells[1])
        return sorted(versions, key=debversion.sort_key, reverse=True)

    def fields(self, package: str, version: str) -> dict[str, str]:
        """The control fields (``Depends``, ``Size``, ...) of one version of a binary package."""
        cmd = ["apt-cache", *self._options(), "show", f"{package}={version}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ToolchainError(f"apt-cache show {package}={version}: not in the isolated index")
        result: dict[str, str] = {}
        key = ""
        for line in proc.stdout.splitlines():
            if not line.strip():
                break
            if line[0].isspace() and key:
                result[key] += "\n" + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                result[key] = value.strip()
        return result


def _upstream(version: str) -> str:
    return version.split(":", 1)[-1].split("-", 1)[0].split("+", 1)[0]


def _log(message: str) -> None:
    print(f"kptrdoc setup: {message}", flush=True)


def setup_libbpf(apt: IsolatedApt, manifest: dict) -> None:
    """Build the pinned libbpf from sid's source package, unless already built."""
    entry = manifest.get("libbpf")
    if entry and (Path(entry["prefix"]) / "lib" / "libbpf.so.1").exists():
        return
    versions = apt.versions("libbpf", "sid", source=True)
    if not versions:
        raise ToolchainError("the libbpf source package is not in sid's index: cannot build libbpf")
    pinned = [v for v in versions if _upstream(v) == PINNED_LIBBPF]
    chosen = pinned[0] if pinned else versions[0]
    version = _upstream(chosen)
    if pinned:
        _log(f"building the pinned libbpf {version} from sid ({chosen})")
    else:
        _log(f"pinned libbpf {PINNED_LIBBPF} is gone from sid; building the newest, {version}")
    prefix = cache_dir() / f"libbpf-{version}"
    with tempfile.TemporaryDirectory(prefix="kptrdoc-libbpf-") as tmp:
        work = Path(tmp)
        apt.run("source", "--download-only", f"libbpf={chosen.split(':', 1)[-1]}", cwd=work)
        tarballs = sorted(work.glob("libbpf_*.orig.tar.*"))
        if not tarballs:
            raise ToolchainError("apt-get source brought no libbpf orig tarball")
        with tarfile.open(tarballs[0]) as tar:
            tar.extractall(work / "src", filter="data")
        makefiles = sorted((work / "src").glob("*/src/Makefile"))
        if not makefiles:
            raise ToolchainError(f"{tarballs[0].name}: no src/Makefile inside")
        srcdir = makefiles[0].parent
        jobs = str(os.cpu_count() or 2)
        cmd = [
            "make", "-C", str(srcdir), f"-j{jobs}", "install",
            f"PREFIX={prefix}", f"LIBDIR={prefix / 'lib'}", "DESTDIR=",
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            tail = [ln for ln in proc.stderr.splitlines() if "rror" in ln][:1]
            raise ToolchainError(
                f"building libbpf {version} failed ({' '.join(tail) or 'see make output'}): "
                "are gcc, libelf-dev, zlib1g-dev and pkg-config installed? run 'make setup'"
            )
    manifest["libbpf"] = {"version": version, "prefix": str(prefix), "debian": chosen}
    _write_manifest(manifest)
    _log(f"libbpf {version} installed in {prefix}")


def setup_old_headers(apt: IsolatedApt, manifest: dict) -> None:
    """Unpack ``libbpf-dev`` headers of the older suites for the definition history."""
    have = {item["source"] for item in manifest.get("headers", [])
            if Path(item["include_dir"]).is_dir()}  # fmt: skip
    headers = [item for item in manifest.get("headers", []) if item["source"] in have]
    for suite in HEADER_SUITES:
        if suite in have:
            continue
        versions = apt.versions("libbpf-dev", suite)
        if not versions:
            raise ToolchainError(f"libbpf-dev is not in {suite}'s index")
        chosen = versions[0]
        version = _upstream(chosen)
        dest = cache_dir() / "headers" / f"libbpf-{version}"
        with tempfile.TemporaryDirectory(prefix="kptrdoc-deb-") as tmp:
            work = Path(tmp)
            apt.run("download", f"libbpf-dev={chosen}", cwd=work)
            debs = sorted(work.glob("libbpf-dev_*.deb"))
            if not debs:
                raise ToolchainError(f"apt-get download brought no libbpf-dev .deb for {suite}")
            subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(work / "x")], check=True)
            src = work / "x" / "usr" / "include" / "bpf"
            if not src.is_dir():
                raise ToolchainError(f"{debs[0].name}: no usr/include/bpf inside")
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(src, dest / "bpf")
        headers.append({"version": version, "include_dir": str(dest), "source": suite,
                        "debian": chosen})  # fmt: skip
        _log(f"libbpf-dev {chosen} headers from {suite} in {dest}")
    manifest["headers"] = headers
    _write_manifest(manifest)


def sdt_include_dir(fetch: bool = True) -> Path:
    """The directory holding ``sys/sdt.h`` (systemtap's USDT probe macros, from sid's
    ``systemtap-sdt-dev``, unpacked once into ``cache_dir()/sdt/``), for the ``usdt``
    trigger's program. ``fetch=False`` (a matrix guest: no network, a read-only cache)
    only finds what the host fetched."""
    manifest = _read_manifest()
    entry = manifest.get("sdt")
    if entry and (Path(entry["include"]) / "sys" / "sdt.h").is_file():
        return Path(entry["include"])
    if not fetch:
        raise ToolchainError("sys/sdt.h is not in the cache: run 'make setup' on the host")
    apt = IsolatedApt(cache_dir() / "apt")
    if apt.stale():
        apt.update()
    versions = apt.versions("systemtap-sdt-dev", "sid")
    if not versions:
        raise ToolchainError("systemtap-sdt-dev is not in sid's index: no sys/sdt.h")
    root = cache_dir() / "sdt" / f"systemtap-sdt-dev-{versions[0]}"
    with tempfile.TemporaryDirectory(prefix="kptrdoc-sdt-") as tmp:
        work = Path(tmp)
        apt.run("download", f"systemtap-sdt-dev={versions[0]}", cwd=work)
        debs = sorted(work.glob("systemtap-sdt-dev_*.deb"))
        if not debs:
            raise ToolchainError("apt-get download brought no systemtap-sdt-dev .deb")
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(work / "x")], check=True)
        found = sorted((work / "x" / "usr" / "include").rglob("sys/sdt.h"))
        if not found:
            raise ToolchainError(f"{debs[0].name}: no sys/sdt.h inside")
        include = found[0].parent.parent.relative_to(work / "x")
        if root.exists():
            shutil.rmtree(root)
        root.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(work / "x"), root)
    manifest["sdt"] = {"include": str(root / include), "debian": versions[0]}
    _write_manifest(manifest)
    _log(f"systemtap-sdt-dev {versions[0]}: sys/sdt.h in {root / include}")
    return root / include


def bpftool_libbpf(bpftool: Path | str) -> str | None:
    """The libbpf release a bpftool is built with (``bpftool version``: "using libbpf
    v1.1"), or ``None`` when it does not run here."""
    match = re.search(r"using libbpf v(\d+\.\d+)", _bpftool_says(str(bpftool)))
    return match.group(1) if match else None


def bpftool_version(bpftool: Path | str) -> str | None:
    """A bpftool's own release (``bpftool version``: "/usr/sbin/bpftool v7.1.0" gives "7.1"), or
    ``None`` when it does not run here."""
    match = re.search(r"^\S*bpftool v(\d+\.\d+)", _bpftool_says(str(bpftool)), re.MULTILINE)
    return match.group(1) if match else None


@functools.cache
def _bpftool_says(bpftool: str) -> str:
    """What ``bpftool version`` prints ("" when it does not run), once per binary."""
    try:
        return subprocess.run([bpftool, "version"], capture_output=True, text=True,
                              timeout=30, check=False).stdout  # fmt: skip
    except OSError:
        return ""


def bpftool_with_libbpf(minimum: str) -> Path:
    """A bpftool built with libbpf ``minimum`` or newer that runs on this machine: the
    system's, else one unpacked from a Debian suite's ``bpftool`` package into
    ``cache_dir()/bpftool/`` (Debian 12's is built with libbpf 1.1, its backport with
    1.5). For the downloads' builds; bpftool is never part of kptrdoc's own product."""
    wanted = _version_key(minimum)
    return _debian_bpftool(
        lambda binary: _version_key(bpftool_libbpf(binary) or "0") >= wanted,
        f"built with libbpf >= {minimum}",
    )


def bpftool_release(release: str) -> Path:
    """Debian's bpftool ``release`` ("7.1" is Debian 12's, "7.5" Debian 13's and
    bookworm-backports'): the system's when it is that release, else unpacked from the
    first suite that ships it. A test oracle for the C dump's dialects."""
    return _debian_bpftool(lambda binary: bpftool_version(binary) == release, f"{release}")


def _debian_bpftool(accept: Callable[[Path], bool], what: str) -> Path:
    """The system's bpftool, a cached one, or one unpacked from a suite, that ``accept``s."""
    system = shutil.which("bpftool")
    if system and accept(Path(system)):
        return Path(system)
    for binary in sorted((cache_dir() / "bpftool").glob("*/usr/sbin/bpftool")):
        if accept(binary):
            return binary
    apt = IsolatedApt(cache_dir() / "apt")
    if apt.stale():
        apt.update()
    for suite in IsolatedApt.SUITES:
        for version in apt.versions("bpftool", suite)[:1]:
            root = cache_dir() / "bpftool" / version.replace("~", "_")
            binary = root / "usr" / "sbin" / "bpftool"
            if not binary.exists():
                with tempfile.TemporaryDirectory(prefix="kptrdoc-bpftool-") as tmp:
                    work = Path(tmp)
                    apt.run("download", f"bpftool={version}", cwd=work)
                    debs = sorted(work.glob("bpftool_*.deb"))
                    if not debs:
                        continue
                    root.mkdir(parents=True, exist_ok=True)
                    subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(root)], check=True)
            if accept(binary):
                _log(f"bpftool {version} ({suite}): {what}")
                return binary
    raise ToolchainError(f"no bpftool {what} runs on this machine")


def multiarch_includes() -> list[str]:
    """``-idirafter /usr/include/<multiarch>``: where ``<asm/errno.h>`` (for
    ``usdt.bpf.h``'s ``<linux/errno.h>``) is on this machine. Searched after
    everything the build's flags name, so an architecture's uapi ``-I`` wins."""
    for folder in sorted(Path("/usr/include").glob(f"{platform.machine()}-linux-*")):
        if (folder / "asm" / "errno.h").exists():
            return ["-idirafter", str(folder)]
    return []


def uapi_headers() -> Path:
    """Linux's uapi headers of every architecture (sid's ``linux-libc-dev``, unpacked
    once into ``cache_dir()/uapi/``): ``usr/lib/linux/uapi/<arch>/asm`` and
    ``usr/include/linux``, for samples built for another ``__TARGET_ARCH``."""
    manifest = _read_manifest()
    entry = manifest.get("uapi")
    if entry and (Path(entry["root"]) / "usr" / "lib" / "linux" / "uapi").is_dir():
        return Path(entry["root"])
    apt = IsolatedApt(cache_dir() / "apt")
    if apt.stale():
        apt.update()
    versions = apt.versions("linux-libc-dev", "sid")
    if not versions:
        raise ToolchainError("linux-libc-dev is not in sid's index: no uapi headers")
    chosen = versions[0]
    root = cache_dir() / "uapi" / f"linux-libc-dev-{chosen}"
    with tempfile.TemporaryDirectory(prefix="kptrdoc-uapi-") as tmp:
        work = Path(tmp)
        apt.run("download", f"linux-libc-dev={chosen}", cwd=work)
        debs = sorted(work.glob("linux-libc-dev_*.deb"))
        if not debs:
            raise ToolchainError("apt-get download brought no linux-libc-dev .deb")
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(work / "x")], check=True)
        if not (work / "x" / "usr" / "lib" / "linux" / "uapi").is_dir():
            raise ToolchainError(f"{debs[0].name}: no usr/lib/linux/uapi inside")
        if root.exists():
            shutil.rmtree(root)
        root.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(work / "x"), root)
    manifest["uapi"] = {"root": str(root), "debian": chosen}
    _write_manifest(manifest)
    _log(f"linux-libc-dev {chosen} uapi headers (every architecture) in {root}")
    return root


def setup() -> None:
    """Fetch and build whatever is missing; do nothing when everything is there."""
    manifest = _read_manifest()
    have_libbpf = (
        manifest.get("libbpf")
        and (Path(manifest["libbpf"]["prefix"]) / "lib" / "libbpf.so.1").exists()
    )
    have_headers = {item["source"] for item in manifest.get("headers", [])
                    if Path(item["include_dir"]).is_dir()}  # fmt: skip
    have_sdt = (
        bool(manifest.get("sdt")) and (Path(manifest["sdt"]["include"]) / "sys" / "sdt.h").is_file()
    )
    if have_libbpf and have_headers >= set(HEADER_SUITES) and have_sdt:
        return
    apt = IsolatedApt(cache_dir() / "apt")
    _log(f"updating the isolated apt index ({', '.join(apt.SUITES)})")
    apt.update()
    if not (have_libbpf and have_headers >= set(HEADER_SUITES)):
        setup_libbpf(apt, manifest)
        setup_old_headers(apt, manifest)
    sdt_include_dir()  # the usdt trigger's program needs it, in guests too


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if args == ["setup"]:
            setup()
        elif args == ["vmlinux-h"]:
            print(vmlinux_h())
        elif args == ["libbpf"]:
            print(libbpf().so_path)
        else:
            print("usage: python3 -m kptrdoc.toolchain {setup|vmlinux-h|libbpf}", file=sys.stderr)
            return 2
    except ToolchainError as exc:
        print(f"kptrdoc: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
