"""``kptrdoc inspect OBJ``: what a compiled BPF object holds, as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import TextIO


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("object", metavar="OBJ", help="a BPF object compiled with clang -g")
    parser.add_argument("--json", action="store_true", help="print JSON with stable keys")
    parser.add_argument(
        "--target-btf",
        metavar="FILE",
        help="a kernel's BTF: give each CO-RE relocation the value libbpf patches in for it",
    )


def run(args: argparse.Namespace) -> int:
    from kptrdoc.objects import load_object, object_json

    obj = load_object(args.object)
    values = None
    if args.target_btf:
        from kptrdoc.core import resolve

        values = {
            (r.relocation.section, r.relocation.index): r.value
            for r in resolve(args.object, args.target_btf)
        }
    if args.json:
        json.dump(object_json(obj, values), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        write_summary(obj, sys.stdout, values)
    return 0


def _flags(value: int) -> str:
    return f"{value:#x}" if value else "0"


def _layout(layout, out: TextIO, indent: str) -> None:
    if layout is None:
        return
    if not layout.is_record:
        for f in layout.special:
            out.write(f"{indent}special {f.kind} at {f.offset} ({f.path})\n")
        return
    holes = {h.after: h for h in layout.holes}
    for f in layout.fields:
        bits = f":{f.bit_size}  (bit {f.bit_offset % (8 * max(f.size, 1))})" if f.bitfield else ""
        mark = f"  [{f.special}]" if f.special else ""
        out.write(f"{indent}{f.offset:>5} {f.size:>4}  {f.decl}{bits}{mark}\n")
        if f.name in holes:
            h = holes[f.name]
            out.write(f"{indent}{h.offset:>5} {h.size:>4}  /* hole */\n")
    if layout.padding:
        out.write(f"{indent}{layout.size - layout.padding:>5} {layout.padding:>4}  /* padding */\n")
    nested = [f for f in layout.special if "." in f.path]
    for f in nested:
        out.write(f"{indent}special {f.kind} at {f.offset} ({f.path})\n")


def write_summary(obj, out: TextIO, values: Mapping[tuple[str, int], int | None] | None = None):
    out.write(f"{obj.path}  license: {obj.license or '-'}\n")
    out.write(f"\nprograms ({len(obj.programs)})\n")
    for p in obj.programs:
        verdict = p.expect.verdict or "no expectation"
        out.write(
            f'  {p.name}  SEC("{p.section}")  {p.prog_type or "?"}'
            f"{' / ' + p.attach_type if p.attach_type else ''}  {p.insns} insns  [{verdict}]\n"
        )
        for m in p.expect.msgs:
            out.write(f"      msg: {m}\n")
        if p.expect.description:
            out.write(f"      description: {p.expect.description}\n")
        _listing(p, out, values)
    if obj.subprograms:
        out.write(f"\nsubprograms ({len(obj.subprograms)})\n")
        for p in obj.subprograms:
            out.write(f"  {p.name}  {p.insns} insns\n")
            _listing(p, out, values)
    out.write(f"\nmaps ({len(obj.maps)})\n")
    for m in obj.maps:
        _map(m, out, "  ")
    out.write("\nglobals\n")
    for s in obj.data_sections:
        size = f"value_size {s.value_size}" if s.value_size is not None else "no map"
        out.write(f"  {s.name}  map {s.map_name or '-'}  {size}  flags {_flags(s.flags)}\n")
        for v in s.variables:
            own = [f.kind for f in (v.layout.special if v.layout else ()) if f.path == v.name]
            mark = f"  [{own[0]}]" if own else ""
            out.write(f"    {v.offset:>5} {v.size:>4}  {v.type} {v.name}  ({v.linkage}){mark}\n")
            if v.layout is not None and v.layout.is_record:
                _layout(v.layout, out, "        ")
    out.write(f"\nexterns ({len(obj.externs)})\n")
    for e in obj.externs:
        out.write(f"  {e.kind:<8} {e.signature}\n")
    for note in obj.notes:
        out.write(f"\nnote: {note}\n")


def _listing(p, out: TextIO, values: Mapping[tuple[str, int], int | None] | None) -> None:
    """The instructions, with the source line where it changes and relocations inline."""
    shown = None
    for i in p.instructions:
        if i.line is not None and i.line.line != shown:
            shown = i.line.line
            out.write(f"      ; {i.line.text.strip()}  @ {i.line.file}:{i.line.line}\n")
        notes = []
        if i.relocation is not None:
            notes.append(f"{i.relocation.kind} {i.relocation.symbol}")
        if i.core is not None:
            core = f"CO-RE {i.core.kind} {i.core.path or i.core.type_name} ({i.core.access})"
            if values is not None:
                value = values.get((i.core.section, i.core.index))
                core += " -> poisoned" if value is None else f" -> {value}"
            notes.append(core)
        note = f"  ; {'; '.join(notes)}" if notes else ""
        out.write(f"      {i.index:>4}: ({i.insn.code:02x}) {i.text}{note}\n")


def _map(m, out: TextIO, indent: str) -> None:
    out.write(
        f"{indent}{m.name}  {m.type}  key {m.key_size}  value {m.value_size}  "
        f"max_entries {m.max_entries}  flags {_flags(m.flags)}"
    )
    if m.pinning:
        out.write(f"  pinning {m.pinning}")
    if m.map_extra:
        out.write(f"  map_extra {m.map_extra:#x}")
    if m.numa_node:
        out.write(f"  numa_node {m.numa_node}")
    out.write("\n")
    if m.key is not None:
        out.write(f"{indent}  key: {m.key.type}\n")
        _layout(m.key, out, indent + "    ")
    if m.value is not None:
        out.write(f"{indent}  value: {m.value.type}\n")
        _layout(m.value, out, indent + "    ")
    if m.inner is not None:
        out.write(f"{indent}  inner map:\n")
        _map(m.inner, out, indent + "    ")
    for s in m.slots:
        out.write(f"{indent}  slot {s.index}: {s.target}\n")
