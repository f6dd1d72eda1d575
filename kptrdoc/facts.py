"""Facts with sources: when each macro entered libbpf, and each page's kernel floor.

``kptrdoc/data/kernel_floors.json`` holds each macro page's kernel floor: the
first Linux release with what its samples need, the kernel commit that added
it and how the release was determined, and whether it is the macro's own
floor or that of a feature its samples use. It is cited, never measured: the
matrix record is the measurement, and a page shows the two side by side.


``kptrdoc/data/libbpf_since.json`` holds, per public macro, the first libbpf
release whose headers define it, the commit that added it (sha, date,
subject, the patch's mailing-list link) and a note where the history has
something to say (a macro that moved between headers, or changed meaning).
A page's ``since`` must agree with it, and the headers the build can read
must agree too (:func:`kptrdoc.headers.check_since`).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from kptrdoc.errors import KptrdocError

DATA = Path(__file__).resolve().parent / "data" / "libbpf_since.json"
FLOORS = Path(__file__).resolve().parent / "data" / "kernel_floors.json"


class FactsError(KptrdocError):
    """The facts file cannot be read, or has no entry for a name."""


@dataclass(frozen=True)
class SinceFact:
    name: str
    since: str
    """``v0.0.6``: the first libbpf release that has it."""
    commit: str
    date: str
    subject: str
    header: str
    note: str = ""
    lore: str = ""


def _entries(path: Path, section: str, what: str) -> dict[str, dict]:
    """The entries of one facts file: name -> its fields."""
    try:
        data = json.loads(path.read_text())
        entries = data[section]
        if not isinstance(entries, dict):
            raise TypeError(f"{section!r} is not a mapping")
        return entries
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FactsError(f"{path}: cannot read {what} ({exc})") from None


def _build(kind: type, name: str, entry: dict, path: Path) -> object:
    fields = {f: entry[f] for f in kind.__dataclass_fields__ if f in entry}
    try:
        return kind(name, **fields)
    except TypeError as exc:
        raise FactsError(f"{path}: {name}: {exc}") from None


@functools.cache
def _table(path: Path = DATA) -> dict[str, SinceFact]:
    entries = _entries(path, "macros", "the libbpf history facts")
    return {n: _build(SinceFact, n, e, path) for n, e in entries.items()}  # type: ignore[misc]


def libbpf_since(name: str) -> SinceFact | None:
    """When ``name`` entered libbpf's eBPF-side headers; ``None`` for a name that is not
    one of their ``#define``s."""
    return _table().get(name)


@dataclass(frozen=True)
class FloorFact:
    page: str
    floor: str
    """``6.4``."""
    what: str
    commit: str
    subject: str
    kind: str
    """``macro`` (the macro's own) or ``feature-used-by-samples``."""
    notes: str = ""
    release_source: str = ""

    @property
    def version(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.floor.split("."))


@functools.cache
def _floors(path: Path = FLOORS) -> dict[str, FloorFact]:
    entries = _entries(path, "pages", "the kernel floors")
    return {n: _build(FloorFact, n, e, path) for n, e in entries.items()}  # type: ignore[misc]


def kernel_floor(page: str) -> FloorFact | None:
    """The cited kernel floor of a macro page (its sample folder's name); ``None`` when the
    facts file has none for it."""
    return _floors().get(page)
