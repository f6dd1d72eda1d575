"""A kernel's BTF, read from its packaged ``vmlinuz`` without booting it.

An x86 ``bzImage`` carries the kernel as a compressed ELF ``vmlinux`` (Debian
uses zstd; xz and gzip are the other common choices). Its setup header says
where that payload is (``payload_offset``/``payload_length``, boot protocol
2.08 and later); when the header is unusable, every zstd, xz and gzip magic
in the file is a candidate. The first candidate that decompresses to an ELF
file with a ``.BTF`` section wins, and that section's bytes are the kernel's
BTF: what ``/sys/kernel/btf/vmlinux`` holds when the kernel runs.

zstd is decompressed by the ``zstd`` command: the frame is measured first
(block headers give its exact length), so the command never sees the
kernel's trailing size word and any error it reports is real. xz and gzip
use the standard library.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from kptrdoc.errors import KptrdocError

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
XZ_MAGIC = b"\xfd7zXZ\x00"
GZIP_MAGIC = b"\x1f\x8b\x08"
ELF_MAGIC = b"\x7fELF"
BTF_MAGIC_LE = b"\x9f\xeb"
BTF_MAGIC_BE = b"\xeb\x9f"
NT_GNU_BUILD_ID = 3

MAGICS = {"zstd": ZSTD_MAGIC, "xz": XZ_MAGIC, "gzip": GZIP_MAGIC}
"""Compressed payload formats looked for, in the order they are tried at one offset."""

MAX_VMLINUX = 1 << 30
"""Largest decompressed vmlinux accepted (Debian's are under 100 MB)."""


class KernelBTFError(KptrdocError):
    """A kernel image holds no readable BTF; the message names the file and why."""


@dataclass(frozen=True)
class VmlinuxImage:
    """The ELF ``vmlinux`` found inside a ``vmlinuz``."""

    source: Path
    compression: str
    """``zstd``, ``xz`` or ``gzip``."""
    offset: int
    """Where the compressed payload starts in ``source``."""
    elf: bytes

    @property
    def btf(self) -> bytes:
        """The raw ``.BTF`` section (raises :class:`KernelBTFError` if there is none)."""
        return vmlinux_btf(self.elf, f"{self.source} ({self.compression} at {self.offset:#x})")

    @property
    def build_id(self) -> str | None:
        """The GNU build id from the ELF notes, as hex, or ``None``."""
        return vmlinux_build_id(self.elf)


def extract_vmlinuz_btf(vmlinuz: Path) -> bytes:
    """The raw ``.BTF`` section of the vmlinux compressed inside ``vmlinuz``."""
    return extract_vmlinux(vmlinuz).btf


def btf_sha256(data: bytes) -> str:
    """The hex sha256 of BTF bytes: names a kernel's types, e.g. in a cache path."""
    return hashlib.sha256(data).hexdigest()


def extract_vmlinux(vmlinuz: Path) -> VmlinuxImage:
    """The first payload of ``vmlinuz`` that decompresses to an ELF with a ``.BTF`` section."""
    vmlinuz = Path(vmlinuz)
    try:
        data = vmlinuz.read_bytes()
    except OSError as exc:
        raise KernelBTFError(f"{vmlinuz}: cannot read: {exc.strerror or exc}") from None
    tried = 0
    elf_without_btf: tuple[str, int] | None = None
    for fmt, offset, end in _candidates(data):
        tried += 1
        elf = _decompress(fmt, data, offset, end, vmlinuz)
        if elf is None or not elf.startswith(ELF_MAGIC):
            continue
        if _section(elf, ".BTF") is None:
            elf_without_btf = elf_without_btf or (fmt, offset)
            continue
        return VmlinuxImage(vmlinuz, fmt, offset, elf)
    if elf_without_btf is not None:
        fmt, offset = elf_without_btf
        raise KernelBTFError(
            f"{vmlinuz}: the vmlinux inside ({fmt} at {offset:#x}) has no .BTF section "
            "(kernel built without CONFIG_DEBUG_INFO_BTF)"
        )
    if tried == 0:
        raise KernelBTFError(f"{vmlinuz}: no zstd, xz or gzip payload in it: not a kernel image")
    raise KernelBTFError(
        f"{vmlinuz}: none of its {tried} zstd/xz/gzip candidates decompresses to an ELF vmlinux"
    )


def vmlinux_btf(elf: bytes, where: str = "vmlinux") -> bytes:
    """The ``.BTF`` section of an ELF vmlinux, checked for the BTF magic."""
    btf = _section(elf, ".BTF")
    if btf is None:
        raise KernelBTFError(f"{where}: the vmlinux has no .BTF section")
    if len(btf) < 8 or btf[:2] not in (BTF_MAGIC_LE, BTF_MAGIC_BE):
        raise KernelBTFError(f"{where}: the .BTF section does not start with the BTF magic eb9f")
    return btf


def vmlinux_build_id(elf: bytes) -> str | None:
    """The ``NT_GNU_BUILD_ID`` note of an ELF vmlinux, as hex; ``None`` if it has none."""
    try:
        reader = ELFFile(io.BytesIO(elf))
        for section in reader.iter_sections():
            if section["sh_type"] != "SHT_NOTE":
                continue
            for note in section.iter_notes():
                if note["n_type"] == "NT_GNU_BUILD_ID" and note["n_name"] == "GNU":
                    return str(note["n_desc"])
    except (ELFError, ValueError, struct.error, UnicodeDecodeError):
        return None
    return None


# -- where the payload is ------------------------------------------------------------


def _candidates(data: bytes) -> list[tuple[str, int, int | None]]:
    """(format, offset, end or None) to try: the setup header's payload, then every magic."""
    found: list[tuple[str, int, int | None]] = []
    payload = _setup_header_payload(data)
    if payload is not None:
        start, end = payload
        for fmt, magic in MAGICS.items():
            if data.startswith(magic, start):
                found.append((fmt, start, end))
    seen = {offset for _, offset, _ in found}
    scanned: list[tuple[str, int, int | None]] = []
    for fmt, magic in MAGICS.items():
        offset = data.find(magic)
        while offset >= 0:
            if offset not in seen:
                scanned.append((fmt, offset, None))
            offset = data.find(magic, offset + 1)
    scanned.sort(key=lambda c: c[1])
    return found + scanned


def _setup_header_payload(data: bytes) -> tuple[int, int] | None:
    """(start, end) of the compressed kernel per the bzImage setup header, if it says."""
    if len(data) < 0x250 or data[0x202:0x206] != b"HdrS":
        return None
    (version,) = struct.unpack_from("<H", data, 0x206)
    if version < 0x208:
        return None
    setup_sects = data[0x1F1] or 4
    payload_offset, payload_length = struct.unpack_from("<II", data, 0x248)
    start = (setup_sects + 1) * 512 + payload_offset
    end = start + payload_length
    if payload_length == 0 or end > len(data):
        return None
    return start, end


# -- decompression ---------------------------------------------------------------------


def _decompress(fmt: str, data: bytes, offset: int, end: int | None, source: Path) -> bytes | None:
    """The decompressed stream at ``offset``, or ``None`` when it is not one."""
    chunk = memoryview(data)[offset : end if end is not None else len(data)]
    if fmt == "zstd":
        return _zstd(chunk, source)
    try:
        if fmt == "xz":
            xz = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
            out = xz.decompress(chunk, max_length=MAX_VMLINUX)
            return out if xz.eof else None
        gz = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        out = gz.decompress(chunk, MAX_VMLINUX)
        return out if gz.eof else None
    except (lzma.LZMAError, zlib.error, EOFError):
        return None


def _zstd(chunk: memoryview, source: Path) -> bytes | None:
    length = zstd_frame_length(chunk)
    if length is None:
        return None
    zstd = shutil.which("zstd")
    if zstd is None:
        raise KernelBTFError(
            f"{source}: the kernel is zstd-compressed and the zstd command is missing: "
            "apt-get install zstd"
        )
    proc = subprocess.run(
        # a kernel's window can be up to 2**27 bytes; allow larger ones than zstd's default
        [zstd, "-d", "-c", "-q", "--no-progress", "--memory=2048MB"],
        input=bytes(chunk[:length]),
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        return None
    return proc.stdout


def zstd_frame_length(data: bytes | memoryview) -> int | None:
    """The length of the zstd frame at the start of ``data``, walking its block headers.

    ``None`` when ``data`` does not start with a well-formed frame that fits.
    """
    if bytes(data[:4]) != ZSTD_MAGIC or len(data) < 6:
        return None
    descriptor = data[4]
    if descriptor & 0x08:  # reserved bit
        return None
    fcs_flag = descriptor >> 6
    single_segment = bool(descriptor & 0x20)
    checksum = bool(descriptor & 0x04)
    dict_id_size = (0, 1, 2, 4)[descriptor & 0x03]
    fcs_size = (1 if single_segment else 0, 2, 4, 8)[fcs_flag]
    pos = 5 + (0 if single_segment else 1) + dict_id_size + fcs_size
    while True:
        if pos + 3 > len(data):
            return None
        header = data[pos] | data[pos + 1] << 8 | data[pos + 2] << 16
        last, block_type, size = header & 1, (header >> 1) & 3, header >> 3
        if block_type == 3:  # reserved
            return None
        pos += 3 + (1 if block_type == 1 else size)
        if pos > len(data):
            return None
        if last:
            break
    pos += 4 if checksum else 0
    return pos if pos <= len(data) else None


# -- ELF -----------------------------------------------------------------------------------


def _section(elf: bytes, name: str) -> bytes | None:
    try:
        section = ELFFile(io.BytesIO(elf)).get_section_by_name(name)
        if section is None or section["sh_type"] == "SHT_NOBITS":
            return None
        return bytes(section.data())
    except (ELFError, ValueError, struct.error):
        return None
