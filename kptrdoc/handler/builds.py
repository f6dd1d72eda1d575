"""The ``builds`` evidence: what each line that uses the macro compiles to in every build of
the sample that differs in byte order or instruction set (``target=bpfeb``, ``cpu=v4``).

A byte-order macro is a swap on a little-endian target and nothing on a
big-endian one; ``-mcpu=v4`` has a ``bswap`` instruction of its own; a constant
is folded by the compiler on every build. One table shows it: a row per source
line that uses the macro, a column per build, the instructions the object
model attributes to that line (line info of ``.BTF.ext``) in each.

Architecture builds (``arch=``) have their own evidence
(:mod:`kptrdoc.handler.registers`); only builds that keep this machine's
architecture take part here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import ClassVar

from kptrdoc.errors import KptrdocError
from kptrdoc.handler.evidence import Evidence, SampleContext
from kptrdoc.variants import Variant, read_variants


@dataclass(frozen=True)
class BuildLine:
    line: int
    source: str
    """The line as written (stripped)."""
    cells: tuple[tuple[str, ...], ...]
    """Per build of :attr:`BuildsEvidence.builds`: the instructions on the line."""

    @property
    def differs(self) -> bool:
        return len(set(self.cells)) > 1


@dataclass(frozen=True)
class BuildsEvidence(Evidence):
    kind: ClassVar[str] = "builds"
    builds: tuple[str, ...] = ()
    lines: tuple[BuildLine, ...] = ()


def build_name(variant: Variant) -> str:
    """``default (bpfel)``, ``target=bpfeb``, ``cpu=v4``: a column's name."""
    if variant.label == "default":
        return f"default ({'bpfeb' if sys.byteorder == 'big' else 'bpfel'})"
    return variant.label


class Builds:
    """Per line that uses the macro, the instructions of each byte-order or ISA build."""

    kind = "builds"

    def collect(self, context: SampleContext) -> list[Evidence]:
        from kptrdoc.compile import compile_sample
        from kptrdoc.objects import load_object

        variants = [
            v
            for v in read_variants(context.path, context.source)
            if v.error is None and v.arch is None
        ]
        if len(variants) < 2 or not context.usage.lines:
            return []
        lines = sorted(context.usage.lines)
        texts = context.source.splitlines()
        columns: list[dict[int, tuple[str, ...]]] = []
        names: list[str] = []
        for variant in variants:
            try:
                obj = load_object(compile_sample(context.path, variant).path, strict=False)
            except KptrdocError as exc:
                context.problems.append(f"{context.sample} ({variant.label}): builds: {exc}")
                continue
            found: dict[int, list[str]] = {line: [] for line in lines}
            for program in (*obj.programs, *obj.subprograms):
                for insn in program.instructions:
                    if insn.line is not None and insn.line.line in found:
                        found[insn.line.line].append(insn.text)
            columns.append({line: tuple(found[line]) for line in lines})
            names.append(build_name(variant))
        if len(columns) < 2:
            return []
        rows = tuple(
            BuildLine(
                line,
                texts[line - 1].strip() if 0 < line <= len(texts) else "",
                tuple(column[line] for column in columns),
            )
            for line in lines
        )
        return [BuildsEvidence(context.sample, tuple(names), rows)]
