"""The BTF reader: bytes in, a typed model out.

Modules, one job each: :mod:`~kptrdoc.btf.wire` (header, record sizes),
:mod:`~kptrdoc.btf.strings`, :mod:`~kptrdoc.btf.parser` (one pass over the
types), :mod:`~kptrdoc.btf.records` (where each record starts: all the raw
dump reads), :mod:`~kptrdoc.btf.decode` (records → dataclasses),
:mod:`~kptrdoc.btf.types` (the model), :mod:`~kptrdoc.btf.spec` (ids, names,
walks), :mod:`~kptrdoc.btf.ext` (``.BTF.ext``), :mod:`~kptrdoc.btf.raw`
(bpftool's raw dump format), :mod:`~kptrdoc.btf.wireview` (records as one
word array, for fast walks), :mod:`~kptrdoc.btf.cdump` (the ``vmlinux.h``
bpftool prints, byte for byte), :mod:`~kptrdoc.btf.cformat` (C declarations
for pages and loaders), :mod:`~kptrdoc.btf.layout` (record layout as pahole
shows it).

The names below are imported from their modules on first use, so that
``kptrdoc btf dump`` (raw) starts without the C renderer and the model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kptrdoc.btf.cdump import dump_c
    from kptrdoc.btf.cformat import CRenderOptions, c_declaration, c_definition, render_c
    from kptrdoc.btf.errors import BTFError
    from kptrdoc.btf.ext import BTFExt, CoreRelo, CoreReloKind, FuncInfo, LineInfo, parse_btf_ext
    from kptrdoc.btf.layout import LayoutField, RecordLayout, record_layout
    from kptrdoc.btf.load import load_btf, load_object_btf
    from kptrdoc.btf.parser import parse_btf
    from kptrdoc.btf.spec import Spec
    from kptrdoc.btf.types import (
        QUALIFIERS,
        WITH_TYPE,
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
        IntEncoding,
        Kind,
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

__all__ = [
    "QUALIFIERS",
    "WITH_TYPE",
    "Array",
    "BTFError",
    "BTFExt",
    "CRenderOptions",
    "Const",
    "CoreRelo",
    "CoreReloKind",
    "Datasec",
    "DeclTag",
    "Enum",
    "Enum64",
    "EnumValue",
    "Float",
    "Func",
    "FuncInfo",
    "FuncLinkage",
    "FuncProto",
    "Fwd",
    "Int",
    "IntEncoding",
    "Kind",
    "LayoutField",
    "LineInfo",
    "Member",
    "Param",
    "Ptr",
    "RecordLayout",
    "Restrict",
    "Spec",
    "Struct",
    "Type",
    "TypeTag",
    "Typedef",
    "Union",
    "Unknown",
    "Var",
    "VarLinkage",
    "VarSecinfo",
    "Volatile",
    "c_declaration",
    "c_definition",
    "dump_c",
    "load_btf",
    "load_object_btf",
    "parse_btf",
    "parse_btf_ext",
    "record_layout",
    "render_c",
]

_HOMES: dict[str, str] = {
    "Array": "kptrdoc.btf.types",
    "BTFError": "kptrdoc.btf.errors",
    "BTFExt": "kptrdoc.btf.ext",
    "CRenderOptions": "kptrdoc.btf.cformat",
    "Const": "kptrdoc.btf.types",
    "CoreRelo": "kptrdoc.btf.ext",
    "CoreReloKind": "kptrdoc.btf.ext",
    "Datasec": "kptrdoc.btf.types",
    "DeclTag": "kptrdoc.btf.types",
    "Enum": "kptrdoc.btf.types",
    "Enum64": "kptrdoc.btf.types",
    "EnumValue": "kptrdoc.btf.types",
    "Float": "kptrdoc.btf.types",
    "Func": "kptrdoc.btf.types",
    "FuncInfo": "kptrdoc.btf.ext",
    "FuncLinkage": "kptrdoc.btf.types",
    "FuncProto": "kptrdoc.btf.types",
    "Fwd": "kptrdoc.btf.types",
    "Int": "kptrdoc.btf.types",
    "IntEncoding": "kptrdoc.btf.types",
    "Kind": "kptrdoc.btf.types",
    "LayoutField": "kptrdoc.btf.layout",
    "LineInfo": "kptrdoc.btf.ext",
    "Member": "kptrdoc.btf.types",
    "Param": "kptrdoc.btf.types",
    "Ptr": "kptrdoc.btf.types",
    "QUALIFIERS": "kptrdoc.btf.types",
    "RecordLayout": "kptrdoc.btf.layout",
    "Restrict": "kptrdoc.btf.types",
    "Spec": "kptrdoc.btf.spec",
    "Struct": "kptrdoc.btf.types",
    "Type": "kptrdoc.btf.types",
    "TypeTag": "kptrdoc.btf.types",
    "Typedef": "kptrdoc.btf.types",
    "Union": "kptrdoc.btf.types",
    "Unknown": "kptrdoc.btf.types",
    "Var": "kptrdoc.btf.types",
    "VarLinkage": "kptrdoc.btf.types",
    "VarSecinfo": "kptrdoc.btf.types",
    "Volatile": "kptrdoc.btf.types",
    "WITH_TYPE": "kptrdoc.btf.types",
    "c_declaration": "kptrdoc.btf.cformat",
    "c_definition": "kptrdoc.btf.cformat",
    "dump_c": "kptrdoc.btf.cdump",
    "load_btf": "kptrdoc.btf.load",
    "load_object_btf": "kptrdoc.btf.load",
    "parse_btf": "kptrdoc.btf.parser",
    "parse_btf_ext": "kptrdoc.btf.ext",
    "record_layout": "kptrdoc.btf.layout",
    "render_c": "kptrdoc.btf.cformat",
}
"""Where each name of ``__all__`` is defined: imported from there on first use."""


def __getattr__(name: str) -> object:
    """``kptrdoc.btf.X`` imports X's module on first use, so that ``kptrdoc btf dump``
    (raw) does not pay for the C renderer, the layout and ``.BTF.ext`` modules."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
