"""A page's kernel floor, derived from what its objects use: never typed by hand.

Each program a page expects to load asks things of the kernel
(:func:`kptrdoc.objects.uses.kernel_uses`): helpers, kfuncs, map and program
types, BTF tag meanings, verifier features. Each has a cited introduction in
``kptrdoc/data/kernel_history.json`` (:func:`kptrdoc.facts.kernel_fact`). The
floor is the newest of them. Where libbpf falls back to an older feature on a
kernel that lacks one (``bpf_probe_read_kernel`` -> ``bpf_probe_read``), the
older one counts. A use the facts file does not cover is *uncited*: the page
says so, and the facts tests fail until someone adds it with its source.

A sample that calls a newer kfunc therefore raises its page's floor by itself.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kptrdoc.facts import KernelFact, kernel_fact
from kptrdoc.objects.uses import KernelUse, kernel_uses


@dataclass(frozen=True)
class FloorItem:
    """One use of a page, with what the facts file says of it."""

    use: KernelUse
    programs: tuple[str, ...]
    """``__kptr/kptr.bpf.c: store_cpumask``: the programs that need it."""
    fact: KernelFact | None
    """Its introduction; ``None`` when uncited."""
    counted: KernelFact | None
    """What counts for the floor: ``fact``, or the older fallback libbpf uses."""
    own: bool = False
    """It is the page's macro's own requirement (the fact names the macro)."""

    @property
    def version(self) -> tuple[int, ...]:
        return self.counted.version if self.counted else ()


@dataclass(frozen=True)
class DerivedFloor:
    """The cited kernel floor of a page, and everything it was derived from."""

    page: str
    items: tuple[FloorItem, ...] = ()
    """Every cited use, newest first."""
    uncited: tuple[FloorItem, ...] = ()

    @property
    def floor(self) -> str | None:
        """``6.4``; ``None`` when nothing cited is used."""
        return self.items[0].counted.release if self.items and self.items[0].counted else None

    @property
    def version(self) -> tuple[int, ...] | None:
        return self.items[0].version if self.items else None

    @property
    def reasons(self) -> tuple[FloorItem, ...]:
        """The uses that set the floor: those introduced in the floor's release."""
        top = self.version
        return tuple(i for i in self.items if i.version == top)

    @property
    def own(self) -> bool:
        """Whether the macro itself needs the floor (else only what the samples use does)."""
        return any(i.own for i in self.reasons)

    def below(self, version: tuple[int, ...]) -> bool:
        """Whether a kernel of ``version`` is older than the floor."""
        floor = self.version
        return floor is not None and tuple(version[: len(floor)]) < floor


def derive_floor(
    page: str, uses: Mapping[KernelUse, Iterable[str]], macros: Iterable[str] = ()
) -> DerivedFloor:
    """The floor of ``page`` from its uses (use -> the programs that need it). ``macros``:
    the names the page documents, to tell the macro's own needs from its samples'."""
    names = set(macros) | {page}
    cited: list[FloorItem] = []
    uncited: list[FloorItem] = []
    for use, programs in uses.items():
        fact = kernel_fact(use.key)
        counted = fact
        if fact is not None and fact.fallback:
            older = kernel_fact(fact.fallback)
            if older is not None and older.version < fact.version:
                counted = older
        own = fact is not None and bool(names & set(fact.macros))
        item = FloorItem(use, tuple(programs), fact, counted, own)
        (cited if fact is not None else uncited).append(item)
    cited.sort(key=lambda i: (tuple(-n for n in i.version), not i.own, i.use))
    return DerivedFloor(page, tuple(cited), tuple(sorted(uncited, key=lambda i: i.use)))


def folder_objects(folder: Path) -> tuple[tuple[str, Path], ...]:
    """The example builds of the loadable samples of one page folder: (file name, object),
    compiled or taken from the cache."""
    from kptrdoc import toolchain
    from kptrdoc.compile import compile_sample
    from kptrdoc.variants import main_variant

    out = []
    for src in sorted(Path(folder).glob("*.bpf.c")):
        variant = main_variant(src, toolchain.target_arch())
        if variant is not None:  # a sample whose point is a compiler error has no build
            out.append((src.name, compile_sample(src, variant).path))
    return tuple(out)


def objects_uses(objects: Iterable[tuple[str, Path]]) -> dict[KernelUse, tuple[str, ...]]:
    """What the objects use, with the programs that use each (``sample.bpf.c: program``)."""
    from kptrdoc.objects import load_object

    out: dict[KernelUse, list[str]] = {}
    for name, path in objects:
        for use, programs in kernel_uses(load_object(path)).items():
            out.setdefault(use, []).extend(f"{name}: {p}" for p in programs)
    return {use: tuple(programs) for use, programs in sorted(out.items())}


def page_floor(folder: Path, macros: Iterable[str] = ()) -> DerivedFloor:
    """The derived floor of the page whose samples are in ``folder``; compiles (or reuses)
    their example builds. Raises :class:`kptrdoc.errors.KptrdocError` for a sample that
    does not compile. Kept per process by the folder's file contents."""
    from kptrdoc.compile import file_digest

    folder = Path(folder).resolve()
    files = tuple((p.name, file_digest(p)) for p in sorted(folder.iterdir()) if p.is_file())
    return _page_floor(folder, files, tuple(sorted(macros)))


@functools.lru_cache(maxsize=512)
def _page_floor(
    folder: Path, files: tuple[tuple[str, bytes], ...], macros: tuple[str, ...]
) -> DerivedFloor:
    return derive_floor(folder.name, objects_uses(folder_objects(folder)), macros)
