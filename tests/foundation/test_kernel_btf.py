"""A Debian kernel's BTF, read from its packaged vmlinuz (kptrdoc.kernel_btf).

The cached Debian kernels (``make setup`` fetches them) are checked against
an independent extraction: the command-line decompressor on everything from
the first magic on, then ``llvm-objcopy-19 --dump-section .BTF``. Synthetic
images cover each compression format, the bzImage setup header and errors
without any kernel.
"""

from __future__ import annotations

import gzip
import json
import lzma
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from kptrdoc import toolchain
from kptrdoc.btf.bpftool_compat import C_7_1, C_DIALECTS
from kptrdoc.btf.cdump import dump_c
from kptrdoc.btf.parser import parse_btf, read_records
from kptrdoc.errors import KptrdocError
from kptrdoc.kernel_btf import (
    GZIP_MAGIC,
    XZ_MAGIC,
    ZSTD_MAGIC,
    KernelBTFError,
    btf_sha256,
    extract_vmlinux,
    extract_vmlinuz_btf,
    zstd_frame_length,
)
from kptrdoc.matrix.kernels import SUITES

# the smallest valid BTF: header, no types, the empty string
TINY_BTF = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, 0, 0, 1) + b"\0"


def skip_or_fail(reason: str) -> None:
    """Skip; under CI=true a missing piece is a failure, not a skip."""
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(f"{reason} (CI=true: not skipped)", pytrace=False)
    pytest.skip(reason)


def need_tool(*names: str) -> str:
    for name in names:
        path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
        if path:
            return path
    skip_or_fail(f"{names[0]} is not installed")
    raise AssertionError  # unreachable


def cached_kernel(suite: str) -> dict:
    """The kernel.json of the newest cached kernel of ``suite`` (skips if there is none)."""
    from kptrdoc.matrix.kernels import kernels_dir

    found = []
    for path in kernels_dir().glob(f"{suite}-*/kernel.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        # the glob also matches "trixie-backports-*" for "trixie": the name decides
        if data.get("name") == suite and Path(data.get("vmlinuz", "")).is_file():
            found.append(data)
    if not found:
        skip_or_fail(
            f"no {suite} kernel in {kernels_dir()}: 'make setup' fetches them "
            "(python -m kptrdoc.matrix --fetch-only)"
        )
    return max(found, key=lambda d: [int(n) for n in re.findall(r"\d+", d["version"])])


def independent(vmlinuz: str, tmp: str) -> tuple[bytes, str]:
    """The .BTF section and build id of ``vmlinuz``, by the command-line tools only."""
    data = Path(vmlinuz).read_bytes()
    starts = {
        name: data.find(magic)
        for name, magic in (("zstd", ZSTD_MAGIC), ("xz", XZ_MAGIC), ("gzip", GZIP_MAGIC))
    }
    name, offset = min(((n, o) for n, o in starts.items() if o >= 0), key=lambda item: item[1])
    command = {"zstd": ["-dc"], "xz": ["-dc", "--single-stream"], "gzip": ["-dc"]}[name]
    # what follows the stream (the kernel's size word, then code) makes zstd and gzip
    # complain once the stream is complete: their exit status says nothing here
    proc = subprocess.run(
        [need_tool(name), *command],
        input=data[offset:],
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert proc.stdout.startswith(b"\x7fELF"), f"{vmlinuz}: {name} at {offset}: {proc.stderr!r}"
    work = Path(tmp)
    vmlinux, section = work / "vmlinux", work / "btf"
    vmlinux.write_bytes(proc.stdout)
    objcopy = need_tool("llvm-objcopy-19", "llvm-objcopy")
    subprocess.run(
        [objcopy, "--dump-section", f".BTF={section}", str(vmlinux), str(work / "copy")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    readelf = need_tool("llvm-readelf-19", "llvm-readelf")
    notes = subprocess.run(
        [readelf, "--notes", str(vmlinux)], check=True, capture_output=True, text=True
    ).stdout
    match = re.search(r"Build ID:\s*([0-9a-f]+)", notes)
    return section.read_bytes(), match.group(1) if match else ""


@pytest.mark.parametrize("suite", SUITES)
def test_cached_kernel_btf_matches_an_independent_extraction(
    suite: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    kernel = cached_kernel(suite)
    image = extract_vmlinux(Path(kernel["vmlinuz"]))
    btf = image.btf
    expected, build_id = independent(kernel["vmlinuz"], str(tmp_path_factory.mktemp(suite)))
    assert btf == expected
    assert extract_vmlinuz_btf(Path(kernel["vmlinuz"])) == btf
    assert image.build_id == build_id and len(build_id) == 40
    assert re.fullmatch(r"[0-9a-f]{64}", btf_sha256(btf))


@pytest.mark.parametrize("suite", SUITES)
def test_bpftool_reads_every_type_of_the_extracted_btf(suite: str, tmp_path: Path) -> None:
    kernel = cached_kernel(suite)
    btf = extract_vmlinuz_btf(Path(kernel["vmlinuz"]))
    raw = tmp_path / "vmlinux.btf"
    raw.write_bytes(btf)
    bpftool = need_tool("bpftool")
    proc = subprocess.run(
        [bpftool, "btf", "dump", "file", str(raw), "format", "raw"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.rstrip().rsplit("\n[", 1)[-1]
    spec = parse_btf(btf)
    assert int(last.split("]", 1)[0]) == spec.type_count - 1
    assert spec.type_count > 50_000  # a whole kernel, not a stub


def clang_syntax_check(header: Path) -> subprocess.CompletedProcess[str]:
    try:
        clang = toolchain.clang()
    except KptrdocError as exc:
        skip_or_fail(str(exc))
    cmd = [str(clang), "-target", "bpf", "-fsyntax-only", "-Wall", "-x", "c", str(header)]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)


@pytest.mark.parametrize("suite", SUITES)
def test_our_vmlinux_h_of_each_kernel_is_bpftools_and_compiles(suite: str, tmp_path: Path) -> None:
    """Each matrix kernel's vmlinux.h: what each Debian bpftool writes, and it compiles."""
    kernel = cached_kernel(suite)
    btf = tmp_path / "vmlinux.btf"
    btf.write_bytes(extract_vmlinuz_btf(Path(kernel["vmlinuz"])))
    records = read_records(btf.read_bytes())
    for release, dialect in sorted(C_DIALECTS.items()):
        try:
            bpftool = toolchain.bpftool_release(release)
        except KptrdocError as exc:
            skip_or_fail(str(exc))
        theirs = subprocess.run([str(bpftool), "btf", "dump", "file", str(btf), "format", "c"],
                                capture_output=True, check=True).stdout  # fmt: skip
        assert dump_c(records, dialect).encode() == theirs, f"bpftool {release}"
    header = tmp_path / "vmlinux.h"
    header.write_text(dump_c(records, C_7_1))
    proc = clang_syntax_check(header)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "error" not in proc.stderr


def test_a_declaration_only_enum_is_a_forward_declaration(tmp_path: Path) -> None:
    # pahole writes an enum the kernel only declares (enum x86_intercept_stage in 7.x)
    # with vlen=0; C has no empty enum, so it must print as "enum name;"
    strings = b"\0stage\0holder\0s\0"
    types = struct.pack("<III", 1, 6 << 24, 4)  # [1] ENUM 'stage' vlen=0
    types += struct.pack("<III", 0, 2 << 24, 1)  # [2] PTR -> 1
    types += struct.pack("<III", 7, 4 << 24 | 1, 8) + struct.pack("<III", 14, 2, 0)
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    text = dump_c(read_records(header + types + strings), C_7_1)
    assert "enum stage;" in text and "{}" not in text
    path = tmp_path / "vmlinux.h"
    path.write_text(text)
    proc = clang_syntax_check(path)
    assert proc.returncode == 0, proc.stderr


# -- synthetic images ------------------------------------------------------------------


def elf(sections: dict[str, bytes]) -> bytes:
    """A minimal little-endian ELF64 relocatable file holding ``sections``."""
    names = b"\0" + b"".join(n.encode() + b"\0" for n in [*sections, ".shstrtab"])
    body = bytearray(b"\0" * 64)
    headers = [struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)]
    name_at = 1
    for name, data in [*sections.items(), (".shstrtab", names)]:
        sh_type = 3 if name == ".shstrtab" else 1
        headers.append(
            struct.pack("<IIQQQQIIQQ", name_at, sh_type, 0, 0, len(body), len(data), 0, 0, 1, 0)
        )
        name_at += len(name) + 1
        body += data
    shoff = len(body)
    body += b"".join(headers)
    ident = b"\x7fELF\x02\x01\x01" + b"\0" * 9
    body[:64] = ident + struct.pack(
        "<HHIQQQIHHHHHH", 1, 247, 1, 0, 0, shoff, 0, 64, 0, 0, 64, len(headers), len(headers) - 1
    )
    return bytes(body)


def bzimage(payload: bytes, *, header: bool, before: bytes = b"") -> bytes:
    """A kernel-image-like file: setup code, ``before``, the payload, a size word, junk."""
    setup = bytearray(b"\x90" * 1024)  # setup_sects=1: protected-mode code at 1024
    if header:
        setup[0x1F1] = 1
        setup[0x202:0x206] = b"HdrS"
        struct.pack_into("<H", setup, 0x206, 0x20F)
        struct.pack_into("<II", setup, 0x248, len(before), len(payload) + 4)
    return bytes(setup) + before + payload + struct.pack("<I", 1234) + b"\xcc" * 300


def zstd_compress(data: bytes) -> bytes:
    zstd = need_tool("zstd")
    return subprocess.run(
        [zstd, "-c", "-q", "--no-progress"], input=data, capture_output=True, check=True
    ).stdout


VMLINUX = elf({".text": b"\x95" + b"\0" * 7, ".BTF": TINY_BTF})


@pytest.mark.parametrize("fmt", ["zstd", "xz", "gzip"])
@pytest.mark.parametrize("header", [True, False], ids=["setup-header", "scan"])
def test_each_format_is_found(fmt: str, header: bool, tmp_path: Path) -> None:
    compress = {
        "zstd": zstd_compress,
        "xz": lambda d: lzma.compress(d, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32),
        "gzip": lambda d: gzip.compress(d, mtime=0),
    }[fmt]
    # a false candidate of every format first: a stray magic followed by junk
    decoys = ZSTD_MAGIC + b"\x00\x01" + XZ_MAGIC + b"junk" + GZIP_MAGIC + b"\xff" * 16
    path = tmp_path / "vmlinuz"
    path.write_bytes(bzimage(compress(VMLINUX), header=header, before=decoys))
    image = extract_vmlinux(path)
    assert (image.compression, image.elf, image.btf) == (fmt, VMLINUX, TINY_BTF)
    assert image.offset == 1024 + len(decoys)
    assert image.build_id is None


def test_zstd_frame_length_ignores_what_follows() -> None:
    frame = zstd_compress(os.urandom(300_000) + b"\0" * 300_000)
    assert zstd_frame_length(frame + b"\x01\x02\x03\x04trailing") == len(frame)
    assert zstd_frame_length(frame[:-10]) is None
    assert zstd_frame_length(b"not zstd") is None


def test_garbage_is_one_line_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "vmlinuz-garbage"
    path.write_bytes(b"MZ" + bytes(range(256)) * 64)
    with pytest.raises(KernelBTFError) as info:
        extract_vmlinuz_btf(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert "not a kernel image" in message
    assert isinstance(info.value, KptrdocError)


def test_a_corrupt_payload_is_reported(tmp_path: Path) -> None:
    payload = bytearray(gzip.compress(VMLINUX * 20, mtime=0))
    payload[len(payload) // 2 :] = b"\0" * (len(payload) - len(payload) // 2)
    path = tmp_path / "vmlinuz-corrupt"
    path.write_bytes(bzimage(bytes(payload), header=True))
    with pytest.raises(KernelBTFError, match=rf"^{re.escape(str(path))}: none of its \d+ "):
        extract_vmlinuz_btf(path)


def test_a_truncated_kernel_is_reported(tmp_path: Path) -> None:
    kernel = cached_kernel("trixie")
    path = tmp_path / "vmlinuz-truncated"
    path.write_bytes(Path(kernel["vmlinuz"]).read_bytes()[: 2 << 20])
    with pytest.raises(KernelBTFError) as info:
        extract_vmlinuz_btf(path)
    assert str(info.value).startswith(f"{path}: ")


def test_a_kernel_without_btf_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "vmlinuz-nobtf"
    no_btf = elf({".text": b"\x95" + b"\0" * 7})
    path.write_bytes(bzimage(lzma.compress(no_btf, check=lzma.CHECK_CRC32), header=True))
    with pytest.raises(KernelBTFError, match=r"has no \.BTF section.*CONFIG_DEBUG_INFO_BTF"):
        extract_vmlinuz_btf(path)


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "nope"
    with pytest.raises(KernelBTFError, match=rf"^{re.escape(str(path))}: cannot read"):
        extract_vmlinuz_btf(path)


def test_bad_btf_magic_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "vmlinuz-badmagic"
    bad = elf({".BTF": b"\0" * 32})
    path.write_bytes(bzimage(gzip.compress(bad, mtime=0), header=False))
    with pytest.raises(KernelBTFError, match=r"does not start with the BTF magic"):
        extract_vmlinuz_btf(path)
