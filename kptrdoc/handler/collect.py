"""Collect: gather the evidence of one macro's page into a :class:`MacroPage`.

The inputs are the other parts of kptrdoc, used exactly as the sample
harness uses them:

- :mod:`kptrdoc.headers` for the definition and its history;
- :func:`kptrdoc.compile.compile_sample` (the shared object cache);
- kptrdoc's BTF reader (:mod:`kptrdoc.handler.chains`) for the BTF chains;
- :mod:`kptrdoc.objects` for maps, layouts, expectations and externs;
- :func:`kptrdoc.loader.list_programs` / :func:`kptrdoc.loader.load_program`
  for the running kernel's verdict (and ``__run`` triggers);
- :func:`kptrdoc.matrix.page_facts` for what ``make matrix`` recorded on other kernels.

Nothing here renders: the templates do.
"""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
import os
import platform
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kptrdoc import debversion, headers, toolchain
from kptrdoc.errors import KptrdocError
from kptrdoc.expectations import Resolved, Status, check, msgs_missing, outcome
from kptrdoc.facts import libbpf_since
from kptrdoc.handler.cache import SampleEvidence, cache_enabled, cache_path, read_cache, write_cache
from kptrdoc.handler.chains import EmitPlan, definition_emits
from kptrdoc.handler.evidence import (
    ChainEvidence,
    KernelTarget,
    SampleContext,
    Usage,
    collect_evidence,
)
from kptrdoc.handler.layouts import globals_view, map_view
from kptrdoc.handler.model import (
    DefinitionView,
    ExternView,
    FrontMatter,
    HistoryRow,
    KernelCell,
    KernelColumn,
    KernelMatrix,
    KernelRow,
    MacroPage,
    OtherDefinition,
    ProgramView,
    Provenance,
    RelatedLink,
    SampleView,
    VerifierRun,
)
from kptrdoc.handler.readme import read_readme
from kptrdoc.handler.registers import register_macro
from kptrdoc.handler.sources import (
    function_source,
    log_source_line,
    macro_lines,
    usage_names,
)
from kptrdoc.kernel_range import host_version


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


def _definition(name: str, flags: list[str] | None = None) -> tuple[DefinitionView | None, str]:
    """The definition that applies to the samples' build (``flags``), by clang's
    preprocessor: the header's other ``#if`` branches are listed, with when each applies.
    Without flags (or for a name the preprocessor cannot place, such as an enum), the
    header's first definition."""
    try:
        pinned = toolchain.libbpf()
        found = headers.find_definitions(name, pinned.include_dir, pinned.version)
    except KptrdocError as exc:
        return None, str(exc)
    if not found:
        return None, f"{name} is not defined in the headers of libbpf {pinned.version}"
    applied = None
    if flags is not None:
        try:
            applied = headers.applicable_definition(name, flags)
        except KptrdocError:
            applied = None
    first = applied.definition if applied is not None and applied.definition else found[0]
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
    if applied is not None and applied.definition is not None:
        view.build = applied.build
        view.condition = applied.condition
        view.uses = list(applied.uses)
        view.others = [
            OtherDefinition(site.location, site.condition, site.definition.text.split("\n")[0])
            for site in applied.others
        ]
    return view, ""


def _build_flags(folder: Path) -> list[str] | None:
    """The flags of the page's example build: its first sample's first loadable variant."""
    from kptrdoc.compile import compile_flags
    from kptrdoc.variants import DEFAULT, main_variant

    for src in sorted(folder.glob("*.bpf.c")):
        try:
            variant = main_variant(src, toolchain.target_arch())
            if variant is not None:
                return compile_flags(src, variant)
        except KptrdocError:
            continue
    sources = sorted(folder.glob("*.bpf.c"))
    try:
        return compile_flags(sources[0], DEFAULT) if sources else None
    except KptrdocError:
        return None


def _history(hist: headers.History) -> list[HistoryRow]:
    rows = [
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
    for before, row in itertools.pairwise(rows):
        row.siblings_new = [
            n for n in row.siblings_added if _new_between(n, before.version, row.version)
        ]
    return rows


def _new_between(name: str, after: str, upto: str) -> bool:
    """Whether libbpf's history dates ``name`` after release ``after`` and up to ``upto``."""
    fact = libbpf_since(name)
    if fact is None:
        return False
    since = debversion.upstream_numbers(fact.since.lstrip("v"))
    return debversion.upstream_numbers(after) < since <= debversion.upstream_numbers(upto)


MAX_BLOCK_LINES = 40


def _short_block(definitions: tuple[headers.Definition, ...]) -> str:
    """The block around the first definition, unless it is too long to be a useful context."""
    if not definitions or not definitions[0].block:
        return ""
    block = definitions[0].block
    return block if block.count("\n") < MAX_BLOCK_LINES else ""


def _add_extern(page: MacroPage, ext: ExternView, sample: str) -> None:
    known = next((e for e in page.externs if e.name == ext.name), None)
    if known is None:
        page.externs.append(ext)
    elif sample not in known.samples:
        known.samples.append(sample)


def sample_evidence(
    path: Path,
    macro: str,
    opts: CollectOptions,
    plan: EmitPlan,
    names: list[str] | None = None,
) -> SampleEvidence:
    """Compile, inspect and load one sample (or reuse what the cache has for the same inputs)."""
    from kptrdoc.compile import compile_sample
    from kptrdoc.variants import main_variant

    names = names or [macro]
    try:
        variant = main_variant(path, toolchain.target_arch())
        if variant is None:  # only compiler errors (or other architectures): no object
            return _cached_unbuilt_sample(path, names, plan)
        obj = compile_sample(path, variant)
    except KptrdocError as exc:
        raise CollectError(str(exc)) from None
    context = RecordContext.for_folder(path.parent)
    key = repr(names) + repr(context)
    cache = cache_path(obj.key, key, plan, opts.load) if cache_enabled() else None
    if cache is not None:
        found = read_cache(cache)
        if found is not None and found.view.source == path.read_text(errors="replace"):
            return found
    evidence = _collect_sample(path, obj, names, opts, plan, context)
    if cache is not None and not evidence.problems:
        write_cache(cache, evidence)
    return evidence


def usage_lines(path: Path, names: list[str]) -> list[int]:
    """The lines the macro (or the names its definition uses) expands on, from libclang's
    preprocessing record (:mod:`kptrdoc.macro_uses`); nested uses included, uses in
    comments and strings not. Names that are not macros (enumerators such as
    ``LIBBPF_PIN_BY_NAME``) are found in the source text instead."""
    from kptrdoc.compile import compile_flags
    from kptrdoc.macro_uses import lines_of, scan_macros
    from kptrdoc.variants import DEFAULT, main_variant

    source = path.read_text(encoding="utf-8", errors="replace")
    try:
        variant = main_variant(path, toolchain.target_arch()) or DEFAULT
        found = lines_of(scan_macros(path, compile_flags(path, variant)).uses, names)
    except KptrdocError:
        found = set()
    return sorted(found) or macro_lines(source, names)


def _with_listing(view: SampleView, path: Path) -> SampleView:
    """``view`` with the sample as a user writes it (its ``listing``), when it can be made."""
    from kptrdoc.compile import compile_flags
    from kptrdoc.project.listing import user_listing
    from kptrdoc.variants import DEFAULT, main_variant

    try:
        variant = main_variant(path, toolchain.target_arch()) or DEFAULT
        listing = user_listing(path, compile_flags(path, variant))
    except KptrdocError:
        return view
    view.listing, view.listing_lines = listing.text, list(listing.lines)
    return view


def _cached_unbuilt_sample(path: Path, names: list[str], plan: EmitPlan) -> SampleEvidence:
    """:func:`_unbuilt_sample`, cached like compiled samples: keyed by the source and the
    headers clang read for its other builds (the compile cache's key of its default build
    would not exist: it does not compile)."""
    import hashlib

    if not cache_enabled():
        return _unbuilt_sample(path, names, plan)
    source = path.read_bytes()
    key = hashlib.sha256(source + str(path).encode()).hexdigest()
    cache = cache_path(key, repr(names), plan, False)
    found = read_cache(cache)
    if found is not None and found.view.source == source.decode(errors="replace"):
        return found
    evidence = _unbuilt_sample(path, names, plan)
    if not evidence.problems:
        write_cache(cache, evidence)
    return evidence


def _unbuilt_sample(path: Path, names: list[str], plan: EmitPlan) -> SampleEvidence:
    """A sample with no build this machine loads: its point is a compiler error."""
    source = path.read_text(encoding="utf-8", errors="replace")
    rel = f"{path.parent.name}/{path.name}"
    view = SampleView(name=path.name, path=rel, source=source, hl_lines=usage_lines(path, names))
    _with_listing(view, path)
    context = SampleContext(
        path=path, source=source, obj=None,
        usage=Usage(names[0], tuple(names), frozenset(view.hl_lines), plan),
    )  # fmt: skip
    found = collect_evidence(context)
    return SampleEvidence(
        view, [], [], [], list(context.problems), _now().strftime("%Y-%m-%d %H:%M UTC"), "",
        found,
    )  # fmt: skip


def _collect_sample(
    path: Path,
    obj: Any,
    names: list[str],
    opts: CollectOptions,
    plan: EmitPlan,
    context: RecordContext,
) -> SampleEvidence:
    from kptrdoc.loader import load_program
    from kptrdoc.objects import load_object

    source = path.read_text(encoding="utf-8", errors="replace")
    rel = f"{path.parent.name}/{path.name}"
    view = SampleView(name=path.name, path=rel, source=source, hl_lines=usage_lines(path, names))
    _with_listing(view, path)
    evidence = SampleEvidence(
        view, [], [], [], [], _now().strftime("%Y-%m-%d %H:%M UTC"), str(obj.path)
    )
    clang = obj.clang_version
    try:
        model = load_object(obj.path, strict=False)  # a mistake may be a map libbpf refuses
    except KptrdocError as exc:
        raise CollectError(f"{rel}: the object model could not read it: {exc}") from None
    evidence.problems += [f"{rel}: the object model could not read it: {p}" for p in model.problems]
    if model.btf is None or model.elf is None:
        raise CollectError(f"{rel}: the object has no .BTF (compile with -g)")
    sample_context = SampleContext(
        path=path,
        source=source,
        obj=model,
        usage=Usage(names[0], tuple(names), frozenset(view.hl_lines), plan),
        kernels=recorded_kernels(path.parent) if opts.load else (),
    )
    found = collect_evidence(sample_context)
    evidence.evidence += found
    evidence.tag_uses += [u for e in found if isinstance(e, ChainEvidence) for u in e.uses]
    evidence.problems += sample_context.problems
    for m in model.maps:
        uid = re.sub(r"\W", "-", f"{path.stem}-{m.name}")
        evidence.maps.append(map_view(m, path.name, uid))
    for section in model.data_sections:
        uid = re.sub(r"\W", "-", f"{path.stem}-{section.name}")
        data_map = globals_view(section, path.name, uid)
        if data_map is not None:
            evidence.maps.append(data_map)
    for ext in model.externs:
        evidence.externs.append(ExternView(ext.name, ext.kind, ext.signature, [path.name]))

    host = host_version()
    for info in model.programs:
        expect = info.expect
        resolved = expect.resolve(host) if not expect.problem() else None
        trigger = resolved.run if resolved else None
        text, first = function_source(source, info.name)
        prog = ProgramView(
            name=info.name,
            section=info.section,
            sample=path.name,
            expect=expect.verdict or "",
            description=expect.description,
            # the build machine's messages: its __msg_on, if a range holds it, else __msg
            msgs=list(resolved.msgs if resolved and resolved.msgs else expect.msgs),
            source=text,
            first_line=first,
            checks=[spec.describe("__run_check") for spec in expect.checks],
        )
        if opts.load:
            try:
                result = load_program(obj.path, info.name, run=trigger)
            except KptrdocError as exc:
                evidence.problems.append(f"{rel}: {info.name} was not loaded: {exc}")
                result = None
            if result is not None:
                prog.verifier = _verifier(result, clang, resolved, context)
                if prog.expect == "failure" and text:
                    line = log_source_line(result.log, path.name)
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


def _verifier(
    result: Any, clang: str, resolved: Resolved | None, context: RecordContext
) -> VerifierRun:
    """The host's run of one program, checked by the one rule (:func:`check`)."""
    run = getattr(result, "run", None)
    wrong = run.wrong if run else ""
    got = outcome(
        result.verdict, result.errno, run.error if run else "", run.ran if run else None, wrong
    )
    status = Status.NO_VERDICT
    detail = "the annotations cannot be checked"
    missing: list[str] = []
    if resolved is not None:
        checked = check(resolved, got, result.log, recorded=context.recorded_build,
                        below_floor=context.below_floor, wrong=wrong)  # fmt: skip
        status, detail = checked.status, checked.detail
        if resolved.verdict == "failure":
            first = msgs_missing(result.log, resolved.msgs)
            missing = [first] if first is not None else []
    return VerifierRun(
        verdict=result.verdict,
        kernel_release=result.kernel_release,
        libbpf_version=result.libbpf_version,
        clang_version=clang,
        insns_processed=result.insns_processed,
        log=result.log,
        reason=result.reason,
        outcome=got.value,
        status=status.value,
        status_detail=detail,
        matches_expectation=status in (Status.AS_EXPECTED, Status.DRIFT, Status.UNVERIFIED),
        missing_msgs=missing,
        run_trigger=run.trigger if run is not None else "",
        run_counts=(run.run_cnt_before, run.run_cnt_after) if run is not None else None,
        run_error=run.error if run is not None else "",
    )


@dataclass(frozen=True)
class RecordContext:
    """What the matrix record says about the build machine's kernel for one page."""

    recorded_build: bool = False
    """The host's kernel build (its BTF hash) is one the record measured."""
    below_floor: bool = False

    @classmethod
    def for_folder(cls, folder: Path) -> RecordContext:
        from kptrdoc.matrix.kernels import host_btf_sha256
        from kptrdoc.matrix.record import Record, find_record

        path = find_record(folder)
        if path is None:
            return cls()
        record = Record.load(path)
        pinned = _libbpf_version() == toolchain.PINNED_LIBBPF
        return cls(
            recorded_build=pinned and record.holds_build(host_btf_sha256()),
            below_floor=record.below_floor(record.key(folder), host_version()),
        )


def _kernel_with_build() -> str:
    """``6.18.44-fc-v1045, build 66cad55951da``: a release does not name its build."""
    from kptrdoc.matrix.kernels import host_btf_sha256

    build = host_btf_sha256()[:12]
    return f"{os.uname().release}, build {build}" if build else os.uname().release


def recorded_kernels(folder: Path) -> tuple[KernelTarget, ...]:
    """The kernels of the matrix record above ``folder``, each with its BTF file (from its
    Debian package, cached by hash); none without a record or with a kernel not at hand."""
    from kptrdoc.matrix.record import find_record

    path = find_record(folder)
    if path is None:
        return ()
    stat = path.stat()
    return _recorded_kernels(path, stat.st_size, stat.st_mtime_ns)


@functools.cache
def _recorded_kernels(path: Path, size: int, mtime_ns: int) -> tuple[KernelTarget, ...]:
    from kptrdoc.matrix.kernels import btf_file, fetch
    from kptrdoc.matrix.record import Record

    out = []
    for kernel in sorted(Record.load(path).kernels, key=lambda k: k.upstream):
        try:
            out.append(KernelTarget(kernel.label, btf_file(fetch(kernel.suite, kernel.packages))))
        except KptrdocError:
            continue
    return tuple(out)


def _libbpf_version() -> str:
    try:
        return toolchain.libbpf().version
    except KptrdocError:
        return ""


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


def _matrix(
    macro: str, objects: dict[Path, str], page: MacroPage, folder: Path
) -> KernelMatrix | None:
    """The page's kernel facts, from the committed matrix record (nothing is booted)."""
    from kptrdoc.matrix import page_facts
    from kptrdoc.matrix.record import find_record

    try:
        facts = page_facts(macro, objects, find_record(folder), tuple(page.front.also))
    except KptrdocError as exc:
        page.problems.append(f"kernel matrix: {exc}")
        return None
    matrix = KernelMatrix(
        statement=facts.statement,
        minimum=facts.floor,
        derived=facts.derived,
        kernels=[KernelColumn(k.id, k.label, k.release, k.build) for k in facts.kernels],
        missing=list(facts.missing),
        problems=list(facts.problems),
        not_measured=list(facts.not_measured),
    )
    for row in facts.rows:
        cells = {
            kid: KernelCell(
                verdict=c.outcome,
                short=c.short,
                reason=c.detail,
                kernel_release=next((k.release for k in facts.kernels if k.id == kid), ""),
                status=c.status,
            )
            for kid, c in row.cells.items()
        }
        matrix.rows.append(KernelRow(row.sample, row.program, row.expect, cells))
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
        kernel=_kernel_with_build(),
        libbpf=libbpf_version,
        clang=clang,
        machine=platform.machine(),
        verified=verified or date,
    )


def broken_page(identifier: str, samples_dir: Path, problem: str) -> MacroPage:
    """The page of a folder that cannot be collected, saying why (``mkdocs serve``)."""
    try:
        front, _ = read_readme(samples_dir / identifier)
    except KptrdocError:
        front = FrontMatter(macro=identifier)
    return MacroPage(identifier=identifier, front=front, definition=None, problems=[problem])


def collect_page(identifier: str, opts: CollectOptions) -> MacroPage:
    """The page model of the macro whose sample folder is ``samples_dir/identifier``."""
    folder = opts.samples_dir / identifier
    if not folder.is_dir():
        raise CollectError(f"{folder}: no such sample folder (the identifier names one)")
    front, _ = read_readme(folder)
    definition, problem = _definition(front.macro, _build_flags(folder))
    page = MacroPage(identifier=identifier, front=front, definition=definition)
    fact = libbpf_since(front.macro)
    if fact is not None:
        page.since_commit = f"{fact.commit[:12]} {fact.subject} ({fact.date})"
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
    plan = definition_emits(definition.text) if definition else EmitPlan()
    if definition is not None and (
        definition.header == "bpf_core_read.h" or register_macro(front.macro) is not None
    ):
        plan = replace(plan, core=True)
    page.symbol_marks = ["binding WEAK"] * plan.weak + ["visibility HIDDEN"] * plan.hidden
    sources = sorted(folder.glob("*.bpf.c"))
    if not sources:
        raise CollectError(f"{folder}: no *.bpf.c sample in the folder")
    collected = []
    objects_seen: list[tuple[str, SampleView]] = []
    for path in sources:
        names = usage_names(front.macro, definition) + [n for n in front.also if n]
        evidence = sample_evidence(path, front.macro, opts, plan, names)
        if evidence.object_path:  # a sample whose point is a compiler error has none
            objects_seen.append((evidence.object_path, evidence.view))
        page.samples.append(evidence.view)
        page.tag_uses += evidence.tag_uses
        page.evidence += evidence.evidence
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
        page.matrix = _matrix(front.macro, objects, page, folder)
    page.related = _related(front.related, opts.samples_dir, identifier)
    clang = next((p.verifier.clang_version for s in page.samples for p in s.programs
                  if p.verifier), "")  # fmt: skip
    page.provenance = provenance(clang, min(collected) if collected else "")
    return page
