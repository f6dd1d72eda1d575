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


@functools.cache
def _table(path: Path = DATA) -> dict[str, SinceFact]:
    try:
        data = json.loads(path.read_text())
        return {
            name: SinceFact(
                name,
                e["since"],
                e["commit"],
                e["date"],
                e["subject"],
                e["header"],
                e.get("note", ""),
                e.get("lore", ""),
            )
            for name, e in data["macros"].items()
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FactsError(f"{path}: cannot read the libbpf history facts ({exc})") from None


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
    try:
        data = json.loads(path.read_text())
        return {
            page: FloorFact(
                page,
                e["floor"],
                e["what"],
                e["commit"],
                e["subject"],
                e["kind"],
                e.get("notes", ""),
                e.get("release_source", ""),
            )
            for page, e in data["pages"].items()
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FactsError(f"{path}: cannot read the kernel floors ({exc})") from None


def kernel_floor(page: str) -> FloorFact | None:
    """The cited kernel floor of a macro page (its sample folder's name); ``None`` when the
    facts file has none for it."""
    return _floors().get(page)
