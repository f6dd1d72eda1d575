"""Definitions of libbpf's eBPF-side macros, read out of the real headers.

Three jobs, one per public function:

- :func:`find_definitions` / :func:`find_definition`: where and how a name
  is defined in one libbpf release (file, line, exact text, the comment block
  right above it, and the neighbouring definitions of the same block);
- :func:`history`: the same lookup across every release whose headers we
  have (:func:`kptrdoc.toolchain.header_releases`), each release marked
  ``absent``/``present``/``added``/``same``/``changed``/``removed``;
- :func:`check_since`: whether a README's ``since`` claim agrees with them;
- :func:`public_macros`: every public macro of the five headers;
- :func:`applicable_definition`: which of a macro's definitions applies to one
  build (its clang flags), by letting clang preprocess the headers
  (``clang -E -dD``) instead of taking the first ``#define`` in the file; every
  definition site is listed with the ``#if`` chain it sits under
  (:func:`conditions`).

Names other than macros that pages cover are found too: ``enum NAME``,
``struct NAME``, ``union NAME`` (with or without the keyword) and
``static`` inline functions such as ``bpf_tail_call_static``.

The text scanner uses only the standard library (the headers are plain
text); :func:`applicable_definition` runs the toolchain's clang.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kptrdoc.errors import KptrdocError

HEADER_FILES = ("bpf_helpers.h", "bpf_tracing.h", "bpf_core_read.h", "bpf_endian.h", "usdt.bpf.h")
"""The eBPF-side headers of libbpf, in the order they are searched."""

PUBLIC_RULE = (
    "every name #defined in bpf_helpers.h, bpf_tracing.h, bpf_core_read.h, bpf_endian.h and "
    "usdt.bpf.h, except names starting with three underscores (libbpf's internal helpers, "
    "such as ___bpf_concat) and the headers' include guards"
)
"""The rule :func:`public_macros` applies, in words (shown on the coverage page)."""


class HeaderError(KptrdocError):
    """A name is not defined where it was looked for, or a ``since`` claim is wrong."""


@dataclass(frozen=True)
class Definition:
    """One definition of a name in one header file of one release."""

    name: str
    kind: str
    """``macro``, ``enum``, ``struct``, ``union`` or ``function``."""
    header: str
    """The header's file name, e.g. ``bpf_helpers.h``."""
    path: Path
    line: int
    """1-based line where the definition starts."""
    end_line: int
    text: str
    """The exact lines of the definition, continuation backslashes included."""
    comment: str = ""
    """The comment block directly above the definition (no blank line between), or ``""``."""
    comment_line: int = 0
    """1-based line where that comment starts (0 when there is none)."""
    siblings: tuple[str, ...] = ()
    """Names ``#define``d in the same block (adjacent lines, no blank line), in order."""
    version: str = ""
    """The libbpf release the header belongs to."""
    block: str = ""
    """For a macro: the text of its block (the adjacent non-blank lines around it)."""
    block_line: int = 0
    """1-based line where :attr:`block` starts."""

    @property
    def location(self) -> str:
        """``bpf_helpers.h:194``."""
        return f"{self.header}:{self.line}"

    @property
    def full_text(self) -> str:
        """The comment (if any) followed by the definition."""
        return f"{self.comment}\n{self.text}" if self.comment else self.text


@dataclass(frozen=True)
class HistoryEntry:
    """How one release defines a name, compared with the previous release we have."""

    version: str
    source: str
    status: str
    """``present`` or ``absent`` for the oldest release; then ``added``, ``same``,
    ``changed``, ``removed`` or ``absent``."""
    definitions: tuple[Definition, ...]
    siblings: tuple[str, ...] = ()
    siblings_added: tuple[str, ...] = ()
    """Names that joined the definition's block since the previous release."""
    siblings_removed: tuple[str, ...] = ()
    """Names that left the block since the previous release (and the headers altogether)."""
    family: tuple[str, ...] = ()
    """Other names of the headers that contain this name's stem (``kptr`` for ``__kptr``)."""

    @property
    def present(self) -> bool:
        return bool(self.definitions)

    @property
    def text(self) -> str:
        return "\n".join(d.text for d in self.definitions)

    @property
    def location(self) -> str:
        return self.definitions[0].location if self.definitions else ""


@dataclass(frozen=True)
class History:
    """A name across every libbpf release whose headers we have, oldest first."""

    name: str
    entries: tuple[HistoryEntry, ...]

    @property
    def first_seen(self) -> str | None:
        """The oldest release we have that defines the name (not necessarily its real origin)."""
        for entry in self.entries:
            if entry.present:
                return entry.version
        return None


@dataclass(frozen=True)
class PublicMacro:
    name: str
    header: str
    line: int
    function_like: bool = False


@dataclass
class _Header:
    """One header file split into physical lines (1-based access through ``line``)."""

    name: str
    path: Path
    lines: list[str] = field(default_factory=list)

    def line(self, number: int) -> str:
        return self.lines[number - 1]


_DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)(\()?")
_GUARD = re.compile(r"^\s*#\s*ifndef\s+([A-Za-z_]\w*)\s*$")
_KEYWORDS = ("enum", "struct", "union")


def _read_header(path: Path) -> _Header:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise HeaderError(f"{path}: cannot read header ({exc.strerror})") from None
    return _Header(path.name, path, text.splitlines())


def _headers_in(include_dir: Path) -> list[_Header]:
    bpf_dir = include_dir / "bpf" if (include_dir / "bpf").is_dir() else include_dir
    found = [_read_header(bpf_dir / name) for name in HEADER_FILES if (bpf_dir / name).exists()]
    if not found:
        raise HeaderError(f"{bpf_dir}: none of {', '.join(HEADER_FILES)} is there")
    return found


def _logical_end(header: _Header, start: int) -> int:
    """The last line of the logical line starting at ``start`` (backslash continuations)."""
    end = start
    while header.line(end).rstrip().endswith("\\") and end < len(header.lines):
        end += 1
    return end


def _comment_above(header: _Header, line: int) -> tuple[str, int]:
    """The comment block ending on the line right above ``line``, and where it starts."""
    above = line - 1
    if above < 1:
        return "", 0
    text = header.line(above).strip()
    if text.endswith("*/"):
        start = above
        while start >= 1 and "/*" not in header.line(start):
            start -= 1
        if start < 1:
            return "", 0
        # A trailing comment of code (``x; /* ... */``) is not a comment block.
        if not header.line(start).lstrip().startswith("/*"):
            return "", 0
        return "\n".join(header.lines[start - 1 : above]), start
    if text.startswith("//"):
        start = above
        while start > 1 and header.line(start - 1).strip().startswith("//"):
            start -= 1
        return "\n".join(header.lines[start - 1 : above]), start
    return "", 0


def _block_range(header: _Header, line: int) -> tuple[int, int]:
    """First and last line of the block of adjacent non-blank lines around ``line``."""
    start = line
    while start > 1 and header.line(start - 1).strip():
        start -= 1
    end = line
    while end < len(header.lines) and header.line(end + 1).strip():
        end += 1
    return start, end


def _block_names(header: _Header, line: int) -> tuple[str, ...]:
    """Names #defined in the block of adjacent non-blank lines around ``line``."""
    start, end = _block_range(header, line)
    names = []
    for number in range(start, end + 1):
        match = _DEFINE.match(header.line(number))
        if match and match.group(1) not in names:
            names.append(match.group(1))
    return tuple(names)


def _define_sites(header: _Header, name: str) -> list[Definition]:
    found = []
    for number, text in enumerate(header.lines, start=1):
        match = _DEFINE.match(text)
        if not match or match.group(1) != name:
            continue
        end = _logical_end(header, number)
        comment, comment_line = _comment_above(header, number)
        block_start, block_end = _block_range(header, number)
        found.append(
            Definition(
                name=name,
                kind="macro",
                header=header.name,
                path=header.path,
                line=number,
                end_line=end,
                text="\n".join(header.lines[number - 1 : end]),
                comment=comment,
                comment_line=comment_line,
                siblings=_block_names(header, number),
                block="\n".join(header.lines[block_start - 1 : block_end]),
                block_line=block_start,
            )
        )
    return found


def _braced_end(header: _Header, start: int) -> int:
    """The line closing the first ``{`` at or after ``start``."""
    depth = 0
    opened = False
    for number in range(start, len(header.lines) + 1):
        for char in header.line(number):
            if char == "{":
                depth += 1
                opened = True
            elif char == "}":
                depth -= 1
                if opened and depth == 0:
                    return number
    return start


def _aggregate_sites(header: _Header, keyword: str, name: str) -> list[Definition]:
    pattern = re.compile(rf"^\s*{keyword}\s+{re.escape(name)}\s*\{{")
    found = []
    for number, text in enumerate(header.lines, start=1):
        if not pattern.match(text):
            continue
        end = _braced_end(header, number)
        comment, comment_line = _comment_above(header, number)
        found.append(
            Definition(
                name=f"{keyword} {name}",
                kind=keyword,
                header=header.name,
                path=header.path,
                line=number,
                end_line=end,
                text="\n".join(header.lines[number - 1 : end]),
                comment=comment,
                comment_line=comment_line,
            )
        )
    return found


def _function_sites(header: _Header, name: str) -> list[Definition]:
    pattern = re.compile(rf"^(?:[A-Za-z_].*?[\s*])?{re.escape(name)}\s*\(")
    found = []
    for number, text in enumerate(header.lines, start=1):
        if not pattern.match(text):
            continue
        # The definition's body must open before any ';' ends a declaration.
        rest = "\n".join(header.lines[number - 1 : number + 15])
        brace, semi = rest.find("{"), rest.find(";")
        if brace < 0 or (0 <= semi < brace):
            continue
        start = number
        while start > 1:
            prev = header.line(start - 1).rstrip()
            if (
                not prev
                or prev.startswith(("#", "/", " *", "*"))
                or prev.endswith((";", "}", "\\"))
            ):
                break
            start -= 1
        end = _braced_end(header, number)
        comment, comment_line = _comment_above(header, start)
        found.append(
            Definition(
                name=name,
                kind="function",
                header=header.name,
                path=header.path,
                line=start,
                end_line=end,
                text="\n".join(header.lines[start - 1 : end]),
                comment=comment,
                comment_line=comment_line,
            )
        )
    return found


def _split_name(name: str) -> tuple[str | None, str]:
    parts = name.split()
    if len(parts) == 2 and parts[0] in _KEYWORDS:
        return parts[0], parts[1]
    return None, name.strip()


def find_definitions(name: str, include_dir: Path, version: str = "") -> list[Definition]:
    """Every definition of ``name`` in the eBPF-side headers under ``include_dir``.

    ``name`` is a macro (``__kptr``), an aggregate with or without its keyword
    (``enum libbpf_pin_type`` or ``libbpf_pin_type``) or a static inline function.
    A macro defined under several ``#if`` branches has several definitions, in
    file order. An empty list means the release does not define the name.
    """
    keyword, bare = _split_name(name)
    results: list[Definition] = []
    for header in _headers_in(include_dir):
        if keyword is None:
            results.extend(_define_sites(header, bare))
    if not results:
        for header in _headers_in(include_dir):
            for kw in (keyword,) if keyword else _KEYWORDS:
                results.extend(_aggregate_sites(header, kw, bare))
    if not results and keyword is None:
        for header in _headers_in(include_dir):
            results.extend(_function_sites(header, bare))
    return [_with_version(d, version) for d in results]


def _with_version(definition: Definition, version: str) -> Definition:
    if not version:
        return definition
    return Definition(**{**definition.__dict__, "version": version})


def find_definition(name: str, include_dir: Path | None = None, version: str = "") -> Definition:
    """The first definition of ``name``; by default in the pinned libbpf's headers."""
    if include_dir is None:
        from kptrdoc.toolchain import libbpf

        pinned = libbpf()
        include_dir, version = pinned.include_dir, pinned.version
    found = find_definitions(name, include_dir, version)
    if not found:
        where = f"libbpf {version}" if version else str(include_dir)
        raise HeaderError(f"{name}: not defined in the eBPF-side headers of {where}")
    return found[0]


def _stem(name: str) -> str:
    return name.split()[-1].strip("_").lower()


def _family(name: str, all_names: list[str]) -> tuple[str, ...]:
    stem = _stem(name)
    if len(stem) < 3:
        return ()
    return tuple(
        sorted(
            {n for n in all_names if n != name and stem in n.lower() and not n.startswith("___")}
        )
    )


def _all_define_names(include_dir: Path) -> list[str]:
    names = []
    for header in _headers_in(include_dir):
        for text in header.lines:
            match = _DEFINE.match(text)
            if match:
                names.append(match.group(1))
    return names


def history(name: str, releases: list | None = None) -> History:
    """How ``name`` is defined in each release of ``releases`` (default: all we have).

    Besides the definition itself, each entry lists the names ``#define``d in
    the same block and which of them appeared or disappeared since the
    previous release, and the *family*: other names containing the same stem.
    For ``__kptr`` that shows ``__kptr_ref`` next to it in 1.1 and
    ``__kptr_untrusted`` in its place from 1.5 on.
    """
    if releases is None:
        from kptrdoc.toolchain import header_releases

        releases = header_releases()
    entries: list[HistoryEntry] = []
    previous: HistoryEntry | None = None
    for release in releases:
        definitions = tuple(find_definitions(name, release.include_dir, release.version))
        siblings = definitions[0].siblings if definitions else ()
        all_names = _all_define_names(release.include_dir)
        if previous is None:
            status = "present" if definitions else "absent"
            added: tuple[str, ...] = ()
            removed: tuple[str, ...] = ()
        else:
            if definitions and previous.present:
                status = (
                    "same" if _texts(definitions) == _texts(previous.definitions) else "changed"
                )
            elif definitions:
                status = "added"
            elif previous.present:
                status = "removed"
            else:
                status = "absent"
            added = tuple(n for n in siblings if n not in previous.siblings)
            removed = tuple(
                n for n in previous.siblings if n not in siblings and n not in set(all_names)
            )
        entry = HistoryEntry(
            version=release.version,
            source=release.source,
            status=status,
            definitions=definitions,
            siblings=siblings,
            siblings_added=added,
            siblings_removed=removed,
            family=_family(name, all_names),
        )
        entries.append(entry)
        previous = entry
    return History(name, tuple(entries))


def _texts(definitions: tuple[Definition, ...]) -> tuple[str, ...]:
    return tuple(d.text for d in definitions)


def parse_version(text: str) -> tuple[int, ...]:
    """``v0.8.0``, ``0.8`` or ``1.3`` → ``(0, 8, 0)``; else :class:`HeaderError`."""
    match = re.fullmatch(r"\s*v?(\d+)\.(\d+)(?:\.(\d+))?\s*", str(text))
    if not match:
        raise HeaderError(f"{text!r} is not a libbpf version (expected e.g. v0.8.0 or 1.3)")
    return tuple(int(part or 0) for part in match.groups())


def check_since(name: str, since: str, hist: History, source: Path | str) -> None:
    """Raise :class:`HeaderError` naming ``source`` when ``since`` contradicts the headers.

    A release older than ``since`` must not define the name; the oldest release
    at or after ``since`` must define it (unless no later release does either,
    which is an error too).
    """
    try:
        claimed = parse_version(since)
    except HeaderError as exc:
        raise HeaderError(f"{source}: since: {exc}") from None
    newer = []
    for entry in hist.entries:
        version = parse_version(entry.version)
        if version < claimed:
            if entry.present:
                raise HeaderError(
                    f"{source}: since {since} is wrong: libbpf {entry.version} "
                    f"already defines {name} ({entry.location})"
                )
        else:
            newer.append(entry)
    if not newer:
        return
    if not newer[0].present:
        later = next((e for e in newer if e.present), None)
        if later is None:
            raise HeaderError(
                f"{source}: since {since}: none of the libbpf headers from {newer[0].version} "
                f"on defines {name}"
            )
        raise HeaderError(
            f"{source}: since {since} is wrong: libbpf {newer[0].version} does not define "
            f"{name}, it first appears in {later.version}"
        )


def public_macros(include_dir: Path | None = None) -> list[PublicMacro]:
    """Every public macro of the eBPF-side headers (rule: :data:`PUBLIC_RULE`), sorted by name.

    A macro with several definitions is listed once, at its first one.
    """
    if include_dir is None:
        from kptrdoc.toolchain import libbpf

        include_dir = libbpf().include_dir
    seen: dict[str, PublicMacro] = {}
    for header in _headers_in(include_dir):
        guards = set()
        for text in header.lines[:5]:
            match = _GUARD.match(text)
            if match:
                guards.add(match.group(1))
        for number, text in enumerate(header.lines, start=1):
            match = _DEFINE.match(text)
            if not match:
                continue
            macro = match.group(1)
            if macro.startswith("___") or macro in guards or macro in seen:
                continue
            seen[macro] = PublicMacro(macro, header.name, number, bool(match.group(2)))
    return sorted(seen.values(), key=lambda m: m.name.lstrip("_").lower())


def is_defined(name: str, include_dir: Path | None = None) -> bool:
    """Whether ``name`` is defined (as anything :func:`find_definitions` finds)."""
    if include_dir is None:
        from kptrdoc.toolchain import libbpf

        include_dir = libbpf().include_dir
    return bool(find_definitions(name, include_dir))


# --------------------------------------------------------------------------
# The definition that applies to one build: clang -E -dD
# --------------------------------------------------------------------------


class PreprocessError(HeaderError):
    """clang could not preprocess the libbpf headers with a build's flags."""


@dataclass(frozen=True)
class Condition:
    """One level of the ``#if`` chain around a line of a header."""

    directive: str
    """``if``, ``ifdef``, ``ifndef``, ``elif`` or ``else``."""
    expression: str
    """What follows the directive, as written (comments dropped, continuation lines
    joined); ``""`` for ``#else``."""
    line: int
    """1-based line of the directive (of the ``#elif`` or ``#else`` itself for those)."""
    earlier: tuple[str, ...] = ()
    """For ``#elif`` and ``#else``: the conditions (:attr:`text`) of the earlier
    branches of the same chain, in order."""

    @property
    def text(self) -> str:
        """The branch's own condition: ``defined(X)`` for ``#ifdef X``, ``!defined(X)`` for
        ``#ifndef X``, the expression of an ``#if`` or ``#elif``, and the earlier
        branches negated for an ``#else`` (``!(__GNUC__ && !__clang__)``)."""
        if self.directive == "ifdef":
            return f"defined({self.expression})"
        if self.directive == "ifndef":
            return f"!defined({self.expression})"
        if self.directive == "else":
            return _conjoin([_negate(e) for e in self.earlier])
        return self.expression

    @property
    def exact(self) -> str:
        """The complete condition of the branch: for an ``#elif``, the earlier
        branches negated in front of its own expression."""
        if self.directive == "elif":
            return _conjoin([*(_negate(e) for e in self.earlier), self.expression])
        return self.text


@dataclass(frozen=True)
class DefinitionSite:
    """One ``#define`` of a macro in the headers, with the ``#if`` chain it sits under."""

    definition: Definition
    conditions: tuple[Condition, ...]
    """Enclosing conditions, outermost first (the header's include guard left out)."""
    applies: bool
    """Whether this is the definition the build ends up with."""

    @property
    def condition(self) -> str:
        """The conditions joined with ``&&``; ``""`` when the definition is unconditional."""
        return condition_text(self.conditions)

    @property
    def location(self) -> str:
        return self.definition.location


@dataclass(frozen=True)
class MacroState:
    """A macro as the preprocessor left it at the end of the translation unit."""

    name: str
    file: str
    """The file as clang named it (a path, or ``<built-in>``/``<command line>``)."""
    line: int
    """1-based line of the ``#define`` (of the ``#undef`` when :attr:`undefined`)."""
    params: str | None
    """``(x, args...)`` for a function-like macro, ``None`` for an object-like one."""
    body: str
    """The replacement list as clang prints it (continuations joined, comments gone)."""
    undefined: bool = False
    """The last directive for the name was an ``#undef``."""


@dataclass(frozen=True)
class PreprocessedHeaders:
    """The libbpf headers preprocessed once with one build's flags."""

    flags: tuple[str, ...]
    clang_version: str
    include_dir: Path
    """The directory whose ``bpf/`` the headers were found in."""
    headers: tuple[str, ...]
    """The libbpf headers the translation unit included."""
    skipped: tuple[str, ...]
    """``usdt.bpf.h: <clang's error>`` for a header left out because it does not
    preprocess with these flags."""
    files: tuple[str, ...]
    """Every file clang read."""
    macros: Mapping[str, MacroState]
    """The final state of every macro that was ever defined, by name."""
    seconds: float
    """How long clang and the parsing of its output took."""
    cached: str = ""
    """``""`` (made now), ``"disk"``."""

    @property
    def build(self) -> str:
        return build_label(self.flags)


@dataclass(frozen=True)
class AppliedDefinition:
    """The definition of a macro that a build ends up with, among all it has in the headers."""

    name: str
    flags: tuple[str, ...]
    definition: Definition | None
    """The definition in effect at the end of the headers, its exact lines read from the
    header (:attr:`Definition.text`); ``None`` when the build does not define the name."""
    conditions: tuple[Condition, ...]
    """The ``#if`` chain the applied definition sits under."""
    sites: tuple[DefinitionSite, ...]
    """Every ``#define`` of the name in the eBPF-side headers, in file order, the applied
    one marked (it may be missing here when the build defines the name elsewhere)."""
    params: str | None = None
    expansion: str = ""
    """The replacement list as clang has it (``-dD``): one line, no comments."""
    uses: tuple[str, ...] = ()
    """Macros the replacement list refers to that this build defines, in order of first
    use (``__PT_PARM1_REG`` for ``PT_REGS_PARM1``): look them up the same way."""
    undefined_at: str = ""
    """``file:line`` of the ``#undef`` that left the name undefined, if one did."""
    skipped: tuple[str, ...] = ()
    """Headers the build could not include (see :attr:`PreprocessedHeaders.skipped`)."""

    @property
    def defined(self) -> bool:
        return self.definition is not None

    @property
    def build(self) -> str:
        """The flags that choose between definitions: ``-target bpf -D__TARGET_ARCH_x86``."""
        return build_label(self.flags)

    @property
    def header(self) -> str:
        return self.definition.header if self.definition else ""

    @property
    def line(self) -> int:
        return self.definition.line if self.definition else 0

    @property
    def text(self) -> str:
        return self.definition.text if self.definition else ""

    @property
    def location(self) -> str:
        return self.definition.location if self.definition else ""

    @property
    def condition(self) -> str:
        """The applied definition's conditions joined with ``&&`` (``""``: unconditional)."""
        return condition_text(self.conditions)

    @property
    def applied_site(self) -> DefinitionSite | None:
        return next((s for s in self.sites if s.applies), None)

    @property
    def others(self) -> tuple[DefinitionSite, ...]:
        """The definitions of the name this build does not use."""
        return tuple(s for s in self.sites if not s.applies)

    @property
    def summary(self) -> str:
        """One line: which definition applies, or why none does."""
        if self.definition is not None:
            where = f" (under {self.condition})" if self.condition else ""
            others = f"; {len(self.others)} other definition(s)" if self.others else ""
            return f"{self.name}: {self.location}{where} applies to {self.build}{others}"
        if self.undefined_at:
            return f"{self.name} is #undef'd for {self.build} at {self.undefined_at}"
        needs = "; ".join(
            f"{s.location} needs {s.condition}" if s.condition else s.location for s in self.sites
        )
        missing = f" ({'; '.join(self.skipped)})" if self.skipped else ""
        return f"{self.name} is not defined for {self.build}{missing}: {needs}"


def condition_text(conditions: Sequence[Condition]) -> str:
    """``defined(bpf_target_x86) && (defined(__KERNEL__) || defined(__VMLINUX_H__))``."""
    return _conjoin([c.text for c in conditions])


_ATOM = re.compile(r"!?\s*(?:defined\s*\(\s*\w+\s*\)|defined\s+\w+|\w+|\((?:[^()]|\([^()]*\))*\))")


def _is_atom(expr: str) -> bool:
    if not _ATOM.fullmatch(expr):
        return False
    if expr.lstrip("!").lstrip().startswith("("):
        # ``(a) || (b)`` is no single group: the opening parenthesis must close at the end
        inner = expr.lstrip("!").lstrip()
        depth = 0
        for index, char in enumerate(inner):
            depth += char == "("
            depth -= char == ")"
            if depth == 0:
                return index == len(inner) - 1
    return True


def _negate(expr: str) -> str:
    expr = expr.strip()
    if expr.startswith("!") and _is_atom(expr) and _is_atom(expr[1:].strip()):
        inner = expr[1:].strip()
        return inner[1:-1].strip() if inner.startswith("(") else inner
    return f"!{expr}" if _is_atom(expr) else f"!({expr})"


def _conjoin(parts: Sequence[str]) -> str:
    wrapped = [p if _is_atom(p) or not re.search(r"\|\||\?", p) else f"({p})" for p in parts]
    return " && ".join(wrapped)


_DIRECTIVE = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b\s*(.*?)\s*$")


def _strip_comments(text: str, in_comment: bool) -> tuple[str, bool]:
    """``text`` without its comments; whether a ``/*`` comment is still open at its end."""
    out = []
    i = 0
    quote = ""
    while i < len(text):
        if in_comment:
            end = text.find("*/", i)
            if end < 0:
                return "".join(out), True
            i = end + 2
            in_comment = False
            out.append(" ")
            continue
        char = text[i]
        if quote:
            out.append(char)
            if char == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
            out.append(char)
        elif text.startswith("/*", i):
            in_comment = True
            i += 1
        elif text.startswith("//", i):
            break
        else:
            out.append(char)
        i += 1
    return "".join(out), in_comment


def _condition_map(header: _Header) -> list[tuple[Condition, ...]]:
    """For each line of ``header`` (index 0: line 1), the conditions around it.

    The include guard (a first ``#ifndef X`` followed by ``#define X``) is left out.
    """
    result: list[tuple[Condition, ...]] = []
    stack: list[list[Condition]] = []
    guard_depth = 0  # 1 while inside the include guard's #ifndef
    first_directive = True
    in_comment = False
    number = 1
    total = len(header.lines)
    while number <= total:
        end = _logical_end(header, number)
        raw = " ".join(
            line[:-1] if line.endswith("\\") else line
            for line in (ln.rstrip() for ln in header.lines[number - 1 : end])
        )
        code, in_comment_after = _strip_comments(raw, in_comment)
        current = tuple(levels[-1] for depth, levels in enumerate(stack, 1) if depth != guard_depth)
        result.extend([current] * (end - number + 1))
        match = None if in_comment else _DIRECTIVE.match(code)
        if match:
            directive, expression = match.group(1), " ".join(match.group(2).split())
            if directive in ("if", "ifdef", "ifndef"):
                stack.append([Condition(directive, expression, number)])
                if first_directive and directive == "ifndef" and _guards(header, end, expression):
                    guard_depth = len(stack)
            elif directive in ("elif", "else") and stack:
                earlier = tuple(c.text for c in stack[-1])
                stack[-1].append(Condition(directive, "" if directive == "else" else expression,
                                           number, earlier))  # fmt: skip
            elif directive == "endif" and stack:
                if len(stack) == guard_depth:
                    guard_depth = 0
                stack.pop()
            first_directive = False
        in_comment = in_comment_after
        number = end + 1
    return result


def _guards(header: _Header, after: int, name: str) -> bool:
    """Whether the first directive after line ``after`` is ``#define name``."""
    for text in header.lines[after:]:
        if text.strip().startswith("#"):
            match = _DEFINE.match(text)
            return bool(match and match.group(1) == name)
    return False


@functools.lru_cache(maxsize=32)
def _conditions_of(path: Path, size: int, mtime_ns: int) -> tuple[tuple[Condition, ...], ...]:
    return tuple(_condition_map(_read_header(path)))


def conditions(definition: Definition) -> tuple[Condition, ...]:
    """The ``#if`` chain around ``definition`` in its header, outermost first."""
    return _conditions_at(definition.path, definition.line)


def _conditions_at(path: Path, line: int) -> tuple[Condition, ...]:
    try:
        stat = path.stat()
    except OSError as exc:
        raise HeaderError(f"{path}: cannot read header ({exc.strerror})") from None
    table = _conditions_of(path, stat.st_size, stat.st_mtime_ns)
    return table[line - 1] if 0 < line <= len(table) else ()


_BUILD_FLAG = re.compile(r"-(?:D|U|mcpu=|march=|target$|std=)")


def build_label(flags: Sequence[str]) -> str:
    """The flags of a build that can change what the headers define, as one string:
    ``-target``, ``-mcpu=``, ``-D``/``-U`` (``-target bpf -D__TARGET_ARCH_arm64``)."""
    out: list[str] = []
    items = list(flags)
    i = 0
    while i < len(items):
        flag = items[i]
        if flag in ("-target", "-D", "-U") and i + 1 < len(items):
            out.append(f"{flag} {items[i + 1]}" if flag == "-target" else flag + items[i + 1])
            i += 2
            continue
        if _BUILD_FLAG.match(flag) or flag.startswith("--target="):
            out.append(flag)
        i += 1
    return " ".join(out) or "clang's defaults (no -target, -D or -U)"


DEFINITIONS_FORMAT = "kptrdoc-definitions-1"
"""Changes whenever the parsed form of ``clang -E -dD`` (and so the disk cache) changes."""


def _translation_unit(headers: Sequence[str], vmlinux: bool) -> str:
    lines = ["#if __has_include(<vmlinux.h>)", "#include <vmlinux.h>", "#endif"] if vmlinux else []
    lines += [f"#include <bpf/{name}>" for name in headers]
    return "\n".join(lines) + "\n"


def _fallback_includes() -> list[str]:
    """:func:`kptrdoc.toolchain.multiarch_includes` (a seam for tests)."""
    from kptrdoc import toolchain

    return toolchain.multiarch_includes()


def preprocess_headers(flags: Sequence[str], *, vmlinux: bool = True) -> PreprocessedHeaders:
    """Preprocess the five eBPF-side headers with ``flags`` (``clang -E -dD``) and return
    the final state of every macro, once per process for the same flags (and on disk,
    keyed by the flags, clang and the content of every file clang read).

    The translation unit includes ``vmlinux.h`` first when the flags make it
    reachable (``vmlinux=True``), as samples do: ``bpf_tracing.h`` picks the
    kernel's ``struct pt_regs`` names when ``__VMLINUX_H__`` is defined.
    ``usdt.bpf.h`` is left out (and said so in :attr:`PreprocessedHeaders.skipped`)
    when it does not preprocess with these flags.
    """
    return _preprocess(tuple(flags), vmlinux)


@functools.lru_cache(maxsize=32)
def _preprocess(flags: tuple[str, ...], vmlinux: bool) -> PreprocessedHeaders:
    from kptrdoc import toolchain

    clang = toolchain.clang()
    version = toolchain.clang_version(clang)
    extra = _fallback_includes()
    base = _digest([DEFINITIONS_FORMAT.encode(), str(clang).encode(), version.encode(),
                    "\0".join(flags).encode(), "\0".join(extra).encode(),
                    _translation_unit(HEADER_FILES, vmlinux).encode()])  # fmt: skip
    cache = toolchain.cache_dir() / "definitions"
    hit = _load_cached(cache / f"{base}.json", flags, version)
    if hit is not None:
        return hit
    started = time.perf_counter()
    headers = HEADER_FILES
    skipped: tuple[str, ...] = ()
    out, error = _run_clang(clang, [*flags, *extra], _translation_unit(headers, vmlinux))
    if error is not None and error.usdt:
        skipped = (f"usdt.bpf.h: {error.first}",)
        headers = tuple(h for h in HEADER_FILES if h != "usdt.bpf.h")
        out, error = _run_clang(clang, [*flags, *extra], _translation_unit(headers, vmlinux))
    if error is not None:
        raise PreprocessError(
            f"clang -E of the libbpf headers with {build_label(flags)} failed: {error.first}"
        )
    macros, files = _parse_dd(out)
    include_dir = next(
        (Path(f).parent.parent for f in files if f.endswith("/bpf/bpf_helpers.h")), None
    )
    if include_dir is None:
        raise PreprocessError(f"clang -E with {build_label(flags)} read no bpf/bpf_helpers.h")
    result = PreprocessedHeaders(
        flags=flags,
        clang_version=version,
        include_dir=include_dir,
        headers=headers,
        skipped=skipped,
        files=files,
        macros=macros,
        seconds=time.perf_counter() - started,
    )
    _store_cached(cache, base, result)
    return result


@dataclass(frozen=True)
class _ClangFailure:
    first: str
    usdt: bool


def _run_clang(clang: Path, flags: list[str], unit: str) -> tuple[str, _ClangFailure | None]:
    cmd = [str(clang), *flags, "-E", "-dD", "-x", "c", "-", "-o", "-"]
    try:
        proc = subprocess.run(cmd, input=unit, capture_output=True, text=True, check=False,
                              timeout=120)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise PreprocessError(f"clang -E of the libbpf headers timed out ({clang})") from None
    except OSError as exc:
        raise PreprocessError(f"{clang}: cannot run ({exc.strerror})") from None
    if proc.returncode == 0:
        return proc.stdout, None
    lines = proc.stderr.splitlines()
    index = next((i for i, ln in enumerate(lines) if "error:" in ln), None)
    if index is None:
        return "", _ClangFailure(f"clang exited {proc.returncode}", False)
    first = lines[index].replace("<stdin>", "<the headers' translation unit>").strip()
    context = lines[max(0, index - 8) : index + 1]
    usdt = any("usdt.bpf.h" in ln for ln in context)
    return "", _ClangFailure(first, usdt)


_DD_LINE = re.compile(
    r'^#(?: (\d+) "((?:[^"\\]|\\.)*)"[^\n]*|(define|undef) ([A-Za-z_]\w*)([^\n]*))$', re.M
)


def _parse_dd(out: str) -> tuple[dict[str, MacroState], tuple[str, ...]]:
    """The final state of each macro in ``clang -E -dD`` output, and the files it read.

    Every output line after a line marker ``# N "file"`` is line N, N+1, ... of that
    file; a ``#define`` spread over continuation lines is printed on one line and
    followed by blank lines for the rest, so counting stays right.
    """
    macros: dict[str, MacroState] = {}
    files: dict[str, None] = {}
    file = ""
    base_line = base_index = 0
    index = 0
    last = 0
    for match in _DD_LINE.finditer(out):
        index += out.count("\n", last, match.start())
        last = match.start()
        if match.group(1) is not None:
            file = re.sub(r"\\(.)", r"\1", match.group(2))
            if not file.startswith("<"):
                files.setdefault(file, None)
            base_line, base_index = int(match.group(1)), index + 1
            continue
        name, rest = match.group(4), match.group(5)
        line = base_line + index - base_index
        if match.group(3) == "undef":
            macros[name] = MacroState(name, file, line, None, "", undefined=True)
            continue
        params = None
        if rest.startswith("("):
            close = rest.find(")")
            params, rest = rest[: close + 1], rest[close + 1 :]
        macros[name] = MacroState(name, file, line, params, rest.strip())
    return macros, tuple(files)


def _digest(parts: Sequence[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def _files_digest(files: Sequence[str]) -> str | None:
    parts = []
    for name in files:
        try:
            parts += [name.encode(), Path(name).read_bytes()]
        except OSError:
            return None
    return _digest(parts)


def _load_cached(path: Path, flags: tuple[str, ...], version: str) -> PreprocessedHeaders | None:
    try:
        data = json.loads(path.read_text())
        files = tuple(data["files"])
        if data["format"] != DEFINITIONS_FORMAT or _files_digest(files) != data["digest"]:
            return None
        macros = {
            name: MacroState(name, files[f] if f >= 0 else str(special), line, params, body, undef)
            for name, (f, special, line, params, body, undef) in data["macros"].items()
        }
        return PreprocessedHeaders(
            flags=flags,
            clang_version=version,
            include_dir=Path(data["include_dir"]),
            headers=tuple(data["headers"]),
            skipped=tuple(data["skipped"]),
            files=files,
            macros=macros,
            seconds=float(data["seconds"]),
            cached="disk",
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _store_cached(cache: Path, base: str, result: PreprocessedHeaders) -> None:
    digest = _files_digest(result.files)
    if digest is None:
        return  # a file vanished meanwhile: nothing trustworthy to store
    index = {name: i for i, name in enumerate(result.files)}
    data = {
        "format": DEFINITIONS_FORMAT,
        "flags": list(result.flags),
        "digest": digest,
        "files": list(result.files),
        "include_dir": str(result.include_dir),
        "headers": list(result.headers),
        "skipped": list(result.skipped),
        "seconds": result.seconds,
        "macros": {
            m.name: [
                index.get(m.file, -1),
                "" if m.file in index else m.file,
                m.line,
                m.params,
                m.body,
                m.undefined,
            ]
            for m in result.macros.values()
        },
    }
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f"{base}.", dir=cache)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, cache / f"{base}.json")
    except OSError:
        pass  # the cache is an optimisation: a read-only cache directory is no error


def _release_version(include_dir: Path) -> str:
    """The libbpf release whose headers are in ``include_dir`` (``""`` if unknown)."""
    from kptrdoc import toolchain

    try:
        for release in toolchain.header_releases():
            if release.include_dir.resolve() == include_dir.resolve():
                return release.version
    except KptrdocError:
        pass
    header = include_dir / "bpf" / "libbpf_version.h"
    try:
        text = header.read_text()
    except OSError:
        return ""
    major = re.search(r"LIBBPF_MAJOR_VERSION\s+(\d+)", text)
    minor = re.search(r"LIBBPF_MINOR_VERSION\s+(\d+)", text)
    return f"{major.group(1)}.{minor.group(1)}.0" if major and minor else ""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


def _definition_at(state: MacroState, sites: Sequence[Definition], version: str) -> Definition:
    """The definition ``state`` comes from, its lines read from the header at that line."""
    path = Path(state.file)
    for site in sites:
        if site.line == state.line and _same_file(site.path, path):
            return site
    if state.file.startswith("<"):  # <built-in>, <command line>
        return Definition(name=state.name, kind="macro", header=state.file, path=path,
                          line=state.line, end_line=state.line,
                          text=f"#define {state.name}{state.params or ''} {state.body}".rstrip(),
                          version="")  # fmt: skip
    found = [d for d in _define_sites(_read_header(path), state.name) if d.line == state.line]
    if not found:
        raise HeaderError(
            f"{path}:{state.line}: clang reports '#define {state.name}' here, the file has "
            "something else (did it change while reading?)"
        )
    return found[0]


_IDENT = re.compile(r"[A-Za-z_]\w*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')


def _uses(state: MacroState, macros: Mapping[str, MacroState]) -> tuple[str, ...]:
    params = set(_IDENT.findall(state.params or ""))
    names: dict[str, None] = {}
    for word in _IDENT.findall(_STRING.sub(" ", state.body)):
        known = macros.get(word)
        if word in params or word == state.name or known is None or known.undefined:
            continue
        names.setdefault(word, None)
    return tuple(names)


def applicable_definition(
    macro: str, flags: Sequence[str], *, vmlinux: bool = True
) -> AppliedDefinition:
    """The definition of ``macro`` that applies to the build ``flags`` describe.

    ``flags`` are a sample's clang flags (:func:`kptrdoc.compile.compile_flags`, with
    a :class:`kptrdoc.variants.Variant` for another architecture). clang preprocesses
    the eBPF-side headers with them (:func:`preprocess_headers`, run once per flags);
    the ``#define`` in effect at the end is the applied one, and its exact lines
    are read from the header at the line clang reports. Every other ``#define`` of
    the name in the headers is listed with the ``#if`` chain it sits under.

    A name the build leaves undefined gives an :class:`AppliedDefinition` whose
    ``definition`` is ``None`` (:attr:`AppliedDefinition.summary` says why); a name
    the headers never ``#define`` and the build does not define either is a
    :class:`HeaderError`, broken flags a :class:`PreprocessError`.
    """
    pre = preprocess_headers(flags, vmlinux=vmlinux)
    version = _release_version(pre.include_dir)
    found = find_definitions(macro, pre.include_dir, version)
    if found and found[0].kind != "macro":
        raise HeaderError(
            f"{macro}: not a macro ({found[0].kind} at {found[0].location}): only #define "
            "is chosen by the preprocessor; use find_definition"
        )
    state = pre.macros.get(macro)
    if not found and (state is None or state.undefined):
        raise HeaderError(
            f"{macro}: not defined in the eBPF-side headers of "
            f"{f'libbpf {version}' if version else pre.include_dir}, nor by {pre.build}"
        )
    applied: Definition | None = None
    undefined_at = ""
    if state is not None and state.undefined:
        undefined_at = f"{Path(state.file).name}:{state.line}"
    elif state is not None:
        applied = _definition_at(state, found, version)
    sites = tuple(
        DefinitionSite(d, conditions(d), applied is not None and d is applied) for d in found
    )
    return AppliedDefinition(
        name=macro,
        flags=pre.flags,
        definition=applied,
        conditions=()
        if applied is None or applied.path.name.startswith("<")
        else conditions(applied),
        sites=sites,
        params=None if state is None or state.undefined else state.params,
        expansion="" if state is None or state.undefined else state.body,
        uses=() if state is None or state.undefined else _uses(state, pre.macros),
        undefined_at=undefined_at,
        skipped=pre.skipped,
    )
