"""What a page's download holds, read from the object model and the annotations.

A download is one project per sample folder. It holds every example file of the folder:
a ``*.bpf.c`` (not ``mistakes*.bpf.c``) with at least one ``__success`` program that
asks to be run (``__run``). For each such program the loader does what the page's
harness did: set the ``__run_set`` globals, attach, cause the trigger's event, and read
back the ``__run_check`` globals and the ``__run_printed`` text. Everything here comes
from the one reader of the annotations (:class:`kptrdoc.expectations.Expectation`, on
:class:`kptrdoc.objects.BpfObject`) and from the macros the preprocessor saw.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kptrdoc import toolchain
from kptrdoc.btf.cformat import CRenderOptions, render_c
from kptrdoc.btf.types import Datasec, Var, VarLinkage
from kptrdoc.compile import compile_flags, compile_main
from kptrdoc.errors import KptrdocError
from kptrdoc.expectations import RUN_VALUES, Expectation, ValueSpec, literal_value
from kptrdoc.facts import libbpf_since, release_tuple
from kptrdoc.loader import PACKET_PROGRAMS, trigger_values
from kptrdoc.macro_uses import scan_macros
from kptrdoc.objects import BpfObject, load_object
from kptrdoc.project.listing import UserListing, user_listing
from kptrdoc.project.userspace import defined_names
from kptrdoc.variants import main_variant

LOADER_API: dict[str, tuple[str, str]] = {
    "base": ("0.8.0", "the loader's calls, of which bpf_program__attach_usdt() and the "
                      "func_name of struct bpf_uprobe_opts are the newest (libbpf 0.8.0)"),
    "streams": ("1.6.0", "the loader's bpf_prog_stream_read(), which reads the program's "
                         "BPF streams (libbpf 1.6.0: LIBBPF_1.6.0 in libbpf.map)"),
}  # fmt: skip
"""The libbpf release the generated loader itself needs, by what it does."""

BPFTOOL_READS: dict[str, tuple[str, str]] = {
    "__ulong": ("1.4.0", "__ulong map attributes, which libbpf reads since 385d344839d9 "
                         '"libbpf: Allow specifying 64-bit integers in map BTF." (v1.4.0)'),
    "BPF_MAP_TYPE_ARENA": ("1.4.0", "an arena map's .addr_space.1 section, which libbpf "
                                    "reads since 137193b6 (v1.4.0)"),
}  # fmt: skip
"""What in an object only a newer libbpf can open, by the macro or map type that puts it
there: ``bpftool gen skeleton`` opens the object with bpftool's own libbpf."""

STREAM_KFUNCS = ("bpf_stream_vprintk", "bpf_stream_vprintk_impl")
"""A program that calls one of these writes to its BPF streams: the loader reads them."""


class ProjectError(KptrdocError):
    """A sample folder cannot become a download: names the folder or file and why."""


@dataclass(frozen=True, slots=True)
class GlobalValue:
    """One ``__run_set`` or ``__run_check``: a global of the object and the value."""

    variable: str
    written: str
    """The value as the annotation writes it (``"tgid"``, ``"0x2a"``)."""
    value: str
    """As C: ``v.tgid``, ``v.arg[2]``, ``42LL``."""
    member: str
    """The global through the skeleton: ``skel->bss->seen``."""


@dataclass(frozen=True, slots=True)
class Printed:
    """One ``__run_printed``: the text, as a C format with the run values that fill it."""

    template: str
    fmt: str
    """A C string literal (quotes included) for ``snprintf``."""
    args: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RunPlan:
    """One program the loader runs."""

    program: str
    section: str
    description: str
    trigger: str
    packet: bool
    """``test_run`` gives it the test packet."""
    retprobe: bool
    inputs: tuple[GlobalValue, ...]
    checks: tuple[GlobalValue, ...]
    printed: tuple[Printed, ...]


@dataclass(frozen=True, slots=True)
class ExampleFile:
    """One ``*.bpf.c`` of the download, with the loader that runs its programs."""

    source: Path
    listing: UserListing
    cflags: tuple[str, ...]
    """Flags of its build beyond the Makefile's (``-mcpu=v4``)."""
    programs: tuple[str, ...]
    """Every program of the object (the loader turns off the ones it is not running)."""
    runs: tuple[RunPlan, ...]
    streams: bool
    """Its programs write to their BPF streams."""
    macros: tuple[str, ...]
    """The libbpf macros it expands, in source order (what sets the libbpf release)."""
    map_types: tuple[str, ...]
    """The types of its maps (``BPF_MAP_TYPE_ARENA``)."""
    pins: bool
    """A map of it is pinned by name (``LIBBPF_PIN_BY_NAME``: under /sys/fs/bpf)."""
    types_c: str
    """C definitions of the types its global variables use (the skeleton names them)."""

    @property
    def stem(self) -> str:
        """``kptr`` for ``kptr.bpf.c``: the loader's name."""
        return self.source.name.removesuffix(".bpf.c")

    @property
    def skeleton(self) -> str:
        """The name ``bpftool gen skeleton`` gives the object (``kptr_bpf``)."""
        return re.sub(r"\W", "_", self.source.name.removesuffix(".c"))


@dataclass(frozen=True, slots=True)
class LibbpfNeed:
    """The oldest libbpf release the download builds with, and why."""

    release: str
    reasons: tuple[str, ...]
    """``"BPF_CORE_READ (libbpf 0.0.6)"``, the loader's needs, ..., newest first."""


@dataclass(frozen=True, slots=True)
class Project:
    """A page's download."""

    name: str
    """The sample folder, e.g. ``__kptr``."""
    macro: str
    files: tuple[ExampleFile, ...]
    libbpf: LibbpfNeed
    bpftool: LibbpfNeed | None
    """The libbpf that bpftool must be built with to open the objects; ``None``: any."""

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.trigger for f in self.files for r in f.runs))

    @property
    def usdt(self) -> bool:
        return "usdt" in self.triggers


def example_sources(folder: Path) -> list[Path]:
    """The folder's ``*.bpf.c`` that are examples (not ``mistakes*.bpf.c``) and load here."""
    arch = toolchain.target_arch()
    return [
        p for p in sorted(folder.glob("*.bpf.c"))
        if not p.name.startswith("mistakes") and main_variant(p, arch) is not None
    ]  # fmt: skip


def project(folder: Path, macro: str) -> Project | None:
    """The download of ``folder``; ``None`` when no example there asks to be run."""
    files = []
    arch = toolchain.target_arch()
    for src in example_sources(folder):
        variant = main_variant(src, arch)
        assert variant is not None
        try:
            obj = load_object(compile_main(src).path)
        except KptrdocError as exc:
            raise ProjectError(f"{src}: {exc}") from None
        runs = tuple(_run_plan(src, obj, p.name) for p in obj.programs if _runs(p.expect))
        if not runs:
            continue
        flags = compile_flags(src, variant)
        extra = tuple(f for f in flags if f.startswith("-mcpu="))
        streams = any(e.name in STREAM_KFUNCS for e in obj.externs)
        files.append(
            ExampleFile(src, user_listing(src, flags), extra,
                        tuple(p.name for p in obj.programs), runs, streams,
                        _libbpf_macros(src, flags), tuple(m.type for m in obj.maps),
                        any(m.pinning for m in obj.maps),
                        _global_types(obj))
        )  # fmt: skip
    if not files:
        return None
    return Project(folder.name, macro, tuple(files), _libbpf_need(files), _bpftool_need(files))


def _runs(expect: Expectation) -> bool:
    """A ``__success`` program that asks to be run: what the loader runs."""
    return expect.verdict == "success" and bool(expect.runs)


def _run_plan(src: Path, obj: BpfObject, name: str) -> RunPlan:
    program = obj.program(name)
    expect = program.expect
    trigger = expect.runs[0]
    before, after = trigger_values(trigger)
    known = set(before) | set(after)
    where = f"{src.name}: {name}"

    def value(spec: ValueSpec, macro: str) -> GlobalValue:
        var = next((v for v in obj.globals if v.name == spec.variable), None)
        writable = var is not None and (var.section in (".bss", ".data")
                                        or var.section.startswith(".data."))  # fmt: skip
        if var is None or not writable:
            raise ProjectError(f"{where}: {spec.describe(macro)}: no global in .bss or .data")
        if var.linkage != "global":
            raise ProjectError(
                f"{where}: {spec.describe(macro)}: a {var.linkage} variable, which the "
                "skeleton has no member for: make it a global"
            )
        return GlobalValue(spec.variable, spec.value, _c_value(spec.value, known, where),
                           f"skel->{_datasec_member(var.section)}->{var.name}")  # fmt: skip

    printed = tuple(_printed(t, known, where) for t in expect.printed)
    return RunPlan(
        name, program.section, expect.description, trigger,
        packet=trigger == "test_run" and program.prog_type in PACKET_PROGRAMS,
        retprobe=program.section.startswith("uretprobe"),
        inputs=tuple(value(s, "__run_set") for s in expect.inputs),
        checks=tuple(value(s, "__run_check") for s in expect.checks),
        printed=printed,
    )  # fmt: skip


def _datasec_member(section: str) -> str:
    """The skeleton's member for a data section: ``.bss`` -> ``bss``, ``.data.x`` ->
    ``data_x`` (bpftool sanitizes the name as an identifier)."""
    return re.sub(r"\W", "_", section.lstrip("."))


def _c_value(written: str, known: set[str], where: str) -> str:
    literal = literal_value(written)
    if literal is not None:
        return f"(long long){literal}ULL" if literal > (1 << 63) - 1 else f"{literal}LL"
    if written not in RUN_VALUES or written not in known:
        raise ProjectError(f"{where}: value {written!r} is not one the trigger records")
    if written.startswith("arg"):
        return f"v.arg[{written[3:]}]"
    return f"v.{written}"


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _printed(template: str, known: set[str], where: str) -> Printed:
    args = []
    parts = []
    last = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(template[last : match.start()].replace("%", "%%"))
        parts.append("%lld")
        args.append(_c_value(match.group(1), known, where))
        last = match.end()
    parts.append(template[last:].replace("%", "%%"))
    return Printed(template, c_string("".join(parts)), tuple(args))


def c_string(text: str) -> str:
    """``text`` as a C string literal."""
    out = []
    for char in text:
        if char in '\\"':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\{ord(char):03o}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _global_types(obj: BpfObject) -> str:
    """The C definitions the skeleton's data sections need: the types of the variables
    of every ``DATASEC`` of the object's BTF (``.bss``, ``.data``, ``.rodata``, an arena's
    ``.addr_space.1``, ...; not ``.maps``) but the static ones, and what those hold by
    value."""
    spec = obj.btf
    if spec is None:
        return ""
    ids = []
    for tid in range(spec.first_id, spec.type_count):
        section = spec.type(tid)
        if not isinstance(section, Datasec) or section.name == ".maps":
            continue  # map definitions are no variables of the skeleton
        for info in section.vars:
            var = spec.type(info.type)
            if isinstance(var, Var) and var.linkage != VarLinkage.STATIC:
                ids.append(var.type)
    if not ids:
        return ""
    known = defined_names(toolchain.libbpf().include_dir)
    text = render_c(spec, ids, CRenderOptions(header_guard=False, assume_defined=known))
    return text.strip()


def _libbpf_macros(src: Path, flags: Sequence[str]) -> tuple[str, ...]:
    """The macros of libbpf's headers that ``src`` expands (the preprocessing record)."""
    include = toolchain.libbpf().include_dir.resolve()
    names = (
        u.name for u in scan_macros(src, flags).uses
        if u.defined_in is not None and include in u.defined_in.resolve().parents
    )  # fmt: skip
    return tuple(dict.fromkeys(names))


def _libbpf_need(files: Sequence[ExampleFile]) -> LibbpfNeed:
    """The newest of: each libbpf macro the examples expand (its first release, from the
    dated history :func:`kptrdoc.facts.libbpf_since`) and what the loader calls."""
    needs: dict[str, tuple[tuple[int, ...], str]] = {}
    for name in dict.fromkeys(m for f in files for m in f.macros):
        fact = libbpf_since(name)
        if fact is not None:
            needs[name] = (_version(fact.since), f"{name} (libbpf {fact.since.lstrip('v')})")
    release, why = LOADER_API["streams" if any(f.streams for f in files) else "base"]
    needs["(loader)"] = (_version(release), why)
    ordered = sorted(needs.values(), key=lambda n: n[0], reverse=True)
    top = ordered[0][0]
    return LibbpfNeed(".".join(map(str, top)), tuple(text for v, text in ordered if v == top))


def _bpftool_need(files: Sequence[ExampleFile]) -> LibbpfNeed | None:
    found = {
        BPFTOOL_READS[name]
        for f in files
        for name in (*f.macros, *f.map_types)
        if name in BPFTOOL_READS
    }
    if not found:
        return None
    top = max(_version(release) for release, _ in found)
    reasons = tuple(sorted(why for release, why in found if _version(release) == top))
    return LibbpfNeed(".".join(map(str, top)), reasons)


def _version(text: str) -> tuple[int, ...]:
    """``v1.6.0`` or ``1.6.0`` -> ``(1, 6, 0)``."""
    return release_tuple(text.lstrip("v"))
