"""Pinned kernels from a local Debian archive made here: the pinned package is fetched and
checked by hash; when the archive has dropped it, the suite's newest stands in, said in one
line and marked as not in the record. Real apt-get and dpkg-deb, a fake index."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from kptrdoc import toolchain
from kptrdoc.matrix import kernels
from kptrdoc.matrix.kernels import KernelError, Package

TINY_BTF = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, 0, 0, 1) + b"\0"


def _vmlinuz(work: Path, marker: bytes) -> bytes:
    """A gzip-compressed ELF with a .BTF section, behind a few bytes of "setup code"."""
    objcopy = shutil.which("llvm-objcopy-19") or shutil.which("llvm-objcopy")
    if objcopy is None:
        pytest.fail("llvm-objcopy-19 is missing: run 'make setup'")
    (work / "blob").write_bytes(marker * 64)
    (work / "btf").write_bytes(TINY_BTF)
    subprocess.run(
        [objcopy, "-I", "binary", "-O", "elf64-x86-64", "--add-section", f".BTF={work / 'btf'}",
         str(work / "blob"), str(work / "vmlinux")],
        check=True, capture_output=True,
    )  # fmt: skip
    return b"\0" * 512 + gzip.compress((work / "vmlinux").read_bytes(), mtime=0)


def _deb(work: Path, version: str, release: str) -> Path:
    root = work / f"root-{version}"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "boot").mkdir()
    (root / "lib" / "modules" / release / "kernel").mkdir(parents=True)
    (root / "boot" / f"vmlinuz-{release}").write_bytes(_vmlinuz(work, version.encode()))
    (root / "boot" / f"config-{release}").write_text("CONFIG_BPF=y\n")
    (root / "DEBIAN" / "control").write_text(
        f"Package: linux-image-{release}\nVersion: {version}\nArchitecture: amd64\n"
        "Maintainer: kptrdoc tests <tests@localhost>\nDescription: a fake kernel\n"
    )
    deb = work / f"linux-image-{release}_{version}_amd64.deb"
    subprocess.run(["dpkg-deb", "--build", "-Zgzip", str(root), str(deb)], check=True,
                   capture_output=True)  # fmt: skip
    return deb


def _stanza(deb: Path, package: str, version: str, depends: str = "") -> str:
    data = deb.read_bytes()
    lines = [f"Package: {package}", f"Version: {version}", "Architecture: amd64",
             f"Filename: pool/{deb.name}", f"Size: {len(data)}",
             f"SHA256: {hashlib.sha256(data).hexdigest()}", "Description: fake"]  # fmt: skip
    if depends:
        lines.insert(3, f"Depends: {depends}")
    return "\n".join(lines) + "\n"


def _archive(root: Path, versions: list[str]) -> dict[str, Path]:
    """An unsigned archive of suite 'trixie' with one kernel per version (the meta package
    points at the last); returns version -> .deb."""
    pool = root / "pool"
    pool.mkdir(parents=True)
    debs: dict[str, Path] = {}
    stanzas = []
    for version in versions:
        release = f"{version.split('-')[0]}-amd64"
        deb = _deb(root / "build", version, release)
        debs[version] = shutil.copy(deb, pool / deb.name)
        stanzas.append(_stanza(debs[version], f"linux-image-{release}", version))
    newest = versions[-1]
    meta = pool / "meta.deb"
    meta.write_bytes(b"not installed by the test")
    stanzas.append(_stanza(meta, "linux-image-amd64", newest,
                           f"linux-image-{newest.split('-')[0]}-amd64 (= {newest})"))  # fmt: skip
    binary = root / "dists" / "trixie" / "main" / "binary-amd64"
    binary.mkdir(parents=True)
    packages = "\n".join(stanzas).encode()
    (binary / "Packages").write_bytes(packages)
    sources = root / "dists" / "trixie" / "main" / "source"
    sources.mkdir(parents=True)
    (sources / "Sources").write_bytes(b"")
    entries = [
        f" {hashlib.sha256(data).hexdigest()} {len(data)} {name}"
        for name, data in (("main/binary-amd64/Packages", packages), ("main/source/Sources", b""))
    ]
    (root / "dists" / "trixie" / "Release").write_text(
        "Suite: trixie\nCodename: trixie\nArchitectures: amd64\nComponents: main\n"
        "Date: Tue, 01 Dec 2026 00:00:00 UTC\nSHA256:\n" + "\n".join(entries) + "\n"
    )
    return {v: Path(d) for v, d in debs.items()}


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        pytest.fail("apt-get and dpkg-deb are needed (Debian)")
    monkeypatch.setenv("KPTRDOC_CACHE", str(tmp_path / "cache"))
    debs = _archive(tmp_path / "archive", ["6.12.50-1", "6.12.99-1"])
    apt = toolchain.IsolatedApt(
        tmp_path / "apt", mirror=f"file:{tmp_path / 'archive'}", suites=("trixie",), trusted=True
    )
    apt.update()
    return apt, debs


def _pin(deb: Path, version: str) -> tuple[Package, ...]:
    release = f"{version.split('-')[0]}-amd64"
    return (
        Package(f"linux-image-{release}", version, hashlib.sha256(deb.read_bytes()).hexdigest()),
    )


def test_the_pinned_kernel_is_fetched_and_checked_by_hash(archive) -> None:
    apt, debs = archive
    pin = _pin(debs["6.12.50-1"], "6.12.50-1")
    kernel = kernels.fetch("trixie", pin, apt=apt)
    assert kernel.pinned and kernel.version == "6.12.50-1" and kernel.release == "6.12.50-amd64"
    assert kernel.packages == pin
    assert kernel.btf_sha256 == hashlib.sha256(TINY_BTF).hexdigest()
    # a second fetch reads the cache: an apt that cannot reach anything is never asked
    broken = toolchain.IsolatedApt(apt.root.parent / "apt-broken", mirror="file:/nonexistent",
                                   suites=("trixie",), trusted=True)  # fmt: skip
    assert kernels.fetch("trixie", pin, apt=broken) == kernel


def test_a_pinned_package_the_archive_dropped_is_replaced_by_the_newest(archive, capsys) -> None:
    apt, _ = archive
    gone = (Package("linux-image-6.12.10-amd64", "6.12.10-1", "ab" * 32),)
    kernel = kernels.fetch("trixie", gone, apt=apt)
    assert not kernel.pinned and kernel.version == "6.12.99-1"
    said = [ln for ln in capsys.readouterr().out.splitlines() if "no longer in the archive" in ln]
    assert said == [
        "kptrdoc matrix: trixie: linux-image-6.12.10-amd64 6.12.10-1, which the record pins, "
        "is no longer in the archive; using 6.12.99-1 instead (not in the record: its "
        "messages count as drift)"
    ]


def test_a_package_with_another_hash_is_refused(archive) -> None:
    apt, _ = archive
    forged = (Package("linux-image-6.12.50-amd64", "6.12.50-1", "cd" * 32),)
    with pytest.raises(KernelError, match=r"^trixie: linux-image-6.12.50-amd64_6.12.50-1.deb has "
                       r"sha256 [0-9a-f]{16}\.\.\., the record pins cdcdcdcd"):  # fmt: skip
        kernels.fetch("trixie", forged, apt=apt)


def test_without_a_pin_the_newest_release_is_chosen(archive) -> None:
    apt, _ = archive
    kernel = kernels.fetch("trixie", None, apt=apt)
    assert kernel.pinned and kernel.version == "6.12.99-1"
