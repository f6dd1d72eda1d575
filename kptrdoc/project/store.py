"""A page's download, made once per state of its inputs and kept in kptrdoc's cache.

Making the 60 downloads reads every object and renders every loader: seconds that a
warm site build (and each save under ``make serve``) should not pay again. The key is
what the download is made of: the folder's samples (its README only by the macro it
names), the page's address, ``vmlinux.h``, the pinned libbpf, clang, and kptrdoc's own
code, templates and data.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from kptrdoc import toolchain
from kptrdoc.compile import file_digest

SCHEMA = "kptrdoc-download-1"

SITE_URL = "https://kptrdoc.github.io/kptrdoc/"
"""Where the site is published (``site_url`` in mkdocs.yml): a download's README links
back to its page."""


@dataclass(frozen=True, slots=True)
class Download:
    """What a page shows of its download, and the archive."""

    name: str
    stems: tuple[str, ...]
    """The loaders, one per example file."""
    triggers: tuple[str, ...]
    libbpf: str
    """The oldest libbpf release it builds with."""
    bpftool: str | None
    """The libbpf release bpftool must be built with; ``None``: any."""
    archive: bytes


def page_download(folder: Path) -> Download | None:
    """The download of the page of ``folder`` (its macro from the README's front matter)."""
    from kptrdoc.handler.readme import read_readme

    front, _ = read_readme(folder)
    return download(folder, front.macro, f"{SITE_URL}macros/{folder.name}/")


def download(folder: Path, macro: str, page_url: str) -> Download | None:
    """The download of ``folder`` (``None`` when none of its examples runs), from the
    cache when its inputs have not changed."""
    entry = toolchain.cache_dir() / "downloads" / _key(folder, macro, page_url)
    found = _read(entry)
    if found is not None:
        return found or None
    made = _make(folder, macro, page_url)
    _write(entry, made)
    return made


def _make(folder: Path, macro: str, page_url: str) -> Download | None:
    from kptrdoc.project.render import archive, project_files
    from kptrdoc.project.spec import project

    found = project(folder, macro)
    if found is None:
        return None
    data = archive(found, project_files(found, page_url))
    return Download(
        found.name, tuple(f.stem for f in found.files), found.triggers, found.libbpf.release,
        found.bpftool.release if found.bpftool else None, data,
    )  # fmt: skip


def _key(folder: Path, macro: str, page_url: str) -> str:
    digest = hashlib.sha256(SCHEMA.encode())
    for part in (macro, page_url, str(toolchain.vmlinux_h()), toolchain.libbpf().version,
                 toolchain.clang_version(), _code_fingerprint()):  # fmt: skip
        digest.update(part.encode() + b"\0")
    # the README's prose is not part of a download (its macro name is, above): editing it
    # makes none again
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name != "README.md"):
        digest.update(path.name.encode() + b"\0" + file_digest(path))
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """kptrdoc's code, the project templates and the data files a download is made with."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    paths = [*root.rglob("*.py"), *root.glob("project/templates/*"), *root.glob("data/*")]
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + file_digest(path))
    return digest.hexdigest()


def _read(entry: Path) -> Download | bool | None:
    """The cached download; ``False`` for a cached "no download"; ``None`` on a miss."""
    try:
        meta = json.loads((entry / "meta.json").read_text())
        if meta.get("schema") != SCHEMA:
            return None
        if meta.get("none"):
            return False
        return Download(meta["name"], tuple(meta["stems"]), tuple(meta["triggers"]),
                        meta["libbpf"], meta["bpftool"],
                        (entry / "download.tar.gz").read_bytes())  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(entry: Path, made: Download | None) -> None:
    """Keep ``made``; a cache that cannot be written only costs the next build."""
    work = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".new-", dir=entry.parent))
        meta: dict[str, object] = {"schema": SCHEMA, "none": made is None}
        if made is not None:
            (work / "download.tar.gz").write_bytes(made.archive)
            meta.update({k: v for k, v in asdict(made).items() if k != "archive"})
        (work / "meta.json").write_text(json.dumps(meta) + "\n")
        os.replace(work, entry)
    except OSError:  # e.g. another build kept the same entry first
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
