"""C declarations of BTF types: compilable, in dependency order.

:func:`render_c` prints every named record, enum and typedef of a spec (or
only the ones given, with what they need) the way a ``vmlinux.h`` does:
forward declarations where a pointer is enough, complete definitions before
a by-value use, anonymous records inline, bitfields, padding reproduced with
unnamed bitfields, ``packed`` where the layout requires it. Type tags print
as ``__attribute__((btf_type_tag("kptr")))`` (or, optionally, as the libbpf
macros ``__kptr`` and friends).

:func:`c_declaration` renders one declarator (``struct foo __kptr *mask``)
for pages that show a single member or variable.

Every walk is iterative or bounded by :data:`~kptrdoc.btf.spec.MAX_DEPTH`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kptrdoc.btf.errors import BTFError
from kptrdoc.btf.spec import MAX_DEPTH, Spec
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
    Kind,
    Member,
    Ptr,
    Restrict,
    Struct,
    Type,
    Typedef,
    TypeTag,
    Union,
    Var,
    Volatile,
)

TAG_MACROS = {
    "kptr": "__kptr",
    "kptr_untrusted": "__kptr_untrusted",
    "percpu_kptr": "__percpu_kptr",
    "uptr": "__uptr",
}
"""Type tags that libbpf's ``bpf_helpers.h`` spells as a macro."""

KERNEL_TAG_MACROS = {"rcu": "__rcu", "user": "__user", "percpu": "__percpu", "arena": "__arena"}
"""Type tags the kernel's own sources spell as a macro (shown in tables, never defined)."""

COMPILER_BUILTIN_TYPEDEFS = {"__builtin_va_list": 8}
"""Typedefs clang predefines, with their size for ``-target bpf``: used by name,
never redefined (the kernel's x86 ``va_list`` is 24 bytes, BPF's is a pointer,
so records holding one get the difference as padding)."""

MAX_INLINE_DEPTH = 64
"""Deepest nesting of anonymous records rendered inline."""


@dataclass(frozen=True)
class CRenderOptions:
    tag_macros: bool = False
    """Print known type tags as libbpf macros (``__kptr``) with fallback definitions."""
    header_guard: bool = True
    """Wrap the output in ``#ifndef __VMLINUX_H__`` and the preserve_access_index pragma."""
    indent: str = "\t"
    brief: bool = False
    """For one-line declarations in tables: anonymous records as ``struct {...}``, the
    kernel's tags as ``__rcu`` and friends, a ``VAR`` as its variable, a ``DATASEC`` as
    ``SEC("name")``. Not compilable; never used for a whole dump."""
    assume_defined: frozenset[str] = frozenset()
    """C names (``struct bpf_map_info``, ``enum libbpf_tristate``, ``bool``) that the
    including code defines already: used by name, never defined again (for types that
    user space code includes next to headers of its own)."""


BRIEF = CRenderOptions(tag_macros=True, header_guard=False, brief=True)
"""The options of the object model's tables and signatures."""


@dataclass
class CDump:
    """The rendered text and the C name chosen for each emitted type id."""

    text: str
    names: dict[int, str] = field(default_factory=dict)
    """C name (``struct foo``, ``foo___2``, ``foo_t``) per emitted named type."""
    enumerators: dict[tuple[int, int], str] = field(default_factory=dict)


def _tag_text(tag: TypeTag, options: CRenderOptions) -> str:
    if tag.attribute:
        return f"__attribute__(({tag.name}))"
    if options.tag_macros and tag.name in TAG_MACROS:
        return TAG_MACROS[tag.name]
    if options.brief and tag.name in KERNEL_TAG_MACROS:
        return KERNEL_TAG_MACROS[tag.name]
    return f'__attribute__((btf_type_tag("{tag.name}")))'


class CRenderer:
    """Renders declarations of one spec; keeps the names chosen for duplicates."""

    def __init__(self, spec: Spec, options: CRenderOptions | None = None) -> None:
        self.spec = spec
        self.options = options or CRenderOptions()
        self._tag_names: dict[int, str] = {}  # struct/union/enum/fwd ids -> tag name
        self._ordinary_names: dict[int, str] = {}  # typedef ids -> name
        self._enumerator_names: dict[tuple[int, int], str] = {}
        self._names_done = False
        self._budget = 200 * spec.type_count + 1_000_000
        """Members left to render: hostile BTF can nest anonymous records exponentially."""
        self.inlined_enums: set[int] = set()
        """Anonymous enums already written inside a declaration."""

    # -- names ---------------------------------------------------------------------

    def _assign_names(self) -> None:
        """Pick a unique C name per type, ``name___N`` for the N-th distinct duplicate.

        Works from names and kinds only (no full decoding): it runs over every
        type of vmlinux even when one struct is rendered.
        """
        if self._names_done:
            return
        self._names_done = True
        spec = self.spec
        tag_seen: dict[str, int] = {}
        ordinary_seen: dict[str, int] = {}
        enumerators_seen: dict[str, int] = {}
        for type_id in range(1, spec.type_count):
            kind = spec.raw_kind(type_id)
            if kind not in _NAMED_KINDS:
                continue
            name = spec.name_of(type_id)
            if kind == Kind.TYPEDEF:
                count = ordinary_seen.get(name, 0) + 1
                ordinary_seen[name] = count
                self._ordinary_names[type_id] = name if count == 1 else f"{name}___{count}"
                continue
            if kind in (Kind.ENUM, Kind.ENUM64):
                for i, value_name in enumerate(spec.enumerator_names(type_id)):
                    n = enumerators_seen.get(value_name, 0) + 1
                    enumerators_seen[value_name] = n
                    if n > 1:
                        self._enumerator_names[(type_id, i)] = f"{value_name}___{n}"
            if not name:
                continue
            if kind == Kind.FWD:
                self._tag_names[type_id] = name
                continue
            count = tag_seen.get(name, 0) + 1  # struct, union and enum share one namespace
            tag_seen[name] = count
            self._tag_names[type_id] = name if count == 1 else f"{name}___{count}"

    def c_name(self, type_id: int) -> str:
        """``struct foo`` / ``union foo`` / ``enum foo`` / a typedef's name."""
        self._assign_names()
        t = self.spec.type(type_id)
        if t is None:
            return "void"
        if isinstance(t, Typedef):
            return self._ordinary_names.get(type_id, t.name)
        if isinstance(t, (Struct, Union, Fwd)):
            return ("union " if _is_union(t) else "struct ") + self._tag_names.get(type_id, t.name)
        if isinstance(t, (Enum, Enum64)):
            return "enum " + self._tag_names.get(type_id, t.name)
        return t.name

    # -- declarators ---------------------------------------------------------------

    def declaration(self, type_id: int, name: str = "", depth: int = 0) -> str:
        """A C declaration of ``name`` with type ``type_id`` (no trailing ``;``)."""
        spec = self.spec
        inner = name
        quals: list[str] = []
        tags: list[str] = []
        for _ in range(MAX_DEPTH * 4):
            t = spec.type(type_id)
            if isinstance(t, (Const, Volatile, Restrict)):
                word = _QUALIFIER_WORDS[type(t)]
                if word not in quals:
                    quals.append(word)
                type_id = t.type
                continue
            if isinstance(t, TypeTag):
                tags.append(_tag_text(t, self.options))
                type_id = t.type
                continue
            if isinstance(t, Ptr):
                words = " ".join(quals + tags[::-1])
                inner = "*" + (words + " " if words and inner else words) + inner
                quals, tags = [], []
                type_id = t.type
                continue
            if isinstance(t, Array):
                if inner.startswith("*"):
                    inner = f"({inner})"
                inner = f"{inner}[{t.nelems}]"
                type_id = t.type
                continue
            if isinstance(t, FuncProto):
                if inner.startswith("*"):
                    inner = f"({inner})"
                inner = f"{inner}({self._params(t, depth)})"
                type_id = t.return_type
                if quals or tags:
                    quals, tags = [], []
                continue
            if isinstance(t, Func):
                type_id = t.type
                if not inner and self.options.brief:
                    inner = t.name
                continue
            if self.options.brief and isinstance(t, (Var, DeclTag)):
                if isinstance(t, Var) and not inner:
                    inner = t.name
                type_id = t.type
                continue
            base = self._base(t, depth)
            prefix = " ".join(quals)
            text = f"{prefix} {base}" if prefix else base
            if tags:  # innermost first, as written in the source
                text += " " + " ".join(reversed(tags))
            if inner:
                text += " " + inner if not inner.startswith("[") else inner
            return text
        raise BTFError(f"type {type_id}: declarator chain too long (a cycle?)")

    def _params(self, proto: FuncProto, depth: int) -> str:
        if not proto.params:
            return "void"
        parts = []
        for p in proto.params:
            if p.type == 0 and not p.name:
                parts.append("...")
            else:
                parts.append(self.declaration(p.type, p.name, depth))
        return ", ".join(parts)

    def _base(self, t: Type | None, depth: int) -> str:
        if t is None:
            return "void"
        if self.options.brief:
            if isinstance(t, (Struct, Union, Enum, Enum64)) and not t.name:
                return (
                    "union"
                    if isinstance(t, Union)
                    else "enum"
                    if isinstance(t, (Enum, Enum64))
                    else "struct"
                ) + " {...}"
            if isinstance(t, Datasec):
                return f'SEC("{t.name}")'
        if isinstance(t, (Struct, Union)) and not t.name:
            return self.record_text(t, depth + 1)
        if isinstance(t, (Enum, Enum64)) and not t.name:
            self.inlined_enums.add(t.id)
            return self.enum_text(t, depth + 1)
        if isinstance(t, (Struct, Union, Enum, Enum64, Fwd, Typedef)):
            return self.c_name(t.id)
        if isinstance(t, (Int, Float)):
            return _int_name(t.name)
        if isinstance(t, (Var, Datasec, DeclTag)):
            raise BTFError(f"type {t.id}: a {t.kind_name} is not a C type")
        return t.name or "void"

    # -- definitions -----------------------------------------------------------------

    def enum_text(self, t: Enum | Enum64, depth: int = 0) -> str:
        self._assign_names()
        ind = self.options.indent * (depth + 1)
        head = "enum " + (self._tag_names.get(t.id, t.name) + " " if t.name else "")
        if not t.values:
            # a declaration-only enum (pahole writes vlen=0): C has no empty enum, so
            # a named one is a forward declaration, as bpftool prints it
            return head.rstrip() if t.name else head + "{}"
        lines = [head + "{"]
        is64 = isinstance(t, Enum64)
        for i, v in enumerate(t.values):
            name = self._enumerator_names.get((t.id, i), v.name)
            lines.append(f"{ind}{name} = {_enum_literal(v.value, t.signed, is64)},")
        lines.append(self.options.indent * depth + "}")
        text = "\n".join(lines)
        if t.size < 4 and not is64:
            text += " __attribute__((packed))"
        return text

    def record_text(self, t: Struct | Union, depth: int = 0) -> str:
        """``struct name { ... }`` with padding and attributes, no trailing ``;``."""
        if depth > MAX_INLINE_DEPTH:
            raise BTFError(f"type {t.id}: anonymous records nested too deeply")
        self._assign_names()
        spec = self.spec
        ind = self.options.indent * (depth + 1)
        keyword = "union" if isinstance(t, Union) else "struct"
        head = keyword + (" " + self._tag_names.get(t.id, t.name) if t.name else "")
        natural_align = 1
        member_aligns = []
        for m in t.members:
            a = _safe_align(spec, m.type)
            member_aligns.append(a)
            natural_align = max(natural_align, a)
        packed = spec.align_of(t.id) == 1 and natural_align > 1
        self._budget -= len(t.members) + 1
        if self._budget < 0:
            raise BTFError(f"type {t.id}: C rendering would be larger than the input allows")
        lines = [head + " {"]
        cur = 0  # bit position after the previous member
        for m, m_align in zip(t.members, member_aligns, strict=True):
            bits = _bitfield_bits(spec, t, m)
            align_bits = 8 * (1 if packed else m_align)
            if isinstance(t, Struct):
                if bits:
                    if m.bit_offset > cur:
                        lines.extend(ind + p for p in _padding(cur, m.bit_offset))
                    cur = m.bit_offset + bits
                else:
                    natural = -(-cur // align_bits) * align_bits
                    if m.bit_offset > natural:
                        lines.extend(ind + p for p in _padding(cur, m.bit_offset))
                    size = _c_size(spec, m.type)
                    cur = m.bit_offset + 8 * size
            decl = self.declaration(m.type, m.name, depth)
            if bits:
                decl += f": {bits}"
            lines.append(f"{ind}{decl};")
        if isinstance(t, Struct):
            align = 1 if packed else natural_align
            natural_end = -(-cur // (8 * align)) * (8 * align)
            if 8 * t.size > natural_end:
                lines.extend(ind + p for p in _padding(cur, 8 * t.size))
        lines.append(self.options.indent * depth + "}")
        text = "\n".join(lines)
        if packed:
            text += " __attribute__((packed))"
        return text

    def definition(self, type_id: int) -> str:
        """The top-level statement defining one named type (or a forward declaration)."""
        t = self.spec.type(type_id)
        if isinstance(t, (Struct, Union)):
            return self.record_text(t) + ";"
        if isinstance(t, (Enum, Enum64)):
            return self.enum_text(t) + ";"
        if isinstance(t, Typedef):
            return "typedef " + self.declaration(t.type, self.c_name(type_id)) + ";"
        if isinstance(t, Fwd):
            return self.c_name(type_id) + ";"
        if t is None:
            raise BTFError("void has no definition")
        raise BTFError(f"type {type_id}: a {t.kind_name} has no C definition of its own")

    def forward(self, type_id: int) -> str:
        return self.c_name(type_id) + ";"


# -- dependency order ------------------------------------------------------------------


class _Planner:
    """Orders definitions so every by-value use follows a complete definition.

    Nodes are ``(type_id, full)``: ``full`` False is a forward declaration.
    The walk is an explicit stack (post order), never recursion.
    """

    def __init__(self, renderer: CRenderer) -> None:
        self.r = renderer
        self.spec = renderer.spec
        self.state: dict[tuple[int, bool], int] = {}  # 1 in progress, 2 done
        self.out: list[str] = []
        self.defined: set[int] = set()
        self.declared: set[int] = set()

    def deps(self, type_id: int, full: bool) -> list[tuple[int, bool]]:
        t = self.spec.type(type_id)
        if isinstance(t, (Struct, Union)):
            if not full:
                return []
            found: list[tuple[int, bool]] = []
            for m in t.members:
                found.extend(self._uses(m.type, by_value=True))
            return found
        if isinstance(t, Typedef):
            return self._uses(t.type, by_value=False)
        return []

    def _uses(self, type_id: int, by_value: bool) -> list[tuple[int, bool]]:
        """Nodes needed before a declaration of ``type_id`` can be written.

        A named struct/union behind a pointer needs nothing (naming it declares
        it at file scope) except inside a function prototype, whose parameter
        scope would hide that declaration: there it needs a forward declaration.
        """
        found: list[tuple[int, bool]] = []
        work = [(type_id, by_value, False, 0)]
        steps = 0
        while work:
            steps += 1
            if steps > 100_000:
                raise BTFError(f"type {type_id}: too many nested declarations")
            tid, value, in_proto, depth = work.pop()
            if depth > MAX_DEPTH * 4:
                raise BTFError(f"type {tid}: declaration chain too long (a cycle?)")
            t = self.spec.type(tid)
            if t is None or isinstance(t, (Int, Float)):
                continue
            if isinstance(t, (Const, Volatile, Restrict, TypeTag)):
                work.append((t.type, value, in_proto, depth + 1))
            elif isinstance(t, Array):  # elements must be complete, even in a typedef
                work.append((t.type, True, in_proto, depth + 1))
            elif isinstance(t, Ptr):
                work.append((t.type, False, in_proto, depth + 1))
            elif isinstance(t, FuncProto):
                work.append((t.return_type, False, True, depth + 1))
                work.extend((p.type, False, True, depth + 1) for p in t.params)
            elif isinstance(t, Typedef):
                if t.name in COMPILER_BUILTIN_TYPEDEFS:
                    continue
                found.append((tid, True))
                if value:
                    work.append((t.type, True, in_proto, depth + 1))
            elif isinstance(t, (Enum, Enum64)):
                if t.name:
                    found.append((tid, True))
            elif isinstance(t, Fwd):
                if in_proto:
                    found.append((tid, False))
            elif isinstance(t, (Struct, Union)):
                if not t.name:  # rendered inline: its members are used by value
                    work.extend((m.type, True, in_proto, depth + 1) for m in t.members)
                elif value:
                    found.append((tid, True))
                elif in_proto:
                    found.append((tid, False))
        return found

    def need(self, root: int, full: bool) -> None:
        stack: list[tuple[tuple[int, bool], list[tuple[int, bool]]]] = []
        self._push(stack, (root, full))
        while stack:
            node, pending = stack[-1]
            if pending:
                nxt = pending.pop()
                self._push(stack, nxt)
                continue
            stack.pop()
            self.state[node] = 2
            self._emit(node)

    def _push(self, stack: list, node: tuple[int, bool]) -> None:
        tid, full = node
        if not full and (tid in self.defined or tid in self.declared):
            return
        if self.state.get(node):
            return  # done, or in progress (a cycle through pointers: the forward decl covers it)
        self.state[node] = 1
        stack.append((node, list(reversed(self.deps(tid, full)))))

    def _emit(self, node: tuple[int, bool]) -> None:
        tid, full = node
        t = self.spec.type(tid)
        if full and isinstance(t, (Struct, Union, Enum, Enum64, Typedef)):
            if tid in self.defined:
                return
            if isinstance(t, Typedef) and t.name in COMPILER_BUILTIN_TYPEDEFS:
                return
            self.defined.add(tid)
            if self.r.c_name(tid) in self.r.options.assume_defined:
                return
            self.out.append(self.r.definition(tid))
        elif not full and tid not in self.defined and tid not in self.declared:
            self.declared.add(tid)
            self.out.append(self.r.forward(tid))


def render_c(
    spec: Spec,
    type_ids: list[int] | None = None,
    options: CRenderOptions | None = None,
) -> str:
    """C for ``type_ids`` (default: every named record, enum, typedef, and anonymous enum)."""
    return render_c_dump(spec, type_ids, options).text


def render_c_dump(
    spec: Spec,
    type_ids: list[int] | None = None,
    options: CRenderOptions | None = None,
) -> CDump:
    options = options or CRenderOptions()
    renderer = CRenderer(spec, options)
    renderer._assign_names()
    planner = _Planner(renderer)
    if type_ids is None:
        type_ids = [
            tid
            for tid in range(spec.first_id, spec.type_count)
            if spec.raw_kind(tid) in _NAMED_KINDS
            and (spec.name_offset(tid) or spec.raw_kind(tid) in (Kind.ENUM, Kind.ENUM64))
        ]
    anonymous_enums = []
    for tid in type_ids:
        t = spec.type(tid)
        if isinstance(t, (Enum, Enum64)) and not t.name:
            anonymous_enums.append(t)
        elif isinstance(t, Fwd):
            planner.need(tid, False)
        elif isinstance(t, (Struct, Union, Enum, Enum64, Typedef)):
            planner.need(tid, True)
    # last, so that the ones a declaration already wrote inline are known
    for t in anonymous_enums:
        if t.id not in renderer.inlined_enums:
            planner.out.append(renderer.enum_text(t) + ";")
    parts: list[str] = []
    if options.header_guard:
        parts.append(
            "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n"
            "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
            "#pragma clang attribute push (__attribute__((preserve_access_index)), "
            "apply_to = record)\n#endif\n"
        )
    if options.tag_macros:
        macro_lines = [
            f'#ifndef {macro}\n#define {macro} __attribute__((btf_type_tag("{tag}")))\n#endif'
            for tag, macro in TAG_MACROS.items()
        ]
        parts.append("\n".join(macro_lines) + "\n")
    parts.extend(text + "\n" for text in planner.out)
    if options.header_guard:
        parts.append(
            "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n"
            "#endif /* __VMLINUX_H__ */\n"
        )
    names = {}
    for tid in planner.defined | planner.declared:
        names[tid] = renderer.c_name(tid)
    return CDump("\n".join(parts), names, dict(renderer._enumerator_names))


def c_declaration(
    spec: Spec, type_id: int, name: str = "", options: CRenderOptions | None = None
) -> str:
    """One declaration, e.g. ``struct bpf_cpumask __attribute__((btf_type_tag("kptr"))) *mask``."""
    return CRenderer(spec, options).declaration(type_id, name)


def c_type_name(spec: Spec, type_id: int, options: CRenderOptions = BRIEF) -> str:
    """The abstract type name of ``type_id`` (``struct bpf_cpumask __kptr *``)."""
    return CRenderer(spec, options).declaration(type_id, "")


def c_definition(spec: Spec, type_id: int, options: CRenderOptions | None = None) -> str:
    """The definition of one named type, on its own (no dependencies)."""
    return CRenderer(spec, options).definition(type_id)


# -- helpers -------------------------------------------------------------------------------


_NAMED_KINDS = frozenset({Kind.STRUCT, Kind.UNION, Kind.ENUM, Kind.FWD, Kind.TYPEDEF, Kind.ENUM64})
_QUALIFIER_WORDS = {Const: "const", Volatile: "volatile", Restrict: "restrict"}


def _is_union(t: Type) -> bool:
    return isinstance(t, Union) or (isinstance(t, Fwd) and t.is_union)


def _int_name(name: str) -> str:
    return name


def _enum_literal(value: int, signed: bool, is64: bool) -> str:
    if is64:
        if signed and value == -(1 << 63):
            return "(-9223372036854775807LL - 1)"
        return f"{value}LL" if signed else f"{value}ULL"
    if signed and value == -(1 << 31):
        return "(-2147483647 - 1)"
    return str(value)


def _safe_align(spec: Spec, type_id: int) -> int:
    try:
        return spec.align_of(type_id)
    except BTFError:
        return 1


def _c_size(spec: Spec, type_id: int) -> int:
    """Size of a member's type as clang will lay it out (see COMPILER_BUILTIN_TYPEDEFS)."""
    try:
        for _ in range(MAX_DEPTH):
            t = spec.type(type_id)
            if isinstance(t, Typedef) and t.name in COMPILER_BUILTIN_TYPEDEFS:
                return COMPILER_BUILTIN_TYPEDEFS[t.name]
            if not isinstance(t, (Typedef, Const, Volatile, Restrict, TypeTag)):
                break
            type_id = t.type
        return spec.size_of(type_id)
    except BTFError:
        return 0


def _bitfield_bits(spec: Spec, record: Struct | Union, m: Member) -> int:
    """Width of a bitfield member (both encodings), 0 for an ordinary member."""
    if record.kind_flag:
        return m.bitfield_size
    t = spec.type(spec.strip(m.type))
    if isinstance(t, Int) and t.bits != 8 * t.size:
        return t.bits
    return 0


def _padding(start: int, end: int) -> list[str]:
    """Unnamed bitfields covering bits [start, end): they add no names or alignment."""
    out = []
    pos = start
    while pos < end:
        if pos % 8:
            width = min(8 - pos % 8, end - pos)
            out.append(f"char: {width};")
            pos += width
            continue
        for unit, ctype in ((64, "long"), (32, "int"), (16, "short"), (8, "char")):
            if pos % unit == 0 and end - pos >= unit:
                out.append(f"{ctype}: {unit};")
                pos += unit
                break
        else:
            out.append(f"char: {end - pos};")
            pos = end
    return out
