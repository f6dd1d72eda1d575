"""Files → :class:`Spec`: an ELF object's ``.BTF`` or a raw BTF file, told apart by magic."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kptrdoc.btf import wire
from kptrdoc.btf.errors import BTFError
from kptrdoc.btf.parser import parse_btf, read_records
from kptrdoc.btf.records import Records

if TYPE_CHECKING:
    from kptrdoc.btf.ext import BTFExt
    from kptrdoc.btf.spec import Spec

ELF_MAGIC = b"\x7fELF"


class BTFFileError(BTFError):
    """A :class:`BTFError` with the file it came from in the message."""


def read_file(path: str | Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise BTFFileError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _with_path(path: str | Path, exc: BTFError, section: str = "") -> BTFError:
    where = f"{path}{section}"
    new = BTFFileError(f"{where}: {exc}", None)
    new.offset = exc.offset
    return new


def btf_bytes(path: str | Path) -> tuple[bytes, bytes | None]:
    """The ``.BTF`` (and ``.BTF.ext``) bytes of an ELF object, or a raw file's contents."""
    data = read_file(path)
    if wire.byte_order_of(data) is not None:
        return data, None
    if data.startswith(ELF_MAGIC):
        # imported here: pyelftools costs ~50 ms of start-up that raw BTF never needs
        from kptrdoc.elf import ElfError, parse_object

        obj = parse_object(data, str(path))
        btf = obj.btf
        if btf is None:
            raise ElfError(f"{path}: the object has no .BTF section (compile with -g)")
        return btf, obj.btf_ext
    raise BTFFileError(f"{path}: neither raw BTF (magic eb9f) nor an ELF object")


def elf_pointer_size(path: str | Path) -> int | None:
    """4 or 8 for an ELF object (its class, as libbpf reads it), ``None`` for raw BTF."""
    try:
        with open(path, "rb") as f:
            ident = f.read(5)
    except OSError as exc:
        raise BTFFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not ident.startswith(ELF_MAGIC) or len(ident) < 5:
        return None
    return 4 if ident[4] == 1 else 8


def load_btf(path: str | Path, base_path: str | Path | None = None) -> Spec:
    """Parse the BTF of ``path`` (split against ``base_path`` when given)."""
    base = load_btf(base_path) if base_path is not None else None
    data, _ = btf_bytes(path)
    try:
        return parse_btf(data, base)
    except BTFFileError:
        raise
    except BTFError as exc:
        raise _with_path(path, exc) from None


def load_records(path: str | Path, base_path: str | Path | None = None) -> Records:
    """As :func:`load_btf`, without the type model: what the raw dump reads."""
    base = load_records(base_path) if base_path is not None else None
    data, _ = btf_bytes(path)
    try:
        return read_records(data, base)
    except BTFFileError:
        raise
    except BTFError as exc:
        raise _with_path(path, exc) from None


def load_object_btf(path: str | Path) -> tuple[Spec, BTFExt | None]:
    """An object's ``.BTF`` and parsed ``.BTF.ext`` (``None`` when it has none)."""
    data, ext = btf_bytes(path)
    try:
        spec = parse_btf(data)
    except BTFError as exc:
        raise _with_path(path, exc, ":.BTF") from None
    if ext is None:
        return spec, None
    from kptrdoc.btf.ext import parse_btf_ext  # imported here: raw dumps never need it

    try:
        return spec, parse_btf_ext(ext, spec)
    except BTFError as exc:
        raise _with_path(path, exc, ":.BTF.ext") from None
