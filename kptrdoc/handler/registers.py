"""The ``registers`` evidence: which ``pt_regs`` field each ``PT_REGS_*`` use reads, at which
offset, on every architecture the sample is built for, checked against clang's ``offsetof``.

``bpf_tracing.h`` turns ``PT_REGS_PARM1(ctx)`` into a member access on the
architecture's register structure (``di`` of ``struct pt_regs`` on x86-64 with
``vmlinux.h``, ``regs[0]`` of ``struct user_pt_regs`` on arm64, ...). A sample
asks for architectures with ``// kptrdoc: build arch=...`` lines
(:mod:`kptrdoc.variants`); each build is read back with the object model and,
for each line that uses a register macro, the instruction that reads the
register gives the offset:

- a plain load, ``r2 = *(u64 *)(r1 + 112)``: its ``off``;
- a CO-RE relocation on the line (``vmlinux.h`` types, ``BPF_CORE_READ`` and
  libbpf's ``pt_regs___<arch>`` flavours): the field it names and the offset
  compiled in, which libbpf then patches per kernel.

The check is independent of the instruction: a second translation unit
includes the sample with the same flags and asks clang for ``offsetof`` of the
field (``offsetof(<the cast's type>, __PT_PARM1_REG)``, or the relocation's
type and member), read back as data from the object. A build variant whose
point is a compiler error (``PT_REGS_PARM7`` on x86-64) gives a cell that says
so.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from kptrdoc import toolchain
from kptrdoc.errors import KptrdocError
from kptrdoc.handler.evidence import Evidence, SampleContext
from kptrdoc.insn.model import Kind
from kptrdoc.objects.model import BpfObject, ProgramInsn
from kptrdoc.variants import NO_ARCH, Variant, read_variants

_MACRO = re.compile(
    r"^(?:__PT_(?P<own>(?:PARM[1-8](?:_SYSCALL)?|RET|FP|RC|SP|IP))_REG"
    r"|PT_REGS_(?P<reg>PARM[1-8]|RET|FP|RC|SP|IP)(?P<core>_CORE)?(?P<sys>_SYSCALL)?"
    r"|(?P<regs>PT_REGS_SYSCALL_REGS))$"
)
"""The register macros, by name: what they read is one ``__PT_<X>_REG``."""


def register_macro(name: str) -> str | None:
    """The ``__PT_<X>_REG`` a macro reads: ``PT_REGS_PARM4_CORE_SYSCALL`` ->
    ``__PT_PARM4_SYSCALL_REG``; ``None`` for a name that reads no register."""
    match = _MACRO.match(name)
    if match is None:
        return None
    if match["own"]:
        return name
    if match["regs"]:
        return "__PT_PARM1_REG"  # the syscall's own pt_regs is the wrapper's first argument
    return f"__PT_{match['reg']}{'_SYSCALL' if match['sys'] else ''}_REG"


@dataclass(frozen=True)
class RegisterRead:
    """What one use of a register macro reads in one build."""

    arch: str
    macro: str
    line: int
    program: str = ""
    insn: int | None = None
    text: str = ""
    """The instruction, as the listing prints it."""
    via: str = ""
    """``load`` (ctx + off), ``CO-RE`` (a relocated access), ``none`` (no read on the line)."""
    struct: str = ""
    """The type read: ``struct pt_regs``, ``const struct user_pt_regs``."""
    field: str = ""
    """``di``, ``regs[0]``, ``orig_gpr2``."""
    offset: int | None = None
    """What the instruction reads (for CO-RE: the offset compiled in)."""
    offsetof: int | None = None
    """clang's ``offsetof`` of the same field, from a separate translation unit."""
    error: str = ""
    """The compiler error of a build that does not compile (the cell says so)."""

    @property
    def checked(self) -> bool:
        return self.offset is not None and self.offset == self.offsetof


@dataclass(frozen=True)
class RegisterEvidence(Evidence):
    kind: ClassVar[str] = "registers"
    reads: tuple[RegisterRead, ...] = ()
    names: tuple[str, ...] = ()
    """The page's names in the order its front matter gives them: the table's rows."""


def _line_names(context: SampleContext) -> dict[int, str]:
    """Line -> the register macro written on it (the outermost use among the page's names)."""
    from kptrdoc.compile import compile_flags
    from kptrdoc.macro_uses import scan_macros
    from kptrdoc.variants import DEFAULT, main_variant

    names = [n for n in context.usage.names if register_macro(n) is not None]
    if not names:
        return {}
    variant = main_variant(context.path, toolchain.target_arch()) or _any_built(context.path)
    scan = scan_macros(context.path, compile_flags(context.path, variant or DEFAULT))
    best: dict[int, tuple[int, str]] = {}
    for use in scan.uses:
        if use.name not in names or use.in_directive or use.file.name != context.path.name:
            continue
        depth = len(use.parents)
        if use.line not in best or depth < best[use.line][0]:
            best[use.line] = (depth, use.name)
    return {line: name for line, (_, name) in sorted(best.items())}


def _any_built(path: Path) -> Variant | None:
    return next((v for v in read_variants(path) if v.error is None), None)


def _member(path: str) -> str:
    """``user_pt_regs.regs[0]`` -> ``regs[0]`` (the root may be ``(struct 23)``)."""
    return path.partition(".")[2]


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _find_read(
    obj: BpfObject, line: int, field: str, probe_read: bool, taken: set[tuple[str, int]]
) -> tuple[str, ProgramInsn] | None:
    """The instruction that reads ``field`` for the use on ``line``, in the (sub)program
    holding the line.

    A plain form (``PT_REGS_PARM1``) is a load: the first on the line that is not a
    stack slot, else the nearest load relocated to that member. A ``_CORE`` form is a
    probe read of a relocated address: the nearest non-load CO-RE access of that member
    (clang schedules the address of the next probe read onto the previous line)."""
    want = _squeeze(field)
    on_line: tuple[str, ProgramInsn] | None = None
    nearest: tuple[int, str, ProgramInsn] | None = None
    for program in (*obj.programs, *obj.subprograms):
        if not any(i.line is not None and i.line.line == line for i in program.instructions):
            continue
        for i in program.instructions:
            if (program.name, i.index) in taken:
                continue
            is_load = i.insn.kind in (Kind.LOAD, Kind.LOAD_SX) and i.insn.src != 10
            if is_load != (not probe_read):
                continue
            relocated = (
                i.core is not None
                and i.core.kind == "byte_off"
                and _squeeze(_member(i.core.path)) == want
            )
            here = i.line is not None and i.line.line == line
            if is_load and here and on_line is None and (i.core is None or relocated):
                on_line = (program.name, i)
            if relocated:
                distance = abs(i.line.line - line) if i.line is not None else 1 << 30
                if nearest is None or distance < nearest[0]:
                    nearest = (distance, program.name, i)
    if on_line is not None:
        return on_line
    return (nearest[1], nearest[2]) if nearest is not None else None


_PRELUDE = """\
#include "{sample}"
#ifndef offsetof
#define offsetof(t, m) __builtin_offsetof(t, m)
#endif
#define kptrdoc_str_(x) #x
#define kptrdoc_str(x) kptrdoc_str_(x)
"""

CAST_TYPE = "__typeof__(*__PT_REGS_CAST((struct pt_regs *)0))"
"""The type the register macros read through: what ``__PT_REGS_CAST`` makes of a context."""


def _ask_clang(
    path: Path,
    variant: Variant,
    texts: Sequence[str],
    offsets: Sequence[tuple[str, str]],
    defined: Sequence[str] = (),
) -> tuple[list[str], list[int]]:
    """Compile a unit that includes the sample, with the variant's flags, and read back from
    its data what the preprocessor makes of each of ``texts`` (stringified after expansion),
    clang's ``offsetof(type, member)`` of each of ``offsets`` and, for each macro of
    ``defined``, ``"0"`` when the build leaves it undefined, else ``"1"`` and its
    expansion (appended to the texts). Cached on disk by everything clang reads here."""
    from kptrdoc.compile import compile_flags
    from kptrdoc.elf import parse_object

    flags = compile_flags(path, variant)
    unit = _PRELUDE.format(sample=path.name)
    for n, text in enumerate(texts):
        unit += f"__attribute__((used)) const char kptrdoc_text_{n}[] = kptrdoc_str({text});\n"
    for n, name in enumerate(defined, start=len(texts)):
        unit += (
            f"#ifdef {name}\n__attribute__((used)) const char kptrdoc_text_{n}[] = "
            f'"1" kptrdoc_str({name});\n#else\n'
            f'__attribute__((used)) const char kptrdoc_text_{n}[] = "0";\n#endif\n'
        )
    for n, (struct, member) in enumerate(offsets):
        unit += (
            f"__attribute__((used)) const unsigned long kptrdoc_off_{n} = "
            f"offsetof({struct}, {member});\n"
        )
    clang = toolchain.clang()
    parts = ["kptrdoc-registers-3", str(clang), toolchain.clang_version(clang), unit, *flags,
             path.read_text(errors="replace")]  # fmt: skip
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    cache = toolchain.cache_dir() / "registers" / f"{key}.json"
    try:
        said, numbers = json.loads(cache.read_text())
        return [str(t) for t in said], [int(o) for o in numbers]
    except (OSError, ValueError, TypeError):
        pass
    with tempfile.TemporaryDirectory(prefix="kptrdoc-regs-") as tmp:
        out = Path(tmp) / "check.o"
        proc = subprocess.run(
            [str(clang), *flags, "-Wno-unused", "-x", "c", "-", "-c", "-o", str(out)],
            input=unit, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            said = next((ln for ln in proc.stderr.splitlines() if "error:" in ln), proc.stderr)
            raise KptrdocError(f"the offsetof check does not compile: {said.strip()}")
        elf = parse_object(out.read_bytes(), str(out))

    def value(name: str) -> bytes:
        symbol = next((s for s in elf.symbols if s.name == name and s.section), None)
        data = elf.section_data(symbol.section) if symbol and symbol.section else None
        if symbol is None or data is None:
            raise KptrdocError(f"the offsetof check left no {name} in its object")
        return data[symbol.value : symbol.value + symbol.size]

    order = "big" if variant.target == "bpfeb" else "little"
    if variant.target == "bpf":
        order = sys.byteorder
    said = [value(f"kptrdoc_text_{n}").rstrip(b"\0").decode(errors="replace")
            for n in range(len(texts) + len(defined))]  # fmt: skip
    numbers = [int.from_bytes(value(f"kptrdoc_off_{n}"), order) for n in range(len(offsets))]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps([said, numbers]))
    return said, numbers


def _c_type(type_name: str) -> str:
    """A relocation's type as C names it: ``typedef user_pt_regs`` -> ``user_pt_regs``."""
    return type_name.removeprefix("typedef ")


def arch_label(variant: Variant) -> str:
    """``arm64``; this machine's main build is ``x86 (example)``: the one loaded."""
    return variant.arch or f"{toolchain.target_arch()} (example)"


def _reads(context: SampleContext, variant: Variant, lines: dict[int, str]) -> list[RegisterRead]:
    from kptrdoc.compile import compile_sample
    from kptrdoc.objects import load_object

    arch = build_label(variant)
    obj = load_object(compile_sample(context.path, variant).path, strict=False)
    uses = [(line, name, register_macro(name) or "") for line, name in lines.items()]
    # what each register macro names in this build, and the type the context is cast to
    texts, _ = _ask_clang(
        context.path, variant, ["__PT_REGS_CAST(ctx)", *(r for _, _, r in uses)], []
    )
    cast = _cast_type(texts[0])
    taken: set[tuple[str, int]] = set()
    pending: list[RegisterRead] = []
    checks: list[tuple[str, str]] = []
    for (line, name, reg), field in zip(uses, texts[1:], strict=True):
        found = _find_read(obj, line, field, "_CORE" in name, taken)
        if found is None:
            pending.append(RegisterRead(arch, name, line, via="none", field=field))
            continue
        program, insn = found
        taken.add((program, insn.index))
        core = insn.core
        if core is not None and core.kind == "byte_off":
            read = RegisterRead(arch, name, line, program, insn.index, insn.text, "CO-RE",
                                _c_type(core.type_name), _member(core.path),
                                core.local_value)  # fmt: skip
            checks.append((_c_type(core.type_name), _member(core.path)))
        else:
            read = RegisterRead(arch, name, line, program, insn.index, insn.text, "load",
                                cast, field, insn.insn.off)  # fmt: skip
            checks.append((CAST_TYPE, reg))
        pending.append(read)
    _, numbers = _ask_clang(context.path, variant, [], checks) if checks else ([], [])
    answers = iter(numbers)
    return [
        read if read.via == "none" else replace(read, offsetof=next(answers)) for read in pending
    ]


def _cast_type(cast: str) -> str:
    """``((const struct user_pt_regs *)(ctx))`` -> ``const struct user_pt_regs``; the
    identity cast ``(ctx)`` reads the context's own type, ``struct pt_regs``."""
    inner = cast.strip()
    while inner.startswith("(") and _closing(inner, 0) == len(inner) - 1:
        inner = inner[1:-1].strip()
    if inner.startswith("("):
        end = _closing(inner, 0)
        if end > 0 and inner[1:end].rstrip().endswith("*"):
            return inner[1:end].rstrip()[:-1].strip()
    return "struct pt_regs"


def _closing(text: str, start: int) -> int:
    """The index of the parenthesis that closes the one at ``start``; -1 if none does."""
    depth = 0
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index
    return -1


class Registers:
    """Each register macro's read, per architecture build, checked against ``offsetof``."""

    kind = "registers"

    def collect(self, context: SampleContext) -> list[Evidence]:
        try:
            lines = _line_names(context)
        except KptrdocError as exc:
            context.problems.append(f"{context.sample}: registers: {exc}")
            return []
        if not lines:
            return []
        reads: list[RegisterRead] = []
        for variant in read_variants(context.path, context.source):
            arch = build_label(variant)
            if variant.target != "bpf" or variant.cpu:
                continue  # byte order and ISA do not move a field
            if variant.error is not None:
                reads += [RegisterRead(arch, name, line, error=variant.error)
                          for line, name in lines.items()]  # fmt: skip
                continue
            try:
                reads += _reads(context, variant, lines)
            except KptrdocError as exc:
                context.problems.append(f"{context.sample} ({variant.label}): registers: {exc}")
        if not reads:
            return []
        return [RegisterEvidence(context.sample, tuple(reads), context.usage.names)]


@dataclass(frozen=True)
class RegisterRow:
    macro: str
    cells: tuple[RegisterRead | None, ...]
    """One per column of :attr:`RegisterTable.arches`; ``None``: no sample builds it there."""


@dataclass(frozen=True)
class RegisterTable:
    """Every sample's reads on one page: a row per macro, a column per architecture."""

    arches: tuple[str, ...]
    rows: tuple[RegisterRow, ...]
    casts: tuple[str, ...]
    """The type each architecture's register macros read, per column."""

    @property
    def unchecked(self) -> int:
        """Reads whose offset clang's ``offsetof`` does not confirm."""
        return sum(
            1
            for row in self.rows
            for cell in row.cells
            if cell is not None and not cell.error and cell.via != "none" and not cell.checked
        )


def register_table(items: Sequence[RegisterEvidence]) -> RegisterTable:
    """Merge the page's ``registers`` evidence, macros and architectures in the order the
    samples first name them (a macro read twice on one architecture keeps its first read)."""
    arches: list[str] = []
    macros: list[str] = []
    cells: dict[tuple[str, str], RegisterRead] = {}
    for item in items:
        for read in item.reads:
            if read.arch not in arches:
                arches.append(read.arch)
            if read.macro not in macros:
                macros.append(read.macro)
            cells.setdefault((read.macro, read.arch), read)

    def cast(arch: str) -> str:
        found = [c for (_, a), c in cells.items() if a == arch and c.struct]
        loads = [c for c in found if c.via == "load"]
        return (loads or found)[0].struct if found else ""

    casts = tuple(cast(arch) for arch in arches)
    order = [name for item in items for name in item.names]
    macros.sort(key=lambda m: order.index(m) if m in order else len(order))
    rows = tuple(
        RegisterRow(macro, tuple(cells.get((macro, arch)) for arch in arches)) for macro in macros
    )
    return RegisterTable(tuple(arches), rows, casts)


# ------------------------------------------------------------------------ definitions


@dataclass(frozen=True)
class DefinedCell:
    """Whether one build defines one macro, and as what."""

    defined: bool = False
    expansion: str = ""
    error: str = ""
    """The compiler error of a build whose point is one."""


@dataclass(frozen=True)
class DefinedEvidence(Evidence):
    kind: ClassVar[str] = "defined"
    builds: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    cells: tuple[tuple[DefinedCell, ...], ...] = ()
    """Per name, per build."""


def build_label(variant: Variant) -> str:
    """A column's name: ``arm64``; ``none`` for a build without ``__TARGET_ARCH``."""
    if variant.arch == NO_ARCH:
        return "no __TARGET_ARCH"
    return arch_label(variant)


class Definitions:
    """Which of the page's macros each architecture build of a sample defines, and as what:
    for pages of names the target architecture selects (``bpf_target_*``), whose builds
    differ in what is defined rather than in what an instruction reads."""

    kind = "defined"

    def collect(self, context: SampleContext) -> list[Evidence]:
        names = [n for n in context.usage.names if register_macro(n) is None]
        variants = read_variants(context.path, context.source)
        if not names or sum(1 for v in variants if v.arch is not None) < 2:
            return []
        if any(register_macro(n) is not None for n in context.usage.names):
            return []
        builds: list[str] = []
        columns: list[list[DefinedCell]] = []
        for variant in variants:
            if variant.target != "bpf" or variant.cpu:
                continue
            builds.append(build_label(variant))
            if variant.error is not None:
                columns.append([DefinedCell(error=variant.error)] * len(names))
                continue
            try:
                said, _ = _ask_clang(context.path, variant, [], [], names)
            except KptrdocError as exc:
                context.problems.append(f"{context.sample} ({variant.label}): definitions: {exc}")
                builds.pop()
                continue
            columns.append([DefinedCell(text[:1] == "1", text[1:]) for text in said])
        if not builds:
            return []
        cells = tuple(tuple(column[row] for column in columns) for row in range(len(names)))
        return [DefinedEvidence(context.sample, tuple(builds), tuple(names), cells)]
