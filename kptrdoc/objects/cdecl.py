"""C declarations of BTF types: ``struct bpf_cpumask __kptr *mask``, kfunc prototypes.

A small declarator printer for the object model's tables and extern
signatures. Type tags print as the libbpf macro that makes them
(``__kptr``, ``__percpu_kptr`` ...) where there is one.
"""

from __future__ import annotations

from kptrdoc.btf.types import (
    Array,
    Const,
    Datasec,
    DeclTag,
    Enum,
    Enum64,
    Float,
    Func,
    FuncProto,
    Fwd,
    Int,
    Ptr,
    Restrict,
    Struct,
    Typedef,
    TypeTag,
    Union,
    Var,
    Volatile,
)

MAX_DEPTH = 32

TAG_MACROS = {
    "kptr": "__kptr",
    "kptr_untrusted": "__kptr_untrusted",
    "percpu_kptr": "__percpu_kptr",
    "uptr": "__uptr",
    "rcu": "__rcu",
    "user": "__user",
    "percpu": "__percpu",
    "arena": "__arena",
}


def _join(base: str, decl: str) -> str:
    if not decl:
        return base
    if decl.startswith("["):
        return base + decl
    return f"{base} {decl}"


def _base_name(t: object) -> str:
    if isinstance(t, Struct):
        return f"struct {t.name}" if t.name else "struct {...}"
    if isinstance(t, Union):
        return f"union {t.name}" if t.name else "union {...}"
    if isinstance(t, (Enum, Enum64)):
        return f"enum {t.name}" if t.name else "enum {...}"
    if isinstance(t, Fwd):
        return f"{'union' if t.is_union else 'struct'} {t.name}"
    if isinstance(t, (Int, Float, Typedef)):
        return t.name
    if isinstance(t, Datasec):
        return f'SEC("{t.name}")'
    return f"<{type(t).__name__.lower()} {t.name}>"


def declaration(spec, type_id: int, name: str = "", depth: int = 0) -> str:
    """``type_id`` declared as ``name`` (empty for an abstract type name)."""
    if depth > MAX_DEPTH:
        return _join("<too deep>", name)
    t = spec.type(type_id)
    if t is None:
        return _join("void", name)
    if isinstance(t, Ptr):
        inner = spec.type(_skip_quals(spec, t.type))
        decl = "*" + name
        if isinstance(inner, (Array, FuncProto)):
            decl = f"({decl})"
        return declaration(spec, t.type, decl, depth + 1)
    if isinstance(t, TypeTag):
        macro = (
            f"__attribute__(({t.name}))"
            if t.attribute
            else TAG_MACROS.get(t.name, f'__attribute__((btf_type_tag("{t.name}")))')
        )
        return declaration(spec, t.type, f"{macro} {name}".rstrip(), depth + 1)
    if isinstance(t, (Const, Volatile, Restrict)):
        word = {Const: "const", Volatile: "volatile", Restrict: "restrict"}[type(t)]
        if isinstance(spec.type(t.type), Ptr):
            return declaration(spec, t.type, f"{word} {name}".rstrip(), depth + 1)
        return f"{word} " + declaration(spec, t.type, name, depth + 1)
    if isinstance(t, Array):
        return declaration(spec, t.type, f"{name}[{t.nelems}]", depth + 1)
    if isinstance(t, FuncProto):
        params = ", ".join(
            "..." if p.type == 0 and not p.name else declaration(spec, p.type, p.name, depth + 1)
            for p in t.params
        )
        return declaration(spec, t.return_type, f"{name}({params or 'void'})", depth + 1)
    if isinstance(t, Func):
        return declaration(spec, t.type, name or t.name, depth + 1)
    if isinstance(t, Var):
        return declaration(spec, t.type, name or t.name, depth + 1)
    if isinstance(t, DeclTag):
        return declaration(spec, t.type, name, depth + 1)
    return _join(_base_name(t), name)


def type_name(spec, type_id: int) -> str:
    """The abstract C type name of ``type_id`` (``"struct bpf_cpumask __kptr *"``)."""
    return declaration(spec, type_id, "")


def _skip_quals(spec, type_id: int) -> int:
    for _ in range(MAX_DEPTH):
        t = spec.type(type_id)
        if isinstance(t, (Const, Volatile, Restrict, TypeTag)):
            type_id = t.type
            continue
        break
    return type_id
