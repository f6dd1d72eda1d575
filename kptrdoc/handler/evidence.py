"""Evidence providers: what a macro leaves in a compiled object, one small provider per kind.

Each provider's ``collect(context)`` looks at one compiled sample (the
:class:`~kptrdoc.objects.BpfObject`, read once) and where the macro is used
in it, and returns typed :class:`Evidence`; each evidence kind names the one
template that renders it (``templates/material/evidence/<kind>.html.jinja``),
the way mkdocstrings-python picks a template per object kind. Adding a kind
is one provider here and one template.

The kinds:

- ``chains``: BTF tag chains, ``.maps`` member encodings, DATASEC entries and
  ELF symbol attributes (:mod:`kptrdoc.handler.chains`);
- ``sections``: the ELF section a program is put in and the program type,
  attach type and flags libbpf derives from it;
- ``core``: the CO-RE relocations on the macro's lines, with the value each
  gets on every kernel of the matrix record (libbpf, :mod:`kptrdoc.core`);
- ``instructions``: each program the macro is used in, instruction by
  instruction, the macro's own instructions highlighted;
- ``registers``: the ``pt_regs`` field each ``PT_REGS_*`` use reads, per
  architecture build, checked against clang's ``offsetof``
  (:mod:`kptrdoc.handler.registers`);
- ``defined``: which of the page's macros each architecture build defines, and
  as what (``bpf_target_*``; same module);
- ``builds``: per line that uses the macro, the instructions of each byte-order
  or ISA build (``target=bpfeb``, ``cpu=v4``; :mod:`kptrdoc.handler.builds`);
- ``compile_errors``: build variants whose point is a compiler error, with
  clang's message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from kptrdoc.errors import KptrdocError
from kptrdoc.handler.chains import (
    EmitPlan,
    decl_tag_uses,
    map_member_uses,
    member_names_used,
    section_uses,
    symbol_uses,
    tag_uses,
)
from kptrdoc.handler.model import TagUse
from kptrdoc.objects import BpfObject
from kptrdoc.objects.model import Program, ProgramInsn


@dataclass(frozen=True)
class KernelTarget:
    """A kernel whose BTF CO-RE values are computed against."""

    label: str
    """``6.12 (trixie)``."""
    btf: Path


@dataclass(frozen=True)
class Usage:
    """Where the page's macro is used in one sample."""

    macro: str
    names: tuple[str, ...]
    """The macro and the names its definition uses for it (internals)."""
    lines: frozenset[int]
    """Source lines (1-based) the macro is used on."""
    plan: EmitPlan = field(default_factory=EmitPlan)


@dataclass(frozen=True)
class SampleContext:
    """What every provider gets for one sample."""

    path: Path
    source: str
    obj: BpfObject | None
    """``None`` for a sample no build of which this machine loads (compiler errors)."""
    usage: Usage
    kernels: tuple[KernelTarget, ...] = ()
    """The recorded kernels, for CO-RE values; empty when there is no record."""
    problems: list[str] = field(default_factory=list)
    """Evidence that could not be gathered: providers add one sentence each."""

    @property
    def sample(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence; ``kind`` picks the template."""

    kind: ClassVar[str] = ""
    sample: str

    @property
    def template(self) -> str:
        return f"evidence/{self.kind}.html.jinja"


class Provider(Protocol):
    kind: str

    def collect(self, context: SampleContext) -> list[Evidence]: ...


# --------------------------------------------------------------------------------- chains


@dataclass(frozen=True)
class ChainEvidence(Evidence):
    kind: ClassVar[str] = "chains"
    uses: tuple[TagUse, ...] = ()


class Chains:
    """BTF tags, map members, DATASEC entries and ELF symbols, as the definition asks."""

    kind = "chains"

    def collect(self, context: SampleContext) -> list[Evidence]:
        plan, obj, sample = context.usage.plan, context.obj, context.sample
        if obj is None or obj.btf is None or obj.elf is None:
            return []
        spec = obj.btf
        uses: list[TagUse] = []
        if plan.type_tags:
            uses += tag_uses(spec, list(plan.type_tags), sample)
        if plan.decl_tags:
            uses += decl_tag_uses(spec, list(plan.decl_tags), sample)
        symbols = list(obj.elf.symbols)
        if plan.sections:
            uses += section_uses(spec, symbols, plan.sections, sample)
        if plan.weak or plan.hidden:
            uses += symbol_uses(spec, symbols, plan, sample)
        if not uses and not plan.type_tags and not plan.decl_tags:
            members = member_names_used(context.source, context.usage.macro)
            if members:
                uses += map_member_uses(spec, members, sample)
        return [ChainEvidence(sample, tuple(uses))] if uses else []


# ------------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class SectionRow:
    program: str
    section: str
    prog_type: str
    attach_type: str
    sleepable: bool
    autoload: bool
    line: int


@dataclass(frozen=True)
class SectionEvidence(Evidence):
    kind: ClassVar[str] = "sections"
    rows: tuple[SectionRow, ...] = ()


def _first_line(program: Program) -> int | None:
    return min((ln.line for ln in program.lines), default=None)


class Sections:
    """Programs whose declaration the macro precedes: their section and what libbpf makes
    of it (the macro is used on a line before the function and after the previous one)."""

    kind = "sections"

    def collect(self, context: SampleContext) -> list[Evidence]:
        if not context.usage.plan.places_code or context.obj is None:
            return []
        starts = sorted(
            (line, p) for p in context.obj.programs if (line := _first_line(p)) is not None
        )
        rows = []
        previous = 0
        for start, program in starts:
            used = [n for n in context.usage.lines if previous < n <= start]
            previous = max((ln.line for ln in program.lines), default=start)
            if not used:
                continue
            rows.append(
                SectionRow(
                    program.name,
                    program.section,
                    program.prog_type or "(none: libbpf knows no such section)",
                    program.attach_type or "",
                    program.sleepable,
                    program.autoload,
                    max(used),
                )
            )
        return [SectionEvidence(context.sample, tuple(rows))] if rows else []


# ----------------------------------------------------------------------------------- CO-RE


@dataclass(frozen=True)
class CoreRow:
    program: str
    insn: int
    line: int | None
    kind: str
    type_name: str
    path: str
    access: str
    local: str
    values: tuple[str, ...]
    """Per kernel of :attr:`CoreEvidence.kernels`: the value, ``poisoned`` or ``—``."""

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


@dataclass(frozen=True)
class CoreEvidence(Evidence):
    kind: ClassVar[str] = "core"
    kernels: tuple[str, ...] = ()
    rows: tuple[CoreRow, ...] = ()


class CoreValues:
    """The CO-RE relocations on the macro's lines, resolved against each recorded kernel."""

    kind = "core"

    def collect(self, context: SampleContext) -> list[Evidence]:
        from kptrdoc.core import resolve

        if context.obj is None:
            return []
        lines = context.usage.lines

        def on_line(insn: ProgramInsn) -> bool:
            return insn.line is not None and insn.line.line in lines

        relos = [
            (program, insn)
            for program in (*context.obj.programs, *context.obj.subprograms)
            if not context.usage.plan.core or any(on_line(i) for i in program.instructions)
            for insn in program.instructions
            if insn.core is not None and (context.usage.plan.core or on_line(insn))
        ]
        if not relos:
            return []
        values: list[dict[tuple[str, int], str]] = []
        for kernel in context.kernels:
            try:
                resolved = resolve(context.obj.path, kernel.btf)
            except KptrdocError as exc:
                context.problems.append(f"{context.sample}: CO-RE on {kernel.label}: {exc}")
                values.append({})
                continue
            values.append(
                {
                    (r.relocation.section, r.relocation.index): (
                        "poisoned" if r.poisoned else str(r.value)
                    )
                    for r in resolved
                }
            )
        rows = []
        for program, insn in relos:
            core = insn.core
            assert core is not None
            key = (core.section, core.index)
            rows.append(
                CoreRow(
                    program.name,
                    insn.index,
                    insn.line.line if insn.line else None,
                    core.kind,
                    core.type_name,
                    core.path,
                    core.access,
                    "" if core.local_value is None else str(core.local_value),
                    tuple(v.get(key, "—") for v in values),
                )
            )
        labels = tuple(k.label for k in context.kernels)
        return [CoreEvidence(context.sample, labels, tuple(rows))]


# ---------------------------------------------------------------------------- instructions


@dataclass(frozen=True)
class InsnRow:
    index: int
    code: int
    text: str
    line: int | None
    source: str
    """The source line's text where it changes; "" while it stays the same."""
    highlight: bool
    note: str
    """The relocation: ``map cpumask_map``, ``CO-RE byte_off task_struct.pid``."""


@dataclass(frozen=True)
class ListingEvidence(Evidence):
    kind: ClassVar[str] = "instructions"
    program: str = ""
    section: str = ""
    rows: tuple[InsnRow, ...] = ()

    @property
    def highlighted(self) -> int:
        return sum(1 for r in self.rows if r.highlight)


class Instructions:
    """Every program (or subprogram) with an instruction on a line the macro is used on."""

    kind = "instructions"

    def collect(self, context: SampleContext) -> list[Evidence]:
        out: list[Evidence] = []
        lines = context.usage.lines
        if context.obj is None:
            return out
        for program in (*context.obj.programs, *context.obj.subprograms):
            if not any(i.line is not None and i.line.line in lines for i in program.instructions):
                continue
            rows = []
            shown = None
            for i in program.instructions:
                line = i.line.line if i.line else None
                source = i.line.text.strip() if i.line and line != shown else ""
                shown = line
                notes = []
                if i.relocation is not None:
                    notes.append(f"{i.relocation.kind} {i.relocation.symbol}")
                if i.core is not None:
                    notes.append(f"CO-RE {i.core.kind} {i.core.path or i.core.type_name}")
                rows.append(
                    InsnRow(
                        i.index, i.insn.code, i.text, line, source, line in lines, "; ".join(notes)
                    )
                )
            out.append(ListingEvidence(context.sample, program.name, program.section, tuple(rows)))
        return out


# -------------------------------------------------------------------------- compile errors


@dataclass(frozen=True)
class CompileErrorEvidence(Evidence):
    kind: ClassVar[str] = "compile_errors"
    variant: str = ""
    expected: str = ""
    diagnostics: str = ""
    matched: bool = False


class CompileErrors:
    """Build variants of the sample whose point is a compiler error, with clang's words."""

    kind = "compile_errors"

    def collect(self, context: SampleContext) -> list[Evidence]:
        from kptrdoc.compile import CompileError, compile_sample
        from kptrdoc.variants import read_variants

        out: list[Evidence] = []
        for variant in read_variants(context.path, context.source):
            if variant.error is None:
                continue
            try:
                compile_sample(context.path, variant)
            except CompileError as exc:
                shown = "\n".join(
                    ln.replace(str(context.path.parent) + "/", "")
                    for ln in exc.diagnostics.splitlines()
                )
                out.append(
                    CompileErrorEvidence(
                        context.sample, variant.label, variant.error, shown,
                        variant.error in exc.diagnostics,
                    )
                )  # fmt: skip
                continue
            context.problems.append(
                f"{context.sample} ({variant.label}): compiled, but its point is the error "
                f"{variant.error!r}"
            )
        return out


def providers() -> tuple[Provider, ...]:
    """Every provider, in the order the page shows their evidence."""
    from kptrdoc.handler.builds import Builds  # these build on the classes above
    from kptrdoc.handler.registers import Definitions, Registers

    return (Chains(), Sections(), CoreValues(), Registers(), Definitions(), Builds(),
            Instructions(), CompileErrors())  # fmt: skip


def collect_evidence(
    context: SampleContext, chosen: Sequence[Provider] | None = None
) -> list[Evidence]:
    out: list[Evidence] = []
    for provider in providers() if chosen is None else chosen:
        out += provider.collect(context)
    return out
