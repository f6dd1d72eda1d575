"""Source lines of each program, from the ``.BTF.ext`` line_info records."""

from __future__ import annotations

from kptrdoc.btf.ext import BTFExt
from kptrdoc.objects.model import SourceLine


def line_info(ext: BTFExt | None) -> dict[str, list[SourceLine]]:
    """``{section name: [SourceLine with the instruction index in that section]}``."""
    if ext is None:
        return {}
    return {
        sec: [SourceLine(r.insn_off, r.file_name, r.line, r.column, r.line_text) for r in records]
        for sec, records in ext.line_info.items()
    }
