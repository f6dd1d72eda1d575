"""The page cache (``kptrdoc/handler/page_cache.py``): a rebuilt site is the same site, and an
edited README shows at once."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _tree(root: Path) -> Path:
    for part in ("docs", "kptrdoc", "mkdocstrings_handlers"):
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(REPO / "mkdocs.yml", root / "mkdocs.yml")
    for page in ("__kptr", "bpf_ntohs"):
        shutil.copytree(REPO / "samples" / page, root / "samples" / page)
    shutil.copyfile(REPO / "samples" / "matrix.lock.json", root / "samples" / "matrix.lock.json")
    return root


def _index(site: Path) -> str:
    return (site / "search" / "search_index.json").read_text()


def _build(root: Path, site: Path, cache: str) -> str:
    env = {**os.environ, "KPTRDOC_PAGE_CACHE": cache, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return (site / "macros" / "bpf_ntohs" / "index.html").read_text()


def _stable(html: str) -> str:
    """The page without what differs between two loads of one program: the build's own
    timestamps, the kernel addresses and object-named maps a verifier log prints, the
    verification time, and run counts (a hook on task creation counts every fork)."""
    html = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "DATE", html)
    html = re.sub(r"map=[0-9a-f]{8}\.", "map=OBJECT.", html)  # libbpf names maps by file
    html = re.sub(r"verification time \d+ usec", "verification time", html)
    # other forks count too; the search index escapes the arrow as \u2192
    html = re.sub(r"run count \d+ (?:→|\\u2192) \d+", "run count", html)
    return re.sub(r"0xffff[0-9a-f]{12}", "ADDRESS", html)


def test_cached_pages_are_the_pages_and_an_edit_shows(tmp_path: Path, releases, kernel_access):
    root = _tree(tmp_path / "repo")
    plain = _build(root, tmp_path / "plain", "0")
    first = _build(root, tmp_path / "first", "1")  # renders and stores
    again = _build(root, tmp_path / "again", "1")  # from the cache
    assert first == again  # the cache gives back exactly what it stored
    assert _stable(first) == _stable(plain)  # and that is the page rendered without it
    assert "be16" in again and "What the compiler emits" in again
    # the search index: entries kept per page give the index a full build makes
    assert _stable(_index(tmp_path / "first")) == _stable(_index(tmp_path / "again"))
    assert _stable(_index(tmp_path / "again")) == _stable(_index(tmp_path / "plain"))
    readme = root / "samples" / "bpf_ntohs" / "README.md"
    readme.write_text(readme.read_text().replace("port 80", "port 80 (an edit)"))
    edited = _build(root, tmp_path / "edited", "1")
    assert "port 80 (an edit)" in edited
    assert "port 80 (an edit)" in _index(tmp_path / "edited")


def test_search_entries_are_kept_by_what_the_plugin_reads(tmp_path: Path, monkeypatch) -> None:
    """A page the index has seen is not parsed again; a changed page is."""
    from material.plugins.search.plugin import SearchIndex
    from mkdocs.structure.toc import get_toc

    from kptrdoc.handler import page_cache

    monkeypatch.setattr(page_cache.toolchain, "cache_dir", lambda: tmp_path)
    html = '<h1 id="t">Title</h1><p>body text</p><h2 id="s">Section</h2><p>more</p>'

    class Page:
        def __init__(self, content: str) -> None:
            self.url, self.content, self.title, self.meta = "macros/x/", content, "X", {}
            self.toc = get_toc([{"level": 1, "id": "t", "name": "Title", "children": []}])

    parsed: list[str] = []

    def index() -> SearchIndex:
        made = SearchIndex(fields={})
        original = made.add_entry_from_context
        made.add_entry_from_context = lambda page: (parsed.append(page.url), original(page))[1]
        page_cache._cached_search_entries(made)
        return made

    first, again, changed = index(), index(), index()
    first.add_entry_from_context(Page(html))
    again.add_entry_from_context(Page(html))
    assert parsed == ["macros/x/"] and again.entries == first.entries
    changed.add_entry_from_context(Page(html.replace("more", "other")))
    assert parsed == ["macros/x/"] * 2 and changed.entries != first.entries
