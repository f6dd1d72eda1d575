"""The object model as JSON-ready dicts with stable keys (``kptrdoc inspect --json``)."""

from __future__ import annotations

from collections.abc import Mapping

from kptrdoc.expectations import TAG_PREFIX
from kptrdoc.objects.model import (
    BpfObject,
    CoreRelocation,
    DataSection,
    Extern,
    GlobalVar,
    Layout,
    MapDef,
    Program,
    ProgramInsn,
    SpecialField,
)


def _special(f: SpecialField) -> dict:
    return {"kind": f.kind, "path": f.path, "offset": f.offset, "size": f.size, "target": f.target}


def layout_json(layout: Layout | None) -> dict | None:
    if layout is None:
        return None
    return {
        "type": layout.type,
        "type_id": layout.type_id,
        "size": layout.size,
        "align": layout.align,
        "fields": fields_json(layout),
        "holes": [{"after": h.after, "offset": h.offset, "size": h.size} for h in layout.holes],
        "padding": layout.padding,
        "packed": layout.packed,
        "special": [_special(f) for f in layout.special],
    }


def fields_json(layout: Layout | None) -> list[dict]:
    if layout is None:
        return []
    return [
        {
            "name": f.name,
            "offset": f.offset,
            "size": f.size,
            "bit_offset": f.bit_offset,
            "bit_size": f.bit_size,
            "bitfield": f.bitfield,
            "type": f.type,
            "decl": f.decl,
            "special": f.special,
        }
        for f in layout.fields
    ]


def program_json(p: Program, values: Mapping[tuple[str, int], int | None] | None = None) -> dict:
    """``values``: (section, CO-RE record index) -> what the relocation gets against a
    target BTF (``None``: libbpf poisons the instruction), for ``--target-btf``."""
    return {
        "name": p.name,
        "section": p.section,
        "prog_type": p.prog_type,
        "attach_type": p.attach_type,
        "sleepable": p.sleepable,
        "autoload": p.autoload,
        "insns": p.insns,
        "func_id": p.func_id,
        "decl_tags": list(p.decl_tags),
        "expect": {
            "verdict": p.expect.verdict,
            "msgs": list(p.expect.msgs),
            "description": p.expect.description or None,
            "runs": list(p.expect.runs),
            "unknown": [TAG_PREFIX + t for t in p.expect.unknown],
            "conflicting": p.expect.conflicting,
            "kernel_msgs": [list(m) for m in p.expect.kernel_msgs],
            "failure_ranges": list(p.expect.failure_ranges),
        },
        "lines": [
            {
                "insn": ln.insn,
                "file": ln.file,
                "line": ln.line,
                "column": ln.column,
                "text": ln.text,
            }
            for ln in p.lines
        ],
        "calls": list(p.calls),
        "instructions": [insn_json(i) for i in p.instructions],
        "core_relocations": [core_json(c, values) for c in p.core_relocations],
    }


def insn_json(i: ProgramInsn) -> dict:
    out: dict = {"index": i.index, "code": i.insn.code, "text": i.text}
    if i.line is not None:
        out["line"] = i.line.line
    if i.relocation is not None:
        out["relocation"] = {"kind": i.relocation.kind, "symbol": i.relocation.symbol}
    return out


def core_json(c: CoreRelocation, values: Mapping[tuple[str, int], int | None] | None) -> dict:
    out: dict = {
        "insn": c.insn,
        "kind": c.kind,
        "type": c.type_name,
        "access": c.access,
        "path": c.path,
        "local_value": c.local_value,
    }
    if values is not None:
        out["value"] = values.get((c.section, c.index))
    return out


def map_json(m: MapDef) -> dict:
    return {
        "name": m.name,
        "type": m.type,
        "type_num": m.type_num,
        "key_size": m.key_size,
        "value_size": m.value_size,
        "max_entries": m.max_entries,
        "declared_max_entries": m.declared_max_entries,
        "flags": m.flags,
        "numa_node": m.numa_node,
        "pinning": m.pinning,
        "map_extra": m.map_extra,
        "key_type": m.key.type if m.key else None,
        "value_type": m.value.type if m.value else None,
        "inner_map": map_json(m.inner) if m.inner else None,
        "slots": [{"index": s.index, "target": s.target} for s in m.slots],
        "fields": fields_json(m.value),
        "key": layout_json(m.key),
        "value": layout_json(m.value),
    }


def global_json(v: GlobalVar) -> dict:
    return {
        "section": v.section,
        "name": v.name,
        "offset": v.offset,
        "size": v.size,
        "type": v.type,
        "linkage": v.linkage,
        "fields": fields_json(v.layout),
        "layout": layout_json(v.layout),
    }


def section_json(s: DataSection) -> dict:
    return {
        "name": s.name,
        "kind": s.kind,
        "map_name": s.map_name,
        "value_size": s.value_size,
        "flags": s.flags,
    }


def extern_json(e: Extern) -> dict:
    return {
        "name": e.name,
        "kind": e.kind,
        "weak": e.weak,
        "type_id": e.type_id,
        "signature": e.signature,
    }


def object_json(obj: BpfObject, values: Mapping[tuple[str, int], int | None] | None = None) -> dict:
    return {
        "path": str(obj.path),
        "license": obj.license,
        "programs": [program_json(p, values) for p in obj.programs],
        "subprograms": [program_json(p, values) for p in obj.subprograms],
        "maps": [map_json(m) for m in obj.maps],
        "data_sections": [section_json(s) for s in obj.data_sections],
        "globals": [global_json(v) for v in obj.globals],
        "externs": [extern_json(e) for e in obj.externs],
        "notes": list(obj.notes),
        "problems": list(obj.problems),
    }
