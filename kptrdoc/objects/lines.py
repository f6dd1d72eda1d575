"""Source lines of each program, from the ``.BTF.ext`` line_info records."""

from __future__ import annotations

from kptrdoc.btf import parse_btf_ext
from kptrdoc.btf.errors import BTFError
from kptrdoc.elf import ElfObject
from kptrdoc.objects.model import SourceLine


def line_info(spec, elf: ElfObject, notes: list[str]) -> dict[str, list[SourceLine]]:
    """``{section name: [SourceLine with the instruction index in that section]}``."""
    raw = elf.btf_ext
    if raw is None or spec is None:
        return {}
    try:
        ext = parse_btf_ext(raw, spec)
    except BTFError as exc:
        notes.append(f".BTF.ext not read: {exc}")
        return {}
    return {
        sec: [SourceLine(r.insn_off, r.file_name, r.line, r.column, r.line_text) for r in records]
        for sec, records in ext.line_info.items()
    }
