"""Cited facts, each with its source: when each macro entered libbpf, and when each
thing a program can ask of the kernel entered Linux.

``kptrdoc/data/kernel_history.json`` holds, per kernel feature (a helper, a
kfunc, a map, program or attach type, a BTF tag meaning, a verifier feature),
the first Linux release that has it, the upstream commit that added it (id and
subject) and how the release was determined. A page's kernel floor is derived
from it (:mod:`kptrdoc.floors`), never typed: it is the newest introduction
among what the page's objects use. It is cited, never measured: the matrix
record is the measurement (:mod:`kptrdoc.matrix.facts`), and a page shows the
two side by side.

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
KERNEL = Path(__file__).resolve().parent / "data" / "kernel_history.json"


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


def release_tuple(release: str) -> tuple[int, ...]:
    """``"6.4"`` -> ``(6, 4)``."""
    return tuple(int(n) for n in release.split("."))


@dataclass(frozen=True)
class KernelFact:
    """When one thing a program can use entered Linux, with its source."""

    key: str
    """``kfunc:bpf_cpumask_create``: the use's kind and name
    (:class:`kptrdoc.objects.uses.KernelUse`)."""
    release: str
    """``6.3``: the first mainline release that has it."""
    commit: str
    subject: str
    source: str
    """How the commit and the release were determined."""
    note: str = ""
    fallback: str = ""
    """The key of an older feature libbpf uses instead on kernels that lack this one
    (``helper:bpf_probe_read`` for ``helper:bpf_probe_read_kernel``)."""
    backports: tuple[str, ...] = ()
    """Debian kernel package versions (``6.12.57-1``) known to carry it although their
    upstream release is older."""
    macros: tuple[str, ...] = ()
    """The macros whose own meaning this is (``btf_tag:kptr`` for ``__kptr``)."""
    verified: bool = True
    """False where no second source confirmed the subject or the choice of commit."""

    @property
    def version(self) -> tuple[int, ...]:
        return release_tuple(self.release)

    @property
    def short_commit(self) -> str:
        return self.commit[:12]


@functools.cache
def _kernel(path: Path = KERNEL) -> dict[str, KernelFact]:
    entries = _entries(path, "features", "the kernel history facts")
    out: dict[str, KernelFact] = {}
    for key, entry in entries.items():
        entry = {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}
        fact = _build(KernelFact, key, entry, path)
        assert isinstance(fact, KernelFact)
        try:
            release_tuple(fact.release)
        except ValueError:
            raise FactsError(f"{path}: {key}: release {fact.release!r} is not N.N") from None
        out[key] = fact
    return out


def kernel_fact(key: str) -> KernelFact | None:
    """When the kernel got ``key`` (``helper:bpf_kptr_xchg``); ``None`` when the facts
    file does not say."""
    return _kernel().get(key)


def kernel_facts() -> tuple[KernelFact, ...]:
    return tuple(_kernel().values())
