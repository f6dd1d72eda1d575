"""The coverage page's row of each macro page, kept by the folder's inputs, and the
evidence of every page collected on all cores before a build.

A row is (programs as annotated on this kernel, the measured floor). Working it
out collects the page (compiling, loading into the kernel, reading objects);
the row is kept under ``cache_dir()/coverage/`` keyed by what the folder's
evidence depends on (:func:`kptrdoc.handler.page_cache.folder_key`), so a build
after one edit collects one page again, not all of them.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from kptrdoc import toolchain
from kptrdoc.errors import KptrdocError


def _row_path(folder: Path) -> Path:
    from kptrdoc.handler.page_cache import folder_key

    return toolchain.cache_dir() / "coverage" / f"{folder_key(folder)}.json"


def page_row(folder: Path) -> tuple[str, str]:
    """(programs matching their expectation on this kernel, the measured floor) of a page."""
    path = _row_path(folder)
    try:
        proven, minimum = json.loads(path.read_text())
        return str(proven), str(minimum)
    except (OSError, ValueError, TypeError):
        pass
    row = _row(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(row))
    tmp.replace(path)
    return row


def _row(folder: Path) -> tuple[str, str]:
    from kptrdoc.handler.collect import CollectOptions, collect_page

    try:
        page = collect_page(folder.name, CollectOptions(samples_dir=folder.parent, history=False))
    except KptrdocError:  # the page itself reports it (the handler fails that page, one line)
        return "the samples are broken", "not measured"
    programs = [p for s in page.samples for p in s.programs]
    good = [p for p in programs if p.verifier is not None and p.verifier.matches_expectation]
    loaded = sum(1 for p in programs if p.verifier is not None and p.verifier.verdict == "loaded")
    proven = f"{len(good)} of {len(programs)} ({loaded} load)"
    minimum = page.matrix.minimum if page.matrix and page.matrix.minimum else "not measured"
    return proven, minimum


def collect_in_parallel(folders: list[Path]) -> None:
    """Collect every page's evidence on all cores, each page in a process of its own that
    fills the disk caches (objects, evidence, rows); the build then finds them there."""
    todo = [str(f) for f in folders if not _row_path(f).exists()]
    workers = min(os.cpu_count() or 1, len(todo))
    if workers < 2:
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        list(pool.map(_warm, todo))


def _warm(folder: str) -> None:
    """One page's evidence and row, then its download (:mod:`kptrdoc.project.store`)."""
    from kptrdoc.project.store import page_download

    try:
        page_row(Path(folder))
        page_download(Path(folder))
    except KptrdocError:  # a broken page: the build itself reports it, once
        return
