"""One wire record → one frozen dataclass of :mod:`kptrdoc.btf.types`."""

from __future__ import annotations

import struct
from collections.abc import Callable

from kptrdoc.btf.errors import BTFError
from kptrdoc.btf.strings import StringTable
from kptrdoc.btf.types import (
    Array,
    Const,
    Datasec,
    DeclTag,
    Enum,
    Enum64,
    EnumValue,
    Float,
    Func,
    FuncLinkage,
    FuncProto,
    Fwd,
    Int,
    Member,
    Param,
    Ptr,
    Restrict,
    Struct,
    Type,
    Typedef,
    TypeTag,
    Union,
    Unknown,
    Var,
    VarLinkage,
    VarSecinfo,
    Volatile,
)


class Decoder:
    """Decodes records of one blob (one byte order, one string table)."""

    def __init__(self, order: str, types: bytes, strings: StringTable, type_start: int) -> None:
        self._types = types
        self._strings = strings
        self._type_start = type_start
        self._head = struct.Struct(order + "III").unpack_from
        self._u32 = struct.Struct(order + "I").unpack_from
        self._i32 = struct.Struct(order + "i").unpack_from
        self._3u32 = struct.Struct(order + "III").iter_unpack
        self._2u32 = struct.Struct(order + "II").iter_unpack
        self._enum_s = struct.Struct(order + "Ii").iter_unpack
        self._order = order

    def _name(self, off: int, at: int) -> str:
        try:
            return self._strings.get(off)
        except BTFError as exc:
            raise BTFError(exc.reason, self._type_start + at) from None

    def decode(self, type_id: int, pos: int) -> Type:
        name_off, info, st = self._head(self._types, pos)
        kind = (info >> 24) & 0x7F
        vlen = info & 0xFFFFFF
        kflag = bool(info >> 31)
        name = self._name(name_off, pos)
        body = pos + 12
        fn = _DECODERS.get(kind)
        if fn is None:
            return Unknown(type_id, name, kind, info, st)
        return fn(self, type_id, name, kflag, vlen, st, body)

    # -- per kind ---------------------------------------------------------------

    def _int(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        (word,) = self._u32(self._types, body)
        return Int(tid, name, st, (word >> 24) & 0x0F, (word >> 16) & 0xFF, word & 0xFF)

    def _array(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        elem, index, nelems = self._head(self._types, body)
        return Array(tid, name, elem, index, nelems)

    def _members(self, body: int, vlen: int, kflag: bool) -> tuple[Member, ...]:
        out = []
        for i, (m_name, m_type, m_off) in enumerate(
            self._3u32(self._types[body : body + 12 * vlen])
        ):
            if kflag:
                out.append(
                    Member(self._name(m_name, body + 12 * i), m_type, m_off & 0xFFFFFF, m_off >> 24)
                )
            else:
                out.append(Member(self._name(m_name, body + 12 * i), m_type, m_off, 0))
        return tuple(out)

    def _struct(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        return Struct(tid, name, st, self._members(body, vlen, kflag), kflag)

    def _union(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        return Union(tid, name, st, self._members(body, vlen, kflag), kflag)

    def _enum(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        chunk = self._types[body : body + 8 * vlen]
        rows = self._enum_s(chunk) if kflag else self._2u32(chunk)
        values = tuple(
            EnumValue(self._name(v_name, body + 8 * i), val) for i, (v_name, val) in enumerate(rows)
        )
        return Enum(tid, name, st, values, kflag)

    def _enum64(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        values = []
        for i, (v_name, lo, hi) in enumerate(self._3u32(self._types[body : body + 12 * vlen])):
            val = (hi << 32) | lo
            if kflag and val >= 1 << 63:
                val -= 1 << 64
            values.append(EnumValue(self._name(v_name, body + 12 * i), val))
        return Enum64(tid, name, st, tuple(values), kflag)

    def _fwd(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        return Fwd(tid, name, kflag)

    def _func(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        if vlen > FuncLinkage.EXTERN:
            raise BTFError(
                f"expected a FUNC linkage 0..2, found {vlen}", self._type_start + body - 12
            )
        return Func(tid, name, st, FuncLinkage(vlen))

    def _proto(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        params = tuple(
            Param(self._name(p_name, body + 8 * i), p_type)
            for i, (p_name, p_type) in enumerate(self._2u32(self._types[body : body + 8 * vlen]))
        )
        return FuncProto(tid, name, st, params)

    def _var(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        (linkage,) = self._u32(self._types, body)
        if linkage > VarLinkage.GLOBAL_EXTERN:
            raise BTFError(f"expected a VAR linkage 0..2, found {linkage}", self._type_start + body)
        return Var(tid, name, st, VarLinkage(linkage))

    def _datasec(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        secinfo = tuple(
            VarSecinfo(t, off, size)
            for t, off, size in self._3u32(self._types[body : body + 12 * vlen])
        )
        return Datasec(tid, name, st, secinfo)

    def _float(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        return Float(tid, name, st)

    def _decl_tag(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        (idx,) = self._i32(self._types, body)
        return DeclTag(tid, name, st, idx, kflag)

    def _type_tag(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        return TypeTag(tid, name, st, kflag)

    def _ptr(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        return Ptr(tid, name, st)

    def _typedef(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        return Typedef(tid, name, st)

    def _volatile(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        return Volatile(tid, name, st)

    def _const(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        return Const(tid, name, st)

    def _restrict(self, tid: int, name: str, kflag: bool, vlen: int, st: int, body: int) -> Type:
        return Restrict(tid, name, st)


_DECODERS: dict[int, Callable[..., Type]] = {
    1: Decoder._int,
    2: Decoder._ptr,
    3: Decoder._array,
    4: Decoder._struct,
    5: Decoder._union,
    6: Decoder._enum,
    7: Decoder._fwd,
    8: Decoder._typedef,
    9: Decoder._volatile,
    10: Decoder._const,
    11: Decoder._restrict,
    12: Decoder._func,
    13: Decoder._proto,
    14: Decoder._var,
    15: Decoder._datasec,
    16: Decoder._float,
    17: Decoder._decl_tag,
    18: Decoder._type_tag,
    19: Decoder._enum64,
}
