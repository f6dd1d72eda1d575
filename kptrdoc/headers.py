"""Definitions of libbpf's eBPF-side macros, read out of the real headers.

Three jobs, one per public function:

- :func:`find_definitions` / :func:`find_definition`: where and how a name
  is defined in one libbpf release (file, line, exact text, the comment block
  right above it, and the neighbouring definitions of the same block);
- :func:`history`: the same lookup across every release whose headers we
  have (:func:`kptrdoc.toolchain.header_releases`), each release marked
  ``absent``/``present``/``added``/``same``/``changed``/``removed``;
- :func:`check_since`: whether a README's ``since`` claim agrees with them;
- :func:`public_macros`: every public macro of the five headers.

Names other than macros that pages cover are found too: ``enum NAME``,
``struct NAME``, ``union NAME`` (with or without the keyword) and
``static`` inline functions such as ``bpf_tail_call_static``.

Only the standard library is used; the headers are plain text.
"""

from __future__ import annotations

import re
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
