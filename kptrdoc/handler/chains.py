"""BTF chains: where a compiled object carries a macro, read with kptrdoc's BTF reader.

- type tags (``__kptr`` → ``TYPE_TAG 'kptr'``) on struct members and globals;
- declaration tags, with the member or parameter a ``component_idx`` names;
- the entries of the DATASECs a definition's ``section(".ksyms")`` names, and
  the ELF symbols its ``weak`` / ``visibility("hidden")`` marks, each with its
  BTF ``VAR``/``FUNC`` and linkage (:class:`EmitPlan` says which apply);
- members of ``.maps`` definitions that map-definition macros declare (``__uint``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kptrdoc.handler.model import ChainStep, SymbolView, TagUse


def definition_tags(text: str) -> tuple[list[str], list[str]]:
    """The ``btf_type_tag`` and ``btf_decl_tag`` values a definition's text adds."""
    types = re.findall(r'btf_type_tag\(\s*"([^"]+)"\s*\)', text)
    decls = re.findall(r'btf_decl_tag\(\s*"([^"]+)"\s*\)', text)
    return types, decls


@dataclass(frozen=True)
class EmitPlan:
    """What a definition's text says the compiler emits, so where to look in an object."""

    type_tags: tuple[str, ...] = ()
    decl_tags: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    """Literal ``section(".ksyms")`` names: the entries of those DATASECs."""
    weak: bool = False
    """``weak`` (or ``__weak``, which expands to it): ELF symbols bound WEAK."""
    hidden: bool = False
    """``visibility("hidden")``: ELF symbols with HIDDEN visibility."""
    places_code: bool = False
    """``section(name)`` with a name the user gives (``SEC``): what follows goes into that
    section, and a function there is a program whose type libbpf derives from it."""
    core: bool = False
    """A CO-RE macro (one of ``bpf_core_read.h``, or a ``bpf_tracing.h`` register macro,
    whose reads are relocated under ``vmlinux.h``): every CO-RE relocation of the programs
    that use it is its evidence, not only those whose line info names the macro's line
    (clang hoists the relocated constants, and their line info then names another)."""


def definition_emits(text: str) -> EmitPlan:
    """The :class:`EmitPlan` of a definition's text."""
    types, decls = definition_tags(text)
    return EmitPlan(
        type_tags=tuple(types),
        decl_tags=tuple(decls),
        sections=tuple(dict.fromkeys(re.findall(r'section\(\s*"([^"]+)"\s*\)', text))),
        weak=re.search(r"(?<![A-Za-z])weak\b", text) is not None,
        hidden=re.search(r'visibility\(\s*"hidden"\s*\)', text) is not None,
        places_code=re.search(r"section\(\s*[A-Za-z_]", text) is not None,
    )


# --------------------------------------------------------------------------
# Sources: lines using the macro, program functions
# --------------------------------------------------------------------------


def tag_uses(spec: Any, tags: list[str], sample: str) -> list[TagUse]:
    from kptrdoc.btf import Datasec, Struct, TypeTag, Union, Var

    uses: list[TagUse] = []
    wanted = set(tags)
    for t in spec:
        if isinstance(t, (Struct, Union)):
            owner = ChainStep("STRUCT" if isinstance(t, Struct) else "UNION", t.name, t.id)
            for member in t.members:
                chain = spec.tag_chain(member.type)
                hit = next((c for c in chain if isinstance(c, TypeTag) and c.name in wanted), None)
                if hit is None:
                    continue
                steps = [owner, ChainStep("member", member.name, None)]
                steps += [_step(c) for c in chain]
                where = f"{t.name or '(anonymous)'}.{member.name}"
                uses.append(TagUse(where, hit.name, steps, sample, view="tag"))
        elif isinstance(t, Datasec):
            for info in t.vars:
                var = spec.type(info.type)
                if not isinstance(var, Var):
                    continue
                chain = spec.tag_chain(var.type)
                hit = next((c for c in chain if isinstance(c, TypeTag) and c.name in wanted), None)
                if hit is None:
                    continue
                steps = [ChainStep("DATASEC", t.name, t.id), _step(var), *(_step(c) for c in chain)]
                uses.append(TagUse(var.name, hit.name, steps, sample, view="tag"))
    return uses


def _step(t: Any) -> ChainStep:
    nelems = getattr(t, "nelems", None)
    if t.kind_name == "ARRAY" and nelems is not None:
        return ChainStep("ARRAY", f"[{nelems}]", t.id)
    if t.kind_name in ("ENUM", "ENUM64") and not t.name:
        values = ", ".join(f"{v.name} = {v.value}" for v in getattr(t, "values", ())[:2])
        return ChainStep(t.kind_name, f"{{ {values} }}", t.id)
    return ChainStep(t.kind_name, t.name, t.id)


def member_names_used(source: str, macro: str) -> list[str]:
    """First arguments of ``MACRO(name, ...)`` in the code of ``source`` (``__uint(type, ...)``)."""
    code = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    code = re.sub(r"//[^\n]*", "", code)
    found = re.findall(rf"(?<![\w]){re.escape(macro)}\s*\(\s*([A-Za-z_]\w*)\s*,", code)
    return list(dict.fromkeys(found))


def map_member_uses(spec: Any, members: list[str], sample: str) -> list[TagUse]:
    """BTF chains of the ``.maps`` definitions' members named in ``members``."""
    from kptrdoc.btf import Datasec, Struct, Var

    uses: list[TagUse] = []
    wanted = set(members)
    for t in spec:
        if not (isinstance(t, Datasec) and t.name == ".maps"):
            continue
        for info in t.vars:
            var = spec.type(info.type)
            if not isinstance(var, Var):
                continue
            record = spec.type(spec.strip(var.type))
            if not isinstance(record, Struct):
                continue
            for member in record.members:
                if member.name not in wanted:
                    continue
                steps = [ChainStep("VAR", var.name, var.id), _step(record)]
                steps.append(ChainStep("member", member.name, None))
                steps += [_step(c) for c in _member_chain(spec, member.type)]
                where = f"{var.name}.{member.name}"
                uses.append(TagUse(where, "", steps, sample, view="member"))
    return uses


def _member_chain(spec: Any, type_id: int, limit: int = 6) -> list[Any]:
    """PTR/ARRAY/TYPE_TAG/qualifier links from ``type_id`` down to the first other type."""
    chain = []
    for _ in range(limit):
        t = spec.type(type_id)
        if t is None:
            break
        chain.append(t)
        if t.kind_name not in ("PTR", "ARRAY", "TYPE_TAG", "CONST", "VOLATILE", "RESTRICT"):
            break
        type_id = t.type
    return chain


def decl_tag_uses(spec: Any, tags: list[str], sample: str) -> list[TagUse]:
    from kptrdoc.btf import DeclTag

    uses = []
    for t in spec:
        if isinstance(t, DeclTag) and t.name in tags:
            target = spec.type(t.type)
            detail = f"component_idx={t.component_idx}" if t.component_idx >= 0 else ""
            steps = [ChainStep("DECL_TAG", t.name, t.id, detail)]
            where = target.name if target is not None else "?"
            if target is not None:
                steps.append(_step(target))
                component, more = _component(spec, target, t.component_idx)
                steps += more
                if component:
                    function = target.kind_name == "FUNC"
                    where = f"{where}({component})" if function else f"{where}.{component}"
            uses.append(TagUse(where, t.name, steps, sample, view="tag"))
    return uses


def _component(spec: Any, target: Any, index: int) -> tuple[str, list[ChainStep]]:
    """The member or parameter ``index`` of a decl tag's target, as chain steps."""
    from kptrdoc.btf import Func, FuncProto

    if index < 0:
        return "", []
    if isinstance(target, Func):
        proto = spec.type(target.type)
        if not isinstance(proto, FuncProto) or index >= len(proto.params):
            return "", []
        param = proto.params[index]
        steps = [_step(proto), ChainStep("param", param.name, None, str(index))]
        return param.name, steps + [_step(c) for c in _member_chain(spec, param.type)]
    members = getattr(target, "members", None)
    if not members or index >= len(members):
        return "", []
    return members[index].name, [ChainStep("member", members[index].name, None)]


# --------------------------------------------------------------------------
# Symbols: DATASEC entries of a section, ELF symbols with a binding/visibility
# --------------------------------------------------------------------------

_LINKAGE = {"GLOBAL_ALLOCATED": "global", "GLOBAL_EXTERN": "extern"}


def _linkage(t: Any) -> str:
    name = getattr(getattr(t, "linkage", None), "name", "")
    return _LINKAGE.get(name, name.lower())


def _symbol_view(symbol: Any, btf: Any) -> SymbolView:
    section = symbol.section or "UND"
    return SymbolView(symbol.name, symbol.binding, symbol.visibility, section, _linkage(btf))


def _entry_steps(spec: Any, entry: Any) -> list[ChainStep]:
    """A DATASEC entry or a FUNC: the VAR/FUNC with its linkage, then what it declares."""
    from kptrdoc.btf import Func

    steps = [ChainStep(entry.kind_name, entry.name, entry.id, f"linkage={_linkage(entry)}")]
    if isinstance(entry, Func):
        proto = spec.type(entry.type)
        return steps + ([_step(proto)] if proto is not None else [])
    return steps + [_step(c) for c in _member_chain(spec, entry.type)]


def _datasec_entries(spec: Any) -> dict[int, Any]:
    """The DATASEC of each VAR/FUNC type id a DATASEC lists."""
    from kptrdoc.btf import Datasec

    return {info.type: t for t in spec if isinstance(t, Datasec) for info in t.vars}


def section_uses(
    spec: Any, symbols: list[Any], sections: tuple[str, ...], sample: str
) -> list[TagUse]:
    """The entries of the DATASECs named ``sections`` (``.ksyms``, ``.kconfig``)."""
    from kptrdoc.btf import Datasec

    by_name = {s.name: s for s in symbols if s.name}
    uses = []
    for t in spec:
        if not (isinstance(t, Datasec) and t.name in sections):
            continue
        for info in t.vars:
            entry = spec.type(info.type)
            if entry is None:
                continue
            steps = [ChainStep("DATASEC", t.name, t.id), *_entry_steps(spec, entry)]
            symbol = by_name.get(entry.name)
            view = _symbol_view(symbol, entry) if symbol is not None else None
            uses.append(TagUse(entry.name, "", steps, sample, view="section", symbol=view))
    return uses


def symbol_uses(spec: Any, symbols: list[Any], plan: EmitPlan, sample: str) -> list[TagUse]:
    """The BTF of each ELF symbol bound WEAK (``plan.weak``) or HIDDEN (``plan.hidden``)."""
    from kptrdoc.btf import Func, Var

    datasecs = _datasec_entries(spec)
    named = {t.name: t for t in spec if isinstance(t, (Var, Func)) and t.name}
    uses = []
    for symbol in symbols:
        chosen = (plan.weak and symbol.binding == "WEAK") or (
            plan.hidden and symbol.visibility == "HIDDEN"
        )
        entry = named.get(symbol.name)
        if not chosen or symbol.type in ("SECTION", "FILE") or entry is None:
            continue
        steps = _entry_steps(spec, entry)
        datasec = datasecs.get(entry.id)
        if datasec is not None:
            steps.insert(0, ChainStep("DATASEC", datasec.name, datasec.id))
        view = _symbol_view(symbol, entry)
        uses.append(TagUse(symbol.name, "", steps, sample, view="symbol", symbol=view))
    return uses
