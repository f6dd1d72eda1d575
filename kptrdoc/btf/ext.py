"""``.BTF.ext``: per-section function info, line info and CO-RE relocations.

Instruction offsets in an object file's ``.BTF.ext`` are in bytes; the
records here carry both the byte offset and the instruction index. Names
(section names, file names, source lines, access strings) come from the
string table of the ``.BTF`` the extension belongs to.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from kptrdoc.btf import wire
from kptrdoc.btf.errors import BTFError
from kptrdoc.btf.spec import Spec
from kptrdoc.btf.types import Array, Enum, Enum64, Struct, Union

EXT_HEADER_LEN = 24
EXT_HEADER_CORE_LEN = 32
INSN_SIZE = 8


class CoreReloKind(IntEnum):
    """``enum bpf_core_relo_kind``."""

    FIELD_BYTE_OFFSET = 0
    FIELD_BYTE_SIZE = 1
    FIELD_EXISTS = 2
    FIELD_SIGNED = 3
    FIELD_LSHIFT_U64 = 4
    FIELD_RSHIFT_U64 = 5
    TYPE_ID_LOCAL = 6
    TYPE_ID_TARGET = 7
    TYPE_EXISTS = 8
    TYPE_SIZE = 9
    ENUMVAL_EXISTS = 10
    ENUMVAL_VALUE = 11
    TYPE_MATCHES = 12


_FIELD_KINDS = range(0, 6)
_ENUMVAL_KINDS = (10, 11)


@dataclass(frozen=True, slots=True)
class FuncInfo:
    byte_offset: int
    type_id: int  # a FUNC

    @property
    def insn_off(self) -> int:
        return self.byte_offset // INSN_SIZE


@dataclass(frozen=True, slots=True)
class LineInfo:
    byte_offset: int
    file_name: str
    line_text: str
    line: int
    column: int

    @property
    def insn_off(self) -> int:
        return self.byte_offset // INSN_SIZE


@dataclass(frozen=True, slots=True)
class CoreRelo:
    byte_offset: int
    type_id: int
    access: str  # the raw access string, e.g. "0:1:2"
    kind: int  # CoreReloKind value (unknown kinds kept as numbers)
    path: str  # resolved, e.g. "task_struct.cpus_ptr"; "" when it cannot be resolved

    @property
    def insn_off(self) -> int:
        return self.byte_offset // INSN_SIZE

    @property
    def kind_name(self) -> str:
        try:
            return CoreReloKind(self.kind).name
        except ValueError:
            return f"UNKNOWN_{self.kind}"


@dataclass(frozen=True)
class BTFExt:
    func_info: dict[str, tuple[FuncInfo, ...]] = field(default_factory=dict)
    line_info: dict[str, tuple[LineInfo, ...]] = field(default_factory=dict)
    core_relos: dict[str, tuple[CoreRelo, ...]] = field(default_factory=dict)


def parse_btf_ext(data: bytes | bytearray | memoryview, spec: Spec) -> BTFExt:
    """Parse a ``.BTF.ext`` section against the ``Spec`` of its object's ``.BTF``."""
    data = bytes(data)
    order = wire.byte_order_of(data)
    if order is None:
        raise BTFError(f"expected the .BTF.ext magic 0x{wire.MAGIC:04x}", 0)
    if len(data) < 8:
        raise BTFError(f"expected an 8-byte .BTF.ext preamble, the data has {len(data)} bytes", 0)
    _, version, _flags, hdr_len = struct.unpack_from(order + "HBBI", data, 0)
    if version != wire.VERSION:
        raise BTFError(f"expected .BTF.ext version {wire.VERSION}, found {version}", 2)
    if hdr_len < EXT_HEADER_LEN or hdr_len > len(data):
        raise BTFError(
            f"expected a .BTF.ext hdr_len between {EXT_HEADER_LEN} and {len(data)}, "
            f"found {hdr_len}",
            4,
        )
    fi_off, fi_len, li_off, li_len = struct.unpack_from(order + "IIII", data, 8)
    cr_off = cr_len = 0
    if hdr_len >= EXT_HEADER_CORE_LEN:
        cr_off, cr_len = struct.unpack_from(order + "II", data, 24)
    reader = _Reader(data, order, hdr_len, spec)
    func_info = {
        sec: tuple(FuncInfo(off, tid) for off, tid in recs)
        for sec, recs in reader.subsection("func_info", fi_off, fi_len, 8, "II").items()
    }
    line_info: dict[str, tuple[LineInfo, ...]] = {}
    for sec, recs in reader.subsection("line_info", li_off, li_len, 16, "IIII").items():
        line_info[sec] = tuple(
            LineInfo(off, reader.string(f), reader.string(t), lc >> 10, lc & 0x3FF)
            for off, f, t, lc in recs
        )
    core: dict[str, tuple[CoreRelo, ...]] = {}
    for sec, recs in reader.subsection("core_relo", cr_off, cr_len, 16, "IIII").items():
        out = []
        for off, tid, acc_off, kind in recs:
            access = reader.string(acc_off)
            out.append(CoreRelo(off, tid, access, kind, resolve_access(spec, tid, access, kind)))
        core[sec] = tuple(out)
    return BTFExt(func_info, line_info, core)


class _Reader:
    def __init__(self, data: bytes, order: str, hdr_len: int, spec: Spec) -> None:
        self.data = data
        self.order = order
        self.hdr_len = hdr_len
        self.spec = spec

    def string(self, off: int) -> str:
        return self.spec.strings.get(off)

    def subsection(
        self, what: str, off: int, length: int, min_rec: int, fmt: str
    ) -> dict[str, list[tuple[int, ...]]]:
        """``{section name: [record fields ...]}`` of one info subsection."""
        out: dict[str, list[tuple[int, ...]]] = {}
        if not length:
            return out
        start = self.hdr_len + off
        end = start + length
        data = self.data
        if end > len(data):
            raise BTFError(f"{what} [{off}, +{length}) runs past the end of .BTF.ext", start)
        if length < 4:
            raise BTFError(f"expected a 4-byte {what} record size", start)
        (rec_size,) = struct.unpack_from(self.order + "I", data, start)
        if rec_size < min_rec or rec_size % 4:
            raise BTFError(
                f"expected a {what} record size >= {min_rec} and a multiple of 4, found {rec_size}",
                start,
            )
        rec = struct.Struct(self.order + fmt)
        pos = start + 4
        while pos < end:
            if pos + 8 > end:
                raise BTFError(f"expected an 8-byte {what} section header", pos)
            name_off, count = struct.unpack_from(self.order + "II", data, pos)
            pos += 8
            if count * rec_size > end - pos:
                raise BTFError(
                    f"expected {count} {what} records of {rec_size} bytes, "
                    f"only {end - pos} bytes are left",
                    pos - 4,
                )
            try:
                name = self.string(name_off)
            except BTFError as exc:
                raise BTFError(f"{what} section name: {exc.reason}", pos - 8) from None
            records = out.setdefault(name, [])
            for i in range(count):
                records.append(rec.unpack_from(data, pos + i * rec_size))
            pos += count * rec_size
        return out


def resolve_access(spec: Spec, type_id: int, access: str, kind: int) -> str:
    """A CO-RE access string as a path: ``task_struct.cpus_ptr``, ``enum_name::VALUE``."""
    try:
        indexes = [int(part) for part in access.split(":")] if access else []
    except ValueError:
        return ""
    try:
        root_id = spec.strip(type_id)
        root = spec.type(root_id)
        if root is None:
            return ""
        base = root.name or f"({root.kind_name.lower()} {root_id})"
        if kind in _ENUMVAL_KINDS:
            if (
                isinstance(root, (Enum, Enum64))
                and len(indexes) == 1
                and 0 <= indexes[0] < len(root.values)
            ):
                return f"{base}::{root.values[indexes[0]].name}"
            return ""
        if kind not in _FIELD_KINDS:
            return base
        if not indexes:
            return ""
        path = base + (f"[{indexes[0]}]" if indexes[0] else "")
        current = root_id
        for idx in indexes[1:]:
            t = spec.type(spec.strip(current))
            if isinstance(t, (Struct, Union)):
                if not 0 <= idx < len(t.members):
                    return ""
                member = t.members[idx]
                if member.name:
                    path += "." + member.name
                current = member.type
            elif isinstance(t, Array):
                path += f"[{idx}]"
                current = t.type
            else:
                return ""
        return path
    except BTFError:
        return ""
