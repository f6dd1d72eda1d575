"""Where a sample expands each macro, as the compiler's preprocessor recorded it.

libclang parses the sample with the flags of its compile
(:func:`kptrdoc.compile.compile_flags`) and a detailed preprocessing record:
every macro expansion whose name is written in the sample file itself
becomes a :class:`MacroUse` with the range of source it replaced. An
expansion written inside another one's arguments
(``bpf_printk("%d", BPF_CORE_READ(t, real_parent, tgid))``) names the
enclosing expansions in ``parents``. Expansions produced by a macro's body in
a header (``___core_read`` inside ``BPF_CORE_READ``) are not in the record
(clang does not record expansions whose name comes from another macro), and
the body of a ``BPF_PROG`` function is not part of the ``BPF_PROG``
expansion: that covers only ``BPF_PROG(name, args...)``.

libclang comes from Debian's ``libclang1-19`` (the library next to the
``clang-19`` that compiles the samples, so both read the same headers the same
way) through the ``clang`` bindings from PyPI (the release matching it). The
library must be the one under ``/usr/lib/llvm-19/lib``: libclang finds its
builtin headers (``stddef.h``) relative to its own path, and the multiarch
copy in ``/usr/lib/<triplet>`` does not find them (``-resource-dir`` does not
override that). ``$KPTRDOC_LIBCLANG`` names another library file.

A parse takes about 0.25 s, nearly all of it ``vmlinux.h`` (measured with a
2.9 MB one: 0.22-0.26 s per sample, 13.7 s for all 56 samples), so results are
cached in ``cache_dir()/macro-uses`` by the sample's path and bytes, the flags,
the libclang file and the content of every header the parse read (a lookup,
which hashes those headers again, takes about 3 ms). A scan with compile
errors is not cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kptrdoc import toolchain
from kptrdoc.errors import KptrdocError

CACHE_SCHEMA = "kptrdoc-macro-uses-3"
"""Part of every cache key: change it when what is cached changes."""

BINDINGS = "clang>=19.1.7,<20"
"""The PyPI bindings that match Debian's libclang1-19 (named in error messages)."""

_SEVERITIES = {0: "ignored", 1: "note", 2: "warning", 3: "error", 4: "fatal"}


@dataclass(frozen=True, slots=True)
class MacroUse:
    """One expansion of a macro written in the sample file."""

    name: str
    file: Path
    line: int
    """1-based line of the macro's name."""
    column: int
    """1-based byte column of the macro's name."""
    end_line: int
    """Last line of the expansion (the closing parenthesis of a function-like macro)."""
    end_column: int
    """One past the last byte of the expansion on ``end_line`` (libclang's convention)."""
    parents: tuple[str, ...] = ()
    """The expansions whose arguments hold this one, outermost first."""
    in_directive: bool = False
    """Written in a preprocessor directive (``#if FOO``, ``#ifdef FOO``, ``defined(FOO)``,
    which libclang records too): tested there, never expanded into code."""
    defined_in: Path | None = None
    """The file of the definition that was expanded (``None``: a builtin, or unknown)."""

    @property
    def lines(self) -> range:
        """The source lines the expansion covers, ``line`` to ``end_line``."""
        return range(self.line, self.end_line + 1)


@dataclass(frozen=True, slots=True)
class Inclusion:
    """One ``#include`` written in the sample file, as the preprocessor resolved it."""

    path: Path
    """The file it included."""
    line: int
    """1-based line of the directive."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One message of the parse (warnings and worse), with where it points."""

    severity: str
    """``warning``, ``error`` or ``fatal``."""
    file: str | None
    line: int
    column: int
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity in ("error", "fatal")

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: " if self.file else ""
        return f"{where}{self.severity}: {self.message}"

    def brief(self, source: Path) -> str:
        """One line, without the file name when it is ``source``."""
        if self.file == str(source):
            return f"line {self.line}:{self.column}: {self.severity}: {self.message}"
        return str(self)


@dataclass(frozen=True, slots=True)
class MacroScan:
    """What one parse found: the uses, and the compiler's diagnostics."""

    source: Path
    uses: tuple[MacroUse, ...]
    diagnostics: tuple[Diagnostic, ...]
    includes: tuple[Inclusion, ...] = ()
    """The sample's own ``#include`` directives, in source order."""
    cached: bool = False

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)


class MacroUseError(KptrdocError):
    """The macro uses of a sample could not be read (or it does not compile).

    The message is one line naming the file. ``scan`` holds what was found
    when the sample was parsed but has errors (``None`` when no parse happened).
    """

    def __init__(self, source: Path, message: str, scan: MacroScan | None = None) -> None:
        self.source = source
        self.scan = scan
        super().__init__(f"{source}: {message}")


def macro_uses(src: Path, flags: Sequence[str]) -> tuple[MacroUse, ...]:
    """The macro expansions written in ``src``, in source order.

    Raises :class:`MacroUseError` when libclang is missing, the file cannot be
    read or the sample does not compile (the error's ``scan`` then carries the
    uses found and the diagnostics; :func:`scan_macros` returns them instead).
    """
    scan = scan_macros(src, flags)
    if scan.errors:
        first = scan.errors[0].brief(scan.source)
        more = f" (and {len(scan.errors) - 1} more)" if len(scan.errors) > 1 else ""
        raise MacroUseError(scan.source, f"does not compile: {first}{more}", scan)
    return scan.uses


def lines_of(
    uses: Iterable[MacroUse], name: str | Iterable[str], *, directives: bool = False
) -> set[int]:
    """The source lines covered by expansions of ``name`` (or of any of several names).

    Uses in preprocessor directives (``#ifdef NAME``) count only with ``directives``.
    """
    names = {name} if isinstance(name, str) else set(name)
    return {
        line
        for use in uses
        if use.name in names and (directives or not use.in_directive)
        for line in use.lines
    }


def scan_macros(src: Path, flags: Sequence[str], *, cache: bool = True) -> MacroScan:
    """Parse ``src`` (or reuse a cached parse) and return the uses with the diagnostics.

    A sample with compile errors is not an exception here: the scan holds
    what the preprocessor saw before and around the errors (such a scan is not
    cached: a missing header is not among the files it depends on).
    """
    src = Path(src).resolve()
    try:
        source_bytes = src.read_bytes()
    except OSError as exc:
        raise MacroUseError(src, f"cannot read ({exc.strerror})") from None
    try:
        library = libclang_path()
    except MacroUseError as exc:
        raise MacroUseError(src, str(exc)) from None
    try:
        stat = library.stat()
    except OSError as exc:
        raise MacroUseError(src, f"cannot read libclang {library} ({exc.strerror})") from None
    base = _digest(
        [
            CACHE_SCHEMA.encode(),
            str(src).encode(),
            source_bytes,
            "\0".join(flags).encode(),
            str(library.resolve()).encode(),
            f"{stat.st_size}:{stat.st_mtime_ns}".encode(),
        ]
    )
    entry = _cache_dir() / f"{base}.json" if cache else None
    if entry is not None:
        hit = _lookup(entry, base, src)
        if hit is not None:
            return hit
    scan, deps = _parse(src, source_bytes, flags, library)
    if entry is not None and not scan.errors:
        full = _full_key(base, deps)
        if full is not None:
            _store(entry, full, deps, scan)
    return scan


def libclang_path() -> Path:
    """The libclang shared library to load: ``$KPTRDOC_LIBCLANG``, else the one in the
    LLVM tree of the samples' clang (``/usr/lib/llvm-19/lib/libclang-19.so.1``)."""
    env = os.environ.get("KPTRDOC_LIBCLANG")
    if env:
        return Path(env)
    try:
        clang = toolchain.clang()
    except KptrdocError as exc:
        raise MacroUseError(Path("libclang"), f"no clang to find it by: {exc}") from None
    lib = clang.resolve().parent.parent / "lib"
    candidates = [*sorted(lib.glob("libclang-*.so.1"), reverse=True), lib / "libclang.so.1"]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise MacroUseError(
        lib / "libclang-19.so.1",
        f"libclang not found next to {clang}: install it with 'apt-get install libclang1-19' "
        "or run 'make setup'",
    )


def _parse(
    src: Path, source_bytes: bytes, flags: Sequence[str], library: Path
) -> tuple[MacroScan, list[Path]]:
    """One libclang parse: the scan and the files it included."""
    cindex = load_cindex(src, library)
    try:
        tu = cindex.TranslationUnit.from_source(
            str(src),
            args=list(flags),
            options=cindex.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD,
            index=cindex.Index.create(),
        )
    except cindex.TranslationUnitLoadError:
        raise MacroUseError(src, "libclang could not parse it (are the flags valid?)") from None
    diagnostics = tuple(
        Diagnostic(
            _SEVERITIES.get(d.severity, str(d.severity)),
            d.location.file.name if d.location.file else None,
            d.location.line,
            d.location.column,
            d.spelling,
        )
        for d in tu.diagnostics
        if d.severity >= cindex.Diagnostic.Warning
    )
    here = str(src)
    found = []
    macro = cindex.CursorKind.MACRO_INSTANTIATION
    for cursor in tu.cursor.get_children():
        if cursor.kind != macro:
            continue
        start = cursor.extent.start
        if start.file is None or start.file.name != here:
            continue
        end = cursor.extent.end
        definition = cursor.referenced
        where = definition.location.file if definition is not None else None
        found.append(
            (cursor.spelling, start.line, start.column, end.line, end.column,
             where.name if where is not None else "")
        )  # fmt: skip
    inclusions = list(tu.get_includes())
    deps = sorted({Path(inc.include.name) for inc in inclusions} - {src})
    includes = tuple(
        sorted(
            (
                Inclusion(Path(inc.include.name), inc.location.line)
                for inc in inclusions
                if inc.depth == 1 and inc.location.file and inc.location.file.name == here
            ),
            key=lambda i: i.line,
        )
    )
    text = source_bytes.decode("utf-8", errors="replace")
    uses = _nest(src, found, _directive_lines(text))
    return MacroScan(src, uses, diagnostics, includes), deps


def load_cindex(src: Path, library: Path) -> Any:
    """``clang.cindex``, loading ``library`` unless a library is loaded already."""
    try:
        from clang import cindex
    except ImportError:
        raise MacroUseError(
            src, f"the libclang bindings are missing: pip install '{BINDINGS}' (or make setup)"
        ) from None
    if not cindex.Config.loaded:
        cindex.Config.set_library_file(str(library))
    try:
        cindex.conf.lib  # noqa: B018 (loads the library, or says why not)
    except cindex.LibclangError as exc:
        why = str(exc).split(". To provide", 1)[0].removeprefix(f"{library}: ")
        why = why.splitlines()[0] if why.strip() else "unknown error"
        raise MacroUseError(src, f"libclang {library} does not load: {why}") from None
    return cindex


def _nest(
    src: Path, found: Iterable[tuple[str, int, int, int, int, str]], directives: set[int]
) -> tuple[MacroUse, ...]:
    """Uses in source order, each with the expansions whose extent holds it."""
    ordered = sorted(found, key=lambda f: (f[1], f[2], -f[3], -f[4]))
    stack: list[tuple[str, tuple[int, int]]] = []
    uses = []
    for name, line, column, end_line, end_column, defined_in in ordered:
        while stack and stack[-1][1] < (end_line, end_column):
            stack.pop()
        parents = tuple(n for n, _ in stack)
        uses.append(
            MacroUse(
                name,
                src,
                line,
                column,
                end_line,
                end_column,
                parents,
                line in directives,
                Path(defined_in) if defined_in else None,
            )
        )
        stack.append((name, (end_line, end_column)))
    return tuple(uses)


def _directive_lines(text: str) -> set[int]:
    """1-based lines that belong to a preprocessor directive (continuation lines included)."""
    lines: set[int] = set()
    continued = False
    for number, line in enumerate(text.splitlines(), start=1):
        if continued or line.lstrip().startswith("#"):
            lines.add(number)
            continued = line.endswith("\\")
    return lines


def _cache_dir() -> Path:
    path = toolchain.cache_dir() / "macro-uses"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _digest(parts: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def _full_key(base: str, deps: Sequence[Path]) -> str | None:
    """``base`` plus the current content of each header; ``None`` if one is gone."""
    parts = [base.encode()]
    for dep in deps:
        try:
            parts += [str(dep).encode(), dep.read_bytes()]
        except OSError:
            return None
    return _digest(parts)


def _lookup(entry: Path, base: str, src: Path) -> MacroScan | None:
    try:
        data = json.loads(entry.read_text())
        deps = [Path(p) for p in data["deps"]]
        if data["schema"] != CACHE_SCHEMA or _full_key(base, deps) != data["key"]:
            return None
        uses = tuple(
            MacroUse(n, src, a, b, c, d, tuple(p), bool(i), Path(f) if f else None)
            for n, a, b, c, d, p, i, f in data["uses"]
        )
        diagnostics = tuple(Diagnostic(*d) for d in data["diagnostics"])
        includes = tuple(Inclusion(Path(path), line) for path, line in data["includes"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return MacroScan(src, uses, diagnostics, includes, cached=True)


def _store(entry: Path, key: str, deps: Sequence[Path], scan: MacroScan) -> None:
    data = {
        "schema": CACHE_SCHEMA,
        "key": key,
        "source": str(scan.source),
        "deps": [str(d) for d in deps],
        "uses": [
            [
                u.name,
                u.line,
                u.column,
                u.end_line,
                u.end_column,
                list(u.parents),
                u.in_directive,
                str(u.defined_in) if u.defined_in else "",
            ]
            for u in scan.uses
        ],
        "diagnostics": [
            [d.severity, d.file, d.line, d.column, d.message] for d in scan.diagnostics
        ],
        "includes": [[str(i.path), i.line] for i in scan.includes],
    }
    try:
        fd, tmp = tempfile.mkstemp(prefix=entry.name, dir=entry.parent)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, entry)
    except OSError:
        pass  # a cache that cannot be written only costs the next parse
