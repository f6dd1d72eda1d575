"""The BTF type model: one small frozen dataclass per kind.

Types refer to each other by type id (``int``), never by object, so a model
of a cyclic type graph is a plain list and walking it can always be bounded.
Id 0 is ``void`` and has no object. The :class:`~kptrdoc.btf.spec.Spec`
holds the list and resolves ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Kind(IntEnum):
    """BTF kinds as numbered on the wire (``BTF_KIND_*``)."""

    UNKN = 0
    INT = 1
    PTR = 2
    ARRAY = 3
    STRUCT = 4
    UNION = 5
    ENUM = 6
    FWD = 7
    TYPEDEF = 8
    VOLATILE = 9
    CONST = 10
    RESTRICT = 11
    FUNC = 12
    FUNC_PROTO = 13
    VAR = 14
    DATASEC = 15
    FLOAT = 16
    DECL_TAG = 17
    TYPE_TAG = 18
    ENUM64 = 19


class IntEncoding(IntEnum):
    """Bits of an INT's encoding byte."""

    SIGNED = 1
    CHAR = 2
    BOOL = 4


class FuncLinkage(IntEnum):
    STATIC = 0
    GLOBAL = 1
    EXTERN = 2


class VarLinkage(IntEnum):
    STATIC = 0
    GLOBAL_ALLOCATED = 1
    GLOBAL_EXTERN = 2


@dataclass(frozen=True, slots=True)
class Type:
    """Fields every kind has: its id and name (``""`` when anonymous)."""

    id: int
    name: str

    kind = Kind.UNKN

    @property
    def kind_name(self) -> str:
        return self.kind.name


@dataclass(frozen=True, slots=True)
class Int(Type):
    size: int
    encoding: int  # IntEncoding bits
    bit_offset: int
    bits: int
    kind = Kind.INT

    @property
    def signed(self) -> bool:
        return bool(self.encoding & IntEncoding.SIGNED)


@dataclass(frozen=True, slots=True)
class Ptr(Type):
    type: int
    kind = Kind.PTR


@dataclass(frozen=True, slots=True)
class Array(Type):
    type: int  # element type
    index_type: int
    nelems: int
    kind = Kind.ARRAY


@dataclass(frozen=True, slots=True)
class Member:
    """A struct/union member. ``bit_offset`` is from the start of the record."""

    name: str
    type: int
    bit_offset: int
    bitfield_size: int  # 0 when not a bitfield


@dataclass(frozen=True, slots=True)
class Struct(Type):
    size: int
    members: tuple[Member, ...]
    kind_flag: bool  # True: member offsets carry bitfield sizes in the top 8 bits
    kind = Kind.STRUCT


@dataclass(frozen=True, slots=True)
class Union(Type):
    size: int
    members: tuple[Member, ...]
    kind_flag: bool
    kind = Kind.UNION


@dataclass(frozen=True, slots=True)
class EnumValue:
    name: str
    value: int  # already sign-interpreted according to the enum's signedness


@dataclass(frozen=True, slots=True)
class Enum(Type):
    size: int
    values: tuple[EnumValue, ...]
    signed: bool
    kind = Kind.ENUM


@dataclass(frozen=True, slots=True)
class Enum64(Type):
    size: int
    values: tuple[EnumValue, ...]
    signed: bool
    kind = Kind.ENUM64


@dataclass(frozen=True, slots=True)
class Fwd(Type):
    is_union: bool
    kind = Kind.FWD


@dataclass(frozen=True, slots=True)
class Typedef(Type):
    type: int
    kind = Kind.TYPEDEF


@dataclass(frozen=True, slots=True)
class Volatile(Type):
    type: int
    kind = Kind.VOLATILE


@dataclass(frozen=True, slots=True)
class Const(Type):
    type: int
    kind = Kind.CONST


@dataclass(frozen=True, slots=True)
class Restrict(Type):
    type: int
    kind = Kind.RESTRICT


@dataclass(frozen=True, slots=True)
class Func(Type):
    type: int  # a FUNC_PROTO
    linkage: FuncLinkage
    kind = Kind.FUNC


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: int  # 0 with an empty name on the last param means "..."


@dataclass(frozen=True, slots=True)
class FuncProto(Type):
    return_type: int
    params: tuple[Param, ...]
    kind = Kind.FUNC_PROTO

    @property
    def variadic(self) -> bool:
        return bool(self.params) and self.params[-1].type == 0 and not self.params[-1].name


@dataclass(frozen=True, slots=True)
class Var(Type):
    type: int
    linkage: VarLinkage
    kind = Kind.VAR


@dataclass(frozen=True, slots=True)
class VarSecinfo:
    type: int  # a VAR or FUNC
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class Datasec(Type):
    size: int
    vars: tuple[VarSecinfo, ...]
    kind = Kind.DATASEC


@dataclass(frozen=True, slots=True)
class Float(Type):
    size: int
    kind = Kind.FLOAT


@dataclass(frozen=True, slots=True)
class DeclTag(Type):
    """``name`` is the tag's value; ``component_idx`` -1 tags ``type`` itself."""

    type: int
    component_idx: int
    attribute: bool  # kind_flag=1: a plain __attribute__ rather than btf_decl_tag
    kind = Kind.DECL_TAG


@dataclass(frozen=True, slots=True)
class TypeTag(Type):
    """``name`` is the tag's value (``"kptr"``, ``"percpu_kptr"``, ``"rcu"`` ...)."""

    type: int
    attribute: bool  # kind_flag=1: a plain __attribute__ rather than btf_type_tag
    kind = Kind.TYPE_TAG


@dataclass(frozen=True, slots=True)
class Unknown(Type):
    """A kind this reader does not know, skipped using the header's layout section."""

    raw_kind: int
    info: int
    size_or_type: int
    kind = Kind.UNKN


QUALIFIERS = (Volatile, Const, Restrict)
"""Kinds that qualify a type without changing its layout."""

WITH_TYPE = (Ptr, Typedef, Volatile, Const, Restrict, TypeTag)
"""Kinds whose ``type`` field is the one type they modify."""
