"""BTF chains: where a compiled object carries a macro, read with kptrdoc's BTF reader.

- type tags (``__kptr`` → ``TYPE_TAG 'kptr'``) on struct members and globals;
- declaration tags;
- members of ``.maps`` definitions that map-definition macros declare (``__uint``);
- the ``kptrdoc:`` expectations and the extern kfuncs, when the object model
  is not there to give them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kptrdoc.errors import KptrdocError
from kptrdoc.handler.model import ChainStep, TagUse


def definition_tags(text: str) -> tuple[list[str], list[str]]:
    """The ``btf_type_tag`` and ``btf_decl_tag`` values a definition's text adds."""
    types = re.findall(r'btf_type_tag\(\s*"([^"]+)"\s*\)', text)
    decls = re.findall(r'btf_decl_tag\(\s*"([^"]+)"\s*\)', text)
    return types, decls


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
                uses.append(
                    TagUse(f"{t.name or '(anonymous)'}.{member.name}", hit.name, steps, sample)
                )
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
                uses.append(TagUse(var.name, hit.name, steps, sample))
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
                uses.append(TagUse(f"{var.name}.{member.name}", "", steps, sample))
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
            steps = [_step(t)]
            where = target.name if target is not None else "?"
            if target is not None:
                steps.append(_step(target))
                members = getattr(target, "members", None) or getattr(target, "params", None)
                if t.component_idx >= 0 and members and t.component_idx < len(members):
                    component = members[t.component_idx].name
                    steps.append(ChainStep("member", component, None))
                    where = f"{where}.{component}"
            uses.append(TagUse(where, t.name, steps, sample))
    return uses


def expectations_from_btf(spec: Any) -> dict[str, dict]:
    """``kptrdoc:`` decl tags per program function, read with kptrdoc's BTF reader."""
    from kptrdoc.btf import Func

    out: dict[str, dict] = {}
    for t in spec:
        if not isinstance(t, Func):
            continue
        entry: dict = {"verdict": "", "msgs": [], "description": "", "runs": []}
        for tag in spec.decl_tags_of(t.id, -1):
            text = tag.name
            if not text.startswith("kptrdoc:"):
                continue
            body = text[len("kptrdoc:") :]
            if body in ("success", "failure"):
                entry["verdict"] = body
            elif body.startswith("msg="):
                entry["msgs"].append(body[4:])
            elif body.startswith("description="):
                entry["description"] = body[len("description=") :]
            elif body.startswith("run="):
                entry["runs"].append(body[4:])
        out[t.name] = entry
    return out


def externs_from_btf(spec: Any, source: str) -> list[tuple[str, str]]:
    """Extern functions (kfuncs) of the object, with their declaration from the source."""
    from kptrdoc.btf import Func, FuncLinkage

    found = []
    for t in spec:
        if isinstance(t, Func) and t.linkage == FuncLinkage.EXTERN:
            decl = re.search(rf"^\s*extern\b[^;]*\b{re.escape(t.name)}\s*\([^;]*;", source, re.M)
            found.append((t.name, " ".join(decl.group(0).split()) if decl else t.name + "(...)"))
    return found


def object_spec(obj_path: Path) -> Any:
    """The object's ``.BTF`` parsed by kptrdoc's BTF reader (only that section is read)."""
    from elftools.elf.elffile import ELFFile

    from kptrdoc.btf import parse_btf

    with obj_path.open("rb") as handle:
        section = ELFFile(handle).get_section_by_name(".BTF")
        if section is None:
            raise KptrdocError(f"{obj_path}: no .BTF section (compile with -g)")
        return parse_btf(section.data())
