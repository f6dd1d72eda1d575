"""MkDocs hooks: a page's rendered HTML cached by what it is made of.

``mkdocs serve`` rebuilds the whole site on every save; at 180 macro pages
and the Python API reference that is many seconds for one edited sentence.
These hooks keep each macro page's and each API reference page's HTML (and
its table of contents) under ``cache_dir()/pages/``, keyed by its inputs:

- a macro page (``macros/<name>.md``): its generated Markdown (which holds the
  README's prose), every file of ``samples/<name>/``, the matrix record, the
  running kernel's build, the libbpf release, which other pages exist (its
  related links say whether they have one), and kptrdoc's code and templates;
- an API page (``reference/<module>.md``): its Markdown and the module's source.

On a hit the page's Markdown is swapped for a one-line placeholder before
conversion and the cached HTML put back right after it, before any plugin
(search, autorefs) reads the page. Pages whose inputs changed, and the
coverage page (which depends on every folder), are rendered as usual.
The search plugin's entries for a page are kept too, keyed by what it reads of
the page (URL, HTML, table of contents, title), so an unchanged page is not
parsed again to rebuild the index. ``KPTRDOC_PAGE_CACHE=0`` turns both off.

Registered under ``hooks:`` in ``mkdocs.yml``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority

from kptrdoc import toolchain

PLACEHOLDER = "kptrdoc-cached-page"
INCOMPLETE = "data-kptrdoc-incomplete"
"""Marks a page whose evidence could not all be gathered: never cached, so a strict build
after it still fails, and a fixed environment gets a complete page."""
ROOT = Path(__file__).resolve().parents[2]
"""Where ``samples/`` and the API's sources are when the config does not say (the
project's root is the folder of ``mkdocs.yml``)."""


def _enabled() -> bool:
    return os.environ.get("KPTRDOC_PAGE_CACHE", "1") != "0"


@functools.cache
def _code() -> bytes:
    """kptrdoc's code and templates: a page is only reused by the code that made it."""
    digest = hashlib.sha256(b"kptrdoc-page-cache-1")
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".jinja", ".css", ".h", ".json"):
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.digest()


def _environment() -> bytes:
    from kptrdoc.matrix.kernels import host_btf_sha256

    try:
        libbpf = toolchain.libbpf().version
    except Exception:  # no libbpf: the key just says so
        libbpf = "?"
    return f"{host_btf_sha256()}\0{libbpf}".encode()


def _folder_digest(folder: Path) -> bytes:
    from kptrdoc.compile import file_digest

    digest = hashlib.sha256()
    for path in sorted(folder.glob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(file_digest(path))
    record = folder.parent / "matrix.lock.json"
    if record.is_file():
        digest.update(file_digest(record))  # one hash of the record per build, not per page
    return digest.digest()


def _pages(samples: Path) -> str:
    """The names of the pages (sample folders), read once per state of the folder."""
    return _pages_at(samples, samples.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _pages_at(samples: Path, mtime_ns: int) -> str:
    return "\0".join(sorted(p.name for p in samples.iterdir() if (p / "README.md").is_file()))


def folder_key(folder: Path) -> str:
    """What a sample folder's evidence depends on: its files, the record, the kernel
    build, libbpf, kptrdoc's code (for summaries such as the coverage page's rows)."""
    digest = hashlib.sha256(_code())
    digest.update(_folder_digest(folder))
    digest.update(_environment())
    return digest.hexdigest()


def page_key(src_uri: str, markdown: str, docs_root: Path = ROOT) -> str | None:
    """The cache key of a page, or ``None`` for a page that is not cached."""
    parts = Path(src_uri).parts
    digest = hashlib.sha256(_code())
    digest.update(markdown.encode())
    if len(parts) == 2 and parts[0] == "macros" and parts[1] != "index.md":
        folder = docs_root / "samples" / Path(parts[1]).stem
        if not folder.is_dir():
            return None
        digest.update(_folder_digest(folder))
        digest.update(_environment())
        # which other pages exist: the related links and the coverage of names say so
        digest.update(_pages(folder.parent).encode())
        return digest.hexdigest()
    if len(parts) == 2 and parts[0] == "reference" and parts[1] != "index.md":
        module = Path(parts[1]).stem.replace(".", "/")
        # a module's file; a package's every file (it may re-export their names)
        sources = [docs_root / f"{module}.py"]
        if not sources[0].is_file():
            sources = sorted((docs_root / module).rglob("*.py"))
        if not sources or not sources[0].is_file():
            return None
        for source in sources:
            digest.update(source.read_bytes())
        return digest.hexdigest()
    return None


def _path(key: str) -> Path:
    return toolchain.cache_dir() / "pages" / f"{key}.pickle"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if not _enabled():
        return markdown
    root = Path(config.config_file_path).resolve().parent if config.config_file_path else ROOT
    key = page_key(page.file.src_uri, markdown, root)
    if key is None:
        return markdown
    page.meta["kptrdoc_page_key"] = key
    try:
        page.meta["kptrdoc_cached"] = pickle.loads(_path(key).read_bytes())
    except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError):
        return markdown
    return PLACEHOLDER


@event_priority(100)  # before search and autorefs read the page
def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    cached = page.meta.pop("kptrdoc_cached", None)
    key = page.meta.pop("kptrdoc_page_key", None)
    if cached is not None:
        content, toc = cached
        page.toc = toc
        return content
    if key is not None and INCOMPLETE not in html:  # a page with problems is made again
        target = _path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=target.name, dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            pickle.dump((html, page.toc), handle)
        os.replace(tmp, target)
    return html


def _toc_text(items: Any) -> str:
    """A table of contents as text (its objects' own repr names their addresses)."""
    return "".join(f"({item.level} {item.id} {item.url} {item.title!r} {_toc_text(item.children)})"
                   for item in items or ())  # fmt: skip


def _search_key(page: Any) -> str:
    """What the search plugin reads of a page: its URL, HTML, table of contents, title and
    the front matter it looks at."""
    digest = hashlib.sha256(b"kptrdoc-search-1")
    meta = {k: page.meta.get(k) for k in ("search", "tags", "title")}
    for part in (page.url, page.content or "", _toc_text(page.toc), str(page.title), repr(meta)):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _cached_search_entries(index: Any) -> None:
    """Make a search index reuse the entries of a page it has indexed before, by what it
    reads of the page: Material's HTML parsing of every page is a third of a warm build
    that changed one README."""
    original = index.add_entry_from_context

    def add_entry_from_context(page: Any) -> None:
        target = toolchain.cache_dir() / "pages" / f"search-{_search_key(page)}.json"
        try:
            index.entries.extend(json.loads(target.read_text()))
            return
        except (OSError, ValueError):
            pass
        before = len(index.entries)
        original(page)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=target.name, dir=target.parent)
        with os.fdopen(fd, "w") as handle:
            json.dump(index.entries[before:], handle)
        os.replace(tmp, target)

    index.add_entry_from_context = add_entry_from_context
    index.kptrdoc_cached = True


@event_priority(100)  # before the search plugin indexes the page
def on_page_context(context: Any, page: Any, config: Any, nav: Any) -> Any:
    if not _enabled():
        return context
    plugin = config.plugins.get("material/search") or config.plugins.get("search")
    index = getattr(plugin, "search_index", None)
    if index is not None and not getattr(index, "kptrdoc_cached", False):
        _cached_search_entries(index)
    return context
