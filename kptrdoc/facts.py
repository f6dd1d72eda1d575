"""Facts with sources: when each macro entered libbpf, from its git history.

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
