"""The contributor loop: cold and warm site builds, and the rebuild after saving one README,
at the repository's size and on a site grown to every public macro with scaffolded pages.

Each size is a copy of ``docs/``, ``samples/`` and ``mkdocs.yml`` in a temporary
directory (kptrdoc itself is the installed one). *Cold* is a build with
empty object, evidence and page caches (a cache directory of its own that
shares only the toolchain: libbpf, headers, kernels, vmlinux.h); *warm* the
same build again; *after a README edit* a build after one sentence of one
README changed, which is what ``make serve`` does on a save. The cold build's
CPU time against its wall time says how busy both cores were.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kptrdoc import toolchain
from kptrdoc.bench import Report, Timing, machine_note

ROOT = Path(__file__).resolve().parents[2]
SHARED = ("libbpf-", "headers", "matrix", "vmlinux", "uapi", "apt", "toolchain.json")
"""What a cold cache keeps of the real one: the toolchain, not what builds produce."""


def _cold_cache(target: Path) -> Path:
    target.mkdir(parents=True)
    for entry in toolchain.cache_dir().iterdir():
        if entry.name.startswith(SHARED):
            link = target / entry.name
            if entry.is_file():
                shutil.copyfile(entry, link)
            else:
                link.symlink_to(entry)
    return target


def _tree(root: Path, scaffold: bool) -> int:
    """A copy of the site's sources; with ``scaffold``, a page for every public macro."""
    shutil.copytree(ROOT / "docs", root / "docs")
    shutil.copytree(ROOT / "samples", root / "samples")
    shutil.copyfile(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    for package in ("kptrdoc", "mkdocstrings_handlers"):  # the API reference, the hooks
        (root / package).symlink_to(ROOT / package)
    if scaffold:
        from kptrdoc.headers import public_macros
        from kptrdoc.scaffold import ScaffoldError
        from kptrdoc.scaffold import scaffold as new_page

        for macro in public_macros():
            if not (root / "samples" / macro.name).exists():
                try:
                    new_page(macro.name, root / "samples")
                except ScaffoldError:
                    continue
    return len(list((root / "samples").glob("*/README.md")))


def _build(root: Path, cache: Path, page_cache: bool = True) -> tuple[float, float]:
    env = {**os.environ, "KPTRDOC_CACHE": str(cache), "NO_MKDOCS_2_WARNING": "1",
           "KPTRDOC_PAGE_CACHE": "1" if page_cache else "0"}  # fmt: skip
    before = os.times()
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(root / "site")],
        cwd=root, env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def _size(work: Path, label: str, scaffold: bool) -> tuple[list[Timing], float, float, int]:
    root = work / label
    pages = _tree(root, scaffold)
    cache = _cold_cache(work / f"{label}-cache")
    cold = _build(root, cache)
    full = [_build(root, cache, page_cache=False) for _ in range(2)]
    warm = [_build(root, cache) for _ in range(2)]
    readme = root / "samples" / "bpf_ntohs" / "README.md"
    edits = []
    for n in range(2):
        readme.write_text(readme.read_text() + f"\nAn edited sentence, {n}.\n")
        edits.append(_build(root, cache))
    timings = [
        Timing(f"{label}: cold build ({pages} pages, empty caches)", "mkdocs build --strict",
               [cold[0]], [cold[1]]),
        Timing(f"{label}: full warm build (evidence cached, every page rendered)",
               "KPTRDOC_PAGE_CACHE=0 mkdocs build --strict",
               [w for w, _ in full], [c for _, c in full]),
        Timing(f"{label}: warm build, nothing changed", "mkdocs build --strict",
               [w for w, _ in warm], [c for _, c in warm]),
        Timing(f"{label}: build after one README edit (what make serve does on a save)",
               "mkdocs build --strict", [w for w, _ in edits], [c for _, c in edits]),
    ]  # fmt: skip
    full_median = sorted(w for w, _ in full)[len(full) // 2]
    edit_median = sorted(w for w, _ in edits)[len(edits) // 2]
    return timings, cold[0] / max(cold[1], 1e-9), edit_median / full_median, pages


def run(repeat: int) -> Report:
    report = Report("Contributor loop")
    report.notes.append(machine_note())
    with tempfile.TemporaryDirectory(prefix="kptrdoc-bench-loop-") as tmp:
        work = Path(tmp)
        ours, cold_ours, edit_ours, n_ours = _size(work, "repository", False)
        grown, cold_grown, edit_grown, n_grown = _size(work, "grown", True)
    report.timings = ours + grown
    report.ratios = [
        (f"repository ({n_ours} pages): cold build wall / CPU (target <= 0.7)", cold_ours),
        (f"repository ({n_ours} pages): README edit / full warm build (target <= 0.33)", edit_ours),
        (f"grown ({n_grown} pages): cold build wall / CPU (target <= 0.7)", cold_grown),
        (f"grown ({n_grown} pages): README edit / full warm build (target <= 0.33)", edit_grown),
    ]
    report.notes.append(
        "A warm build renders nothing that is cached: each macro and API page's HTML is kept "
        "by its inputs (`kptrdoc/handler/page_cache.py`); a README edit re-renders that page "
        "and the coverage page; the search index is rebuilt from each unchanged page's kept "
        "entries, without parsing its HTML again. What remains of a warm build is mostly "
        "Material rendering the navigation (every page lists all 180 macros)."
    )
    return report
