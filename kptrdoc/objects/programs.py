"""Programs: each function in an executable section other than ``.text``.

The program type and attach type are what libbpf infers from the ``SEC``
name; the expectations are the ``kptrdoc:`` decl tags that
``kptrdoc/include/kptrdoc.h`` puts on the program's BTF FUNC.
"""

from __future__ import annotations

from kptrdoc.btf.types import Func
from kptrdoc.elf import ElfObject
from kptrdoc.expectations import parse_tags
from kptrdoc.objects.listing import Listing
from kptrdoc.objects.model import Program, SourceLine
from kptrdoc.objects.sections import program_kind


def _func(spec, name: str) -> Func | None:
    if spec is None:
        return None
    for t in spec.by_name(name, Func):
        return t
    return None


def collect_programs(
    spec, elf: ElfObject, lines: dict[str, list[SourceLine]], listing: Listing, text: bool = False
) -> list[Program]:
    """Programs in section order, then by offset; with ``text``, the functions in ``.text``
    instead (the subprograms programs call)."""
    out: list[Program] = []
    for sym in elf.programs:
        if (sym.section == ".text") != text or not sym.name:
            continue
        kind = program_kind(sym.section)
        func = _func(spec, sym.name)
        tags: tuple[str, ...] = ()
        if func is not None:
            tags = tuple(t.name for t in spec.decl_tags_of(func.id, -1))
        start = sym.insn_offset
        count = sym.insn_count
        own_lines = tuple(
            SourceLine(ln.insn - start, ln.file, ln.line, ln.column, ln.text)
            for ln in lines.get(sym.section, [])
            if start <= ln.insn < start + count
        )
        instructions, calls = listing.function(sym.name, sym.section, sym.offset, count, own_lines)
        out.append(
            Program(
                name=sym.name,
                section=sym.section.removeprefix("?"),
                prog_type=kind.prog_type if kind else None,
                attach_type=kind.attach_type if kind else None,
                sleepable=kind.sleepable if kind else False,
                autoload=not sym.section.startswith("?"),
                offset=sym.offset,
                insns=count,
                func_id=func.id if func is not None else None,
                decl_tags=tags,
                expect=parse_tags(list(tags)),
                lines=own_lines,
                instructions=instructions,
                calls=calls,
            )
        )
    return out
