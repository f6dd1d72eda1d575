"""Collect: gather the evidence of one macro's page into a :class:`MacroPage`.

The inputs are the other parts of kptrdoc, used exactly as the sample
harness uses them:

- :mod:`kptrdoc.headers` for the definition and its history;
- :func:`kptrdoc.compile.compile_sample` (the shared object cache);
- :func:`kptrdoc.btf.load_object_btf` for the BTF chains of the macro's tag;
- :mod:`kptrdoc.objects` for maps, layouts, expectations and externs;
- :func:`kptrdoc.loader.list_programs` / :func:`kptrdoc.loader.load_program`
  for the running kernel's verdict.

Nothing here renders: the templates do.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import os
import pickle
import platform
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kptrdoc import headers, toolchain
from kptrdoc.errors import KptrdocError
from kptrdoc.handler import svg
from kptrdoc.handler.model import (
    ChainStep,
    DefinitionView,
    ExternView,
    FieldRow,
    HistoryRow,
    KernelCell,
    KernelColumn,
    KernelMatrix,
    KernelRow,
    MacroPage,
    MapView,
    ProgramView,
    Provenance,
    RelatedLink,
    SampleView,
    TagUse,
    VerifierRun,
)
from kptrdoc.handler.readme import read_readme

KPTR_TAGS = frozenset({"kptr", "kptr_ref", "kptr_untrusted", "percpu_kptr", "uptr"})


class CollectError(KptrdocError):
    """The page cannot be built: a sample folder, README or sample is broken."""


@dataclass
class CollectOptions:
    """What to collect (the handler maps its options onto this)."""

    samples_dir: Path
    load: bool = True
    """Load the programs into the running kernel (off: no verifier section data)."""
    history: bool = True
    check_since: bool = True
    matrix: bool = True
    """Show what ``make matrix`` recorded for the samples (read only, nothing is booted)."""


# --------------------------------------------------------------------------
# Definition and history
# --------------------------------------------------------------------------


def _definition(name: str) -> tuple[DefinitionView | None, str]:
    try:
        pinned = toolchain.libbpf()
        found = headers.find_definitions(name, pinned.include_dir, pinned.version)
    except KptrdocError as exc:
        return None, str(exc)
    if not found:
        return None, f"{name} is not defined in the headers of libbpf {pinned.version}"
    first = found[0]
    view = DefinitionView(
        name=first.name,
        kind=first.kind,
        header=first.header,
        line=first.line,
        end_line=first.end_line,
        text=first.text,
        comment=first.comment,
        version=first.version,
        siblings=list(first.siblings),
        conditional_count=len(found),
        comment_line=first.comment_line,
    )
    return view, ""


def _history(hist: headers.History) -> list[HistoryRow]:
    return [
        HistoryRow(
            version=e.version,
            source=e.source,
            status=e.status,
            location=e.location,
            text=e.text,
            line=e.definitions[0].line if e.definitions else 0,
            count=len(e.definitions),
            siblings=list(e.siblings),
            siblings_added=list(e.siblings_added),
            siblings_removed=list(e.siblings_removed),
            family=list(e.family),
            block=_short_block(e.definitions),
            block_line=e.definitions[0].block_line if e.definitions else 0,
        )
        for e in hist.entries
    ]


MAX_BLOCK_LINES = 40


def _short_block(definitions: tuple[headers.Definition, ...]) -> str:
    """The block around the first definition, unless it is too long to be a useful context."""
    if not definitions or not definitions[0].block:
        return ""
    block = definitions[0].block
    return block if block.count("\n") < MAX_BLOCK_LINES else ""


def definition_tags(text: str) -> tuple[list[str], list[str]]:
    """The ``btf_type_tag`` and ``btf_decl_tag`` values a definition's text adds."""
    types = re.findall(r'btf_type_tag\(\s*"([^"]+)"\s*\)', text)
    decls = re.findall(r'btf_decl_tag\(\s*"([^"]+)"\s*\)', text)
    return types, decls


# --------------------------------------------------------------------------
# Sources: lines using the macro, program functions
# --------------------------------------------------------------------------


def usage_names(name: str, definition: DefinitionView | None) -> list[str]:
    """What a sample writes when it uses ``name``: the name, and for an enum its values."""
    names = [name.split()[-1]]
    if definition is not None and definition.kind == "enum" and "{" in definition.text:
        body = definition.text.split("{", 1)[1]
        body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
        names += re.findall(r"^\s*([A-Za-z_]\w*)\s*(?:=[^,]*)?,?", body, re.M)
    return names


def macro_lines(source: str, name: str | list[str]) -> list[int]:
    """1-based lines of ``source`` that use ``name`` (or any of the names) in code.

    Comments and string literals do not count.
    """
    names = [name] if isinstance(name, str) else name
    alternatives = "|".join(re.escape(n.split()[-1]) for n in names)
    pattern = re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])")
    found = []
    in_comment = False
    for number, line in enumerate(source.splitlines(), start=1):
        code = line
        if in_comment:
            if "*/" not in code:
                continue
            code = code.split("*/", 1)[1]
            in_comment = False
        code = re.sub(r"/\*.*?\*/", "", code)
        if "/*" in code:
            code, in_comment = code.split("/*", 1)[0], True
        code = code.split("//", 1)[0]
        code = re.sub(r'"(?:\\.|[^"\\])*"', '""', code)
        if pattern.search(code):
            found.append(number)
    return found


def function_source(source: str, program: str) -> tuple[str, int]:
    """The program's text from its ``SEC(...)`` line to its closing brace, and its first line."""
    lines = source.splitlines()
    name = re.compile(rf"(?<![\w]){re.escape(program)}\s*[,(]")
    for index, line in enumerate(lines):
        if not name.search(line) or line.lstrip().startswith(("//", "/*", "*")):
            continue
        start = index
        while (
            start > 0
            and lines[start - 1].strip()
            and not lines[start - 1].rstrip().endswith(("}", ";"))
        ):
            start -= 1
            if lines[start].lstrip().startswith("SEC("):
                break
        depth, opened = 0, False
        for end in range(index, len(lines)):
            depth += lines[end].count("{") - lines[end].count("}")
            opened = opened or "{" in lines[end]
            if opened and depth <= 0:
                return "\n".join(lines[start : end + 1]), start + 1
    return "", 1


def _log_source_line(log: str, sample_name: str) -> int | None:
    """The last source line the verifier annotated (``; ... @ file.c:NN``) before it stopped."""
    found = re.findall(rf"@ {re.escape(sample_name)}:(\d+)", log)
    return int(found[-1]) if found else None


def log_lines_with(log: str, msgs: list[str]) -> list[str]:
    """The verifier log's lines containing each expected message, in order."""
    lines = log.splitlines()
    out = []
    for msg in msgs:
        hit = next((ln for ln in lines if msg in ln), None)
        if hit is not None and hit not in out:
            out.append(hit)
    return out


# --------------------------------------------------------------------------
# Objects: BTF chains, maps, externs, expectations
# --------------------------------------------------------------------------


def _tag_uses(spec: Any, tags: list[str], sample: str) -> list[TagUse]:
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


def _map_member_uses(spec: Any, members: list[str], sample: str) -> list[TagUse]:
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


def _decl_tag_uses(spec: Any, tags: list[str], sample: str) -> list[TagUse]:
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


def _object_model_loader() -> Callable[[Path], Any] | None:
    """The object model's entry point (:func:`kptrdoc.objects.load_object`)."""
    try:
        from kptrdoc.objects import load_object
    except ImportError:
        return None
    return load_object


@functools.lru_cache(maxsize=1)
def _map_flag_bits() -> tuple[tuple[str, int], ...]:
    """The kernel's map flags (the enum holding ``BPF_F_NO_PREALLOC``), from its ``vmlinux.h``."""
    try:
        text = toolchain.vmlinux_h().read_text(errors="replace")
    except (KptrdocError, OSError):
        return ()
    for body in re.findall(r"enum \{(.*?)\};", text, re.S):
        if "BPF_F_NO_PREALLOC" in body:
            return tuple((n, int(v)) for n, v in re.findall(r"\b(BPF_F_\w+) = (\d+)", body))
    return ()


def flag_names(flags: int) -> list[str]:
    """``BPF_F_*`` names of the bits of ``flags`` (a bit the kernel does not name: as hex)."""
    names, left = [], flags
    for name, bit in _map_flag_bits():
        if bit and flags & bit == bit:
            names.append(name)
            left &= ~bit
    if left:
        names.append(hex(left))
    return names


def _holes(rows: list[FieldRow], size: int) -> list[tuple[int, int]]:
    holes, cursor = [], 0
    for row in sorted(rows, key=lambda r: r.offset):
        if row.offset > cursor:
            holes.append((cursor, row.offset - cursor))
        cursor = max(cursor, row.offset + row.size)
    if size > cursor:
        holes.append((cursor, size - cursor))
    return holes


def _record_holes(layout: Any) -> list[tuple[int, int]]:
    """Holes between members and the padding after the last one, as (offset, size)."""
    holes = [(h.offset, h.size) for h in layout.holes]
    if layout.padding:
        holes.append((layout.size - layout.padding, layout.padding))
    return holes


def _field_rows(layout: Any) -> list[FieldRow]:
    specials = {s.path: s.kind for s in getattr(layout, "special", ())}
    rows = []
    for f in layout.fields:
        rows.append(
            FieldRow(
                offset=f.offset,
                size=f.size,
                name=f.name,
                type=f.type,
                special=f.special or specials.get(f.name),
                bitfield=f.bitfield,
            )
        )
    return rows


def _map_view(m: Any, sample: str, uid: str) -> MapView:
    value = m.value
    fields = _field_rows(value) if value is not None and value.is_record else []
    size = value.size if value is not None else m.value_size
    view = MapView(
        name=m.name,
        type=m.type,
        key_size=m.key_size,
        value_size=m.value_size,
        max_entries=m.max_entries,
        flags=m.flags,
        key_type=m.key.type if m.key is not None else "",
        value_type=value.type if value is not None else "",
        pinning=m.pinning,
        flag_names=flag_names(m.flags),
        fields=fields,
        holes=_record_holes(value) if fields else [],
        sample=sample,
    )
    if fields:
        diagram = [svg.DiagramField(f.offset, f.size, f.name, f.special) for f in fields]
        title = f"{view.value_type or m.name}: {size} bytes"
        view.svg = svg.byte_diagram(diagram, size, title=title, uid=uid)
    return view


def _globals_view(section: Any, sample: str, uid: str) -> MapView | None:
    """A data section libbpf turns into an internal array map, its variables as the record."""
    if not section.map_name or not section.variables or section.value_size is None:
        return None
    rows = []
    for var in section.variables:
        special = None
        layout = var.layout
        if layout is not None:
            special = next((s.kind for s in layout.special if s.path in ("", var.name)), None)
        rows.append(FieldRow(var.offset, var.size, var.name, var.type, special))
    view = MapView(
        name=section.name,
        type="BPF_MAP_TYPE_ARRAY",
        key_size=4,
        value_size=section.value_size,
        max_entries=1,
        flags=section.flags,
        value_type=section.name,
        fields=rows,
        holes=_holes(rows, section.value_size),
        flag_names=flag_names(section.flags),
        sample=sample,
        kind="global",
    )
    diagram = [svg.DiagramField(f.offset, f.size, f.name, f.special) for f in rows]
    view.svg = svg.byte_diagram(diagram, section.value_size, title=section.name, uid=uid)
    return view


def _expectations_from_btf(spec: Any) -> dict[str, dict]:
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


def _externs_from_btf(spec: Any, source: str) -> list[tuple[str, str]]:
    """Extern functions (kfuncs) of the object, with their declaration from the source."""
    from kptrdoc.btf import Func, FuncLinkage

    found = []
    for t in spec:
        if isinstance(t, Func) and t.linkage == FuncLinkage.EXTERN:
            decl = re.search(rf"^\s*extern\b[^;]*\b{re.escape(t.name)}\s*\([^;]*;", source, re.M)
            found.append((t.name, " ".join(decl.group(0).split()) if decl else t.name + "(...)"))
    return found


def _add_extern(page: MacroPage, ext: ExternView, sample: str) -> None:
    known = next((e for e in page.externs if e.name == ext.name), None)
    if known is None:
        page.externs.append(ext)
    elif sample not in known.samples:
        known.samples.append(sample)


def _msgs_in_order(msgs: list[str], log: str) -> list[str]:
    """Expected messages not found in order in ``log`` (empty: all found)."""
    missing, pos = [], 0
    for msg in msgs:
        at = log.find(msg, pos)
        if at < 0:
            missing.append(msg)
        else:
            pos = at + len(msg)
    return missing


# --------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------

CACHE_VERSION = "1"


@dataclass
class SampleEvidence:
    """Everything one sample contributes to its page (what the on-disk cache holds)."""

    view: SampleView
    tag_uses: list[TagUse]
    maps: list[MapView]
    externs: list[ExternView]
    problems: list[str]
    collected_at: str
    object_path: str = ""


def _code_fingerprint() -> str:
    """A digest of kptrdoc's own code: cached evidence is only reused by the same code."""
    digest = hashlib.sha256(CACHE_VERSION.encode())
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


_FINGERPRINT: list[str] = []


def _cache_path(obj_key: str, macro: str, tags: tuple[list[str], list[str]], load: bool) -> Path:
    if not _FINGERPRINT:
        _FINGERPRINT.append(_code_fingerprint())
    uname = os.uname()
    try:
        libbpf_version = toolchain.libbpf().version
    except KptrdocError:
        libbpf_version = "?"
    parts = [obj_key, macro, repr(tags), str(load), uname.release, uname.version,
             libbpf_version, _FINGERPRINT[0]]  # fmt: skip
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return toolchain.cache_dir() / "site" / f"{key}.pickle"


def _cache_enabled() -> bool:
    return os.environ.get("KPTRDOC_SITE_CACHE", "1") not in ("0", "no", "false")


def _read_cache(path: Path) -> SampleEvidence | None:
    try:
        with path.open("rb") as handle:
            found = pickle.load(handle)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError):
        return None
    return found if isinstance(found, SampleEvidence) else None


def _write_cache(path: Path, evidence: SampleEvidence) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        pickle.dump(evidence, handle)
    os.replace(tmp, path)


def _object_spec(obj_path: Path) -> Any:
    """The object's ``.BTF`` parsed by kptrdoc's BTF reader (only that section is read)."""
    from elftools.elf.elffile import ELFFile

    from kptrdoc.btf import parse_btf

    with obj_path.open("rb") as handle:
        section = ELFFile(handle).get_section_by_name(".BTF")
        if section is None:
            raise CollectError(f"{obj_path}: no .BTF section (compile with -g)")
        return parse_btf(section.data())


def sample_evidence(
    path: Path,
    macro: str,
    opts: CollectOptions,
    tags: tuple[list[str], list[str]],
    names: list[str] | None = None,
) -> SampleEvidence:
    """Compile, inspect and load one sample (or reuse what the cache has for the same inputs)."""
    from kptrdoc.compile import compile_sample

    try:
        obj = compile_sample(path)
    except KptrdocError as exc:
        raise CollectError(str(exc)) from None
    names = names or [macro]
    cache = _cache_path(obj.key, repr(names), tags, opts.load) if _cache_enabled() else None
    if cache is not None:
        found = _read_cache(cache)
        if found is not None and found.view.source == path.read_text(errors="replace"):
            return found
    evidence = _collect_sample(path, obj, names, opts, tags)
    if cache is not None and not evidence.problems:
        _write_cache(cache, evidence)
    return evidence


def _collect_sample(
    path: Path, obj: Any, names: list[str], opts: CollectOptions, tags: tuple[list[str], list[str]]
) -> SampleEvidence:
    from kptrdoc.loader import list_programs, load_program, run_triggers

    source = path.read_text(encoding="utf-8", errors="replace")
    rel = f"{path.parent.name}/{path.name}"
    view = SampleView(name=path.name, path=rel, source=source, hl_lines=macro_lines(source, names))
    evidence = SampleEvidence(
        view, [], [], [], [], _now().strftime("%Y-%m-%d %H:%M UTC"), str(obj.path)
    )
    clang = obj.clang_version
    spec = _object_spec(obj.path)
    type_tags, decl_tags = tags
    if type_tags:
        evidence.tag_uses += _tag_uses(spec, type_tags, path.name)
    if decl_tags:
        evidence.tag_uses += _decl_tag_uses(spec, decl_tags, path.name)
    if not type_tags and not decl_tags:
        members = member_names_used(source, names[0])
        if members:
            evidence.tag_uses += _map_member_uses(spec, members, path.name)

    model_loader = _object_model_loader()
    model = None
    if model_loader is not None:
        try:
            model = model_loader(obj.path)
        except KptrdocError as exc:
            evidence.problems.append(f"{rel}: the object model could not read it: {exc}")
    else:
        evidence.problems.append(
            "the object model (kptrdoc.objects) is not available: no map layouts"
        )
    if model is None:
        for name, signature in _externs_from_btf(spec, source):
            evidence.externs.append(ExternView(name, "kfunc", signature, [path.name]))
    else:
        for m in model.maps:
            uid = re.sub(r"\W", "-", f"{path.stem}-{m.name}")
            evidence.maps.append(_map_view(m, path.name, uid))
        for section in model.data_sections:
            uid = re.sub(r"\W", "-", f"{path.stem}-{section.name}")
            data_map = _globals_view(section, path.name, uid)
            if data_map is not None:
                evidence.maps.append(data_map)
        for ext in model.externs:
            evidence.externs.append(ExternView(ext.name, ext.kind, ext.signature, [path.name]))

    expectations = _expectations_from_btf(spec)
    if model is not None:
        for prog in model.programs:
            e = prog.expect
            expectations[prog.name] = {
                "verdict": e.verdict or "",
                "msgs": list(e.msgs),
                "description": e.description or "",
                "runs": list(e.runs),
            }
    for info in list_programs(obj.path):
        expect = expectations.get(
            info.name, {"verdict": "", "msgs": [], "description": "", "runs": []}
        )
        trigger = next((r for r in expect.get("runs", []) if r in run_triggers()), None)
        if expect["verdict"] != "success":
            trigger = None
        text, first = function_source(source, info.name)
        prog = ProgramView(
            name=info.name,
            section=info.section,
            sample=path.name,
            expect=expect["verdict"],
            description=expect["description"],
            msgs=list(expect["msgs"]),
            source=text,
            first_line=first,
        )
        if opts.load:
            try:
                result = load_program(obj.path, info.name, run=trigger)
            except KptrdocError as exc:
                evidence.problems.append(f"{rel}: {info.name} was not loaded: {exc}")
                result = None
            if result is not None:
                prog.verifier = _verifier(result, clang, prog)
                if prog.expect == "failure" and text:
                    line = _log_source_line(result.log, path.name)
                    if line is not None and first <= line < first + len(text.splitlines()):
                        prog.hl_lines = [line - first + 1]
        if prog.expect == "success" and text:
            count = len(text.splitlines())
            prog.hl_lines = [n - first + 1 for n in view.hl_lines if first <= n < first + count]
        view.programs.append(prog)
    return evidence


def _now() -> _dt.datetime:
    date = os.environ.get("SOURCE_DATE_EPOCH")
    if date and date.isdigit():
        return _dt.datetime.fromtimestamp(int(date), _dt.UTC)
    return _dt.datetime.now(_dt.UTC)


def _verifier(result: Any, clang: str, prog: ProgramView) -> VerifierRun:
    expected = {"success": "loaded", "failure": "rejected"}.get(prog.expect)
    missing = _msgs_in_order(prog.msgs, result.log) if prog.expect == "failure" else []
    run = getattr(result, "run", None)
    return VerifierRun(
        verdict=result.verdict,
        kernel_release=result.kernel_release,
        libbpf_version=result.libbpf_version,
        clang_version=clang,
        insns_processed=result.insns_processed,
        log=result.log,
        reason=result.reason,
        matches_expectation=(expected is None or result.verdict == expected)
        and not missing
        and (run is None or run.ran),
        missing_msgs=missing,
        run_trigger=run.trigger if run is not None else "",
        run_counts=(run.run_cnt_before, run.run_cnt_after) if run is not None else None,
        run_error=run.error if run is not None else "",
    )


def _helper_declared(name: str) -> bool:
    """Whether the pinned libbpf's ``bpf_helper_defs.h`` declares ``name`` as a BPF helper."""
    try:
        text = (toolchain.libbpf().include_dir / "bpf" / "bpf_helper_defs.h").read_text()
    except (KptrdocError, OSError):
        return False
    return re.search(rf"\(\s*\*\s*const\s+{re.escape(name)}\s*\)", text) is not None


def _related(names: list[str], samples_dir: Path, identifier: str) -> list[RelatedLink]:
    links = []
    for name in names:
        has_page = (samples_dir / name / "README.md").is_file()
        try:
            defined = headers.is_defined(name)
        except KptrdocError:
            defined = False
        note = ""
        if not defined:
            note = (
                "a BPF helper, declared in bpf_helper_defs.h"
                if _helper_declared(name)
                else "not defined in libbpf's eBPF-side headers"
            )
        elif not has_page:
            note = "no page yet"
        url = f"../{name}/" if has_page and name != identifier else None
        links.append(RelatedLink(name, url, defined, note))
    return links


def _matrix(macro: str, objects: dict[Path, str], page: MacroPage) -> KernelMatrix | None:
    """The matrix facts recorded for the page's objects (``kptrdoc.matrix.page_facts``)."""
    try:
        from kptrdoc.matrix import page_facts

        facts = page_facts(macro, list(objects), objects)
    except ImportError:
        return None
    except KptrdocError as exc:
        page.problems.append(f"kernel matrix: {exc}")
        return None
    matrix = KernelMatrix(
        statement=str(facts.get("statement", "")),
        minimum=facts.get("minimum"),
        kernels=[
            KernelColumn(str(k["id"]), str(k.get("label") or k.get("name")), str(k.get("release")))
            for k in facts.get("kernels", [])
        ],
        missing=[str(m) for m in facts.get("missing", [])],
        problems=[str(p) for p in facts.get("problems", [])],
    )
    for row in facts.get("rows", []):
        cells = {
            str(kid): KernelCell(
                verdict=str(c.get("verdict", "")),
                short=str(c.get("short", "")),
                reason=str(c.get("reason", "") or ""),
                kernel_release=str(c.get("kernel_release", "") or ""),
                status=str(c.get("status", "") or ""),
            )
            for kid, c in (row.get("cells") or {}).items()
        }
        matrix.rows.append(
            KernelRow(
                sample=str(row.get("source", "")),
                program=str(row.get("program", "")),
                expect=str(row.get("expect") or ""),
                cells=cells,
            )
        )
    return matrix


def provenance(clang: str = "", verified: str = "") -> Provenance:
    try:
        libbpf_version = toolchain.libbpf().version
    except KptrdocError:
        libbpf_version = "?"
    if not clang:
        try:
            clang = toolchain.clang_version()
        except KptrdocError:
            clang = "?"
    date = _now().strftime("%Y-%m-%d %H:%M UTC")
    return Provenance(
        date=date,
        kernel=os.uname().release,
        libbpf=libbpf_version,
        clang=clang,
        machine=platform.machine(),
        verified=verified or date,
    )


def collect_page(identifier: str, opts: CollectOptions) -> MacroPage:
    """The page model of the macro whose sample folder is ``samples_dir/identifier``."""
    folder = opts.samples_dir / identifier
    if not folder.is_dir():
        raise CollectError(f"{folder}: no such sample folder (the identifier names one)")
    front, _ = read_readme(folder)
    definition, problem = _definition(front.macro)
    page = MacroPage(identifier=identifier, front=front, definition=definition)
    if problem:
        page.problems.append(problem)
    if opts.history:
        try:
            hist = headers.history(front.macro)
        except KptrdocError as exc:
            page.problems.append(f"no history: {exc}")
        else:
            page.history = _history(hist)
            if opts.check_since and front.since:
                headers.check_since(front.macro, front.since, hist, folder / "README.md")
    tags = definition_tags(definition.text) if definition else ([], [])
    sources = sorted(folder.glob("*.bpf.c"))
    if not sources:
        raise CollectError(f"{folder}: no *.bpf.c sample in the folder")
    collected = []
    objects_seen: list[tuple[str, SampleView]] = []
    for path in sources:
        names = usage_names(front.macro, definition)
        evidence = sample_evidence(path, front.macro, opts, tags, names)
        objects_seen.append((evidence.object_path, evidence.view))
        page.samples.append(evidence.view)
        page.tag_uses += evidence.tag_uses
        page.maps += evidence.maps
        for ext in evidence.externs:
            _add_extern(page, ExternView(ext.name, ext.kind, ext.signature, [path.name]), path.name)
        page.problems += [p for p in evidence.problems if p not in page.problems]
        collected.append(evidence.collected_at)
    examples = {s.name for s in page.example_samples}
    page.tag_uses.sort(key=lambda u: u.sample not in examples)
    page.maps.sort(key=lambda m: m.sample not in examples)
    if opts.matrix:
        objects = {Path(e): f"{identifier}/{Path(v.path).name}" for e, v in objects_seen}
        page.matrix = _matrix(front.macro, objects, page)
    page.related = _related(front.related, opts.samples_dir, identifier)
    clang = next((p.verifier.clang_version for s in page.samples for p in s.programs
                  if p.verifier), "")  # fmt: skip
    page.provenance = provenance(clang, min(collected) if collected else "")
    return page
