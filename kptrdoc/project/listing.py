"""A sample as a user would write it: the harness annotations left out.

The annotations are the macros ``kptrdoc.h`` defines (``__success``, ``__run(...)``,
``__description(...)``, ...). Where each one is written comes from the compiler's
preprocessing record (:mod:`kptrdoc.macro_uses`): an expansion whose definition is in
``kptrdoc.h`` is cut out with the blanks after it, the ``#include "kptrdoc.h"`` directive
goes, and so do the ``// kptrdoc: build`` lines (:func:`kptrdoc.variants.marker_lines`).
A line left blank by the cuts is dropped; every kept line remembers its number in the
real sample, so a page can number the listing as the file is numbered.

The listing compiles without ``kptrdoc.h`` to the same instructions: the annotations
only add BTF declaration tags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kptrdoc import toolchain
from kptrdoc.macro_uses import scan_macros
from kptrdoc.variants import marker_lines

HARNESS_HEADER = "kptrdoc.h"


@dataclass(frozen=True, slots=True)
class UserListing:
    """The sample without its harness annotations."""

    source: Path
    text: str
    """The listing, ending in a newline."""
    lines: tuple[int, ...]
    """For each line of ``text``, its 1-based number in the real sample."""
    cut: tuple[str, ...]
    """The annotation macros that were cut out, in source order (``__success``, ...)."""

    def line_index(self, number: int) -> int | None:
        """The 1-based line of the listing that shows line ``number`` of the sample."""
        try:
            return self.lines.index(number) + 1
        except ValueError:
            return None


def harness_header() -> Path:
    return (toolchain.kptrdoc_include_dir() / HARNESS_HEADER).resolve()


def user_listing(src: Path, flags: Sequence[str]) -> UserListing:
    """``src`` without what ``kptrdoc.h`` defines, parsed with ``flags`` to find it.

    A sample that does not compile (an ``error=`` build) is cut all the same: the
    preprocessing record holds its macro expansions whatever the compiler said after.
    """
    src = Path(src).resolve()
    scan = scan_macros(src, flags)
    header = harness_header()
    raw = src.read_bytes().split(b"\n")
    if raw and raw[-1] == b"":
        raw.pop()
    drop = set(marker_lines(src.read_text(encoding="utf-8", errors="replace")))
    drop |= {inc.line for inc in scan.includes if inc.path.resolve() == header}
    spans = [
        u for u in scan.uses if not u.parents and u.defined_in is not None
        and u.defined_in.resolve() == header
    ]  # fmt: skip
    lines = [bytearray(line) for line in raw]
    touched: set[int] = set()
    # cut from the end, so that earlier columns stay valid
    for use in sorted(spans, key=lambda u: (u.line, u.column), reverse=True):
        first, last = use.line - 1, use.end_line - 1
        start, end = use.column - 1, use.end_column - 1
        tail = lines[last][end:]
        tail = tail[len(tail) - len(tail.lstrip(b" \t")) :]
        if first == last:
            lines[first][start:] = tail
        else:  # what follows the cut keeps the number of the line it is on
            lines[first][start:] = b""
            lines[last][:] = tail
            drop.update(range(first + 2, last + 1))
        touched.update((first + 1, last + 1))
    text: list[str] = []
    numbers: list[int] = []
    for number, line in enumerate(lines, start=1):
        if number in drop:
            continue
        if number in touched:
            line = bytearray(line.rstrip(b" \t"))
            if not line.strip():
                continue
        text.append(line.decode("utf-8", errors="replace"))
        numbers.append(number)
    return UserListing(src, "\n".join(text) + "\n", tuple(numbers), tuple(u.name for u in spans))
