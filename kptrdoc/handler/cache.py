"""The on-disk cache of what a sample contributed to its page.

Keyed by the compiled object (source, headers, clang, flags), the macro, the
running kernel (release and build), the libbpf version and a digest of
kptrdoc's own code, so a warm build reuses verdicts only where nothing that
produced them changed. ``KPTRDOC_SITE_CACHE=0`` turns it off.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kptrdoc import toolchain
from kptrdoc.errors import KptrdocError
from kptrdoc.handler.evidence import Evidence
from kptrdoc.handler.model import ExternView, MapView, SampleView, TagUse

CACHE_VERSION = "2"


@dataclass
class SampleEvidence:
    """Everything one sample contributes to its page (what the on-disk cache holds)."""

    view: SampleView
    tag_uses: list[TagUse]
    maps: list[MapView]
    externs: list[ExternView]
    problems: list[str]
    collected_at: str
    object_path: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    """What the evidence providers found (:mod:`kptrdoc.handler.evidence`)."""


def _code_fingerprint() -> str:
    """A digest of kptrdoc's own code: cached evidence is only reused by the same code."""
    digest = hashlib.sha256(CACHE_VERSION.encode())
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


_FINGERPRINT: list[str] = []


def cache_path(obj_key: str, macro: str, tags: object, load: bool) -> Path:
    """Where the evidence of ``obj_key`` is cached; ``tags``: what the definition emits."""
    if not _FINGERPRINT:
        _FINGERPRINT.append(_code_fingerprint())
    uname = os.uname()
    try:
        libbpf_version = toolchain.libbpf().version
    except KptrdocError:
        libbpf_version = "?"
    parts = [obj_key, macro, repr(tags), str(load), uname.release, uname.version,
             libbpf_version, _FINGERPRINT[0]]  # fmt: skip
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return toolchain.cache_dir() / "site" / f"{key}.pickle"


def cache_enabled() -> bool:
    return os.environ.get("KPTRDOC_SITE_CACHE", "1") not in ("0", "no", "false")


def read_cache(path: Path) -> SampleEvidence | None:
    try:
        with path.open("rb") as handle:
            found = pickle.load(handle)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError):
        return None
    return found if isinstance(found, SampleEvidence) else None


def write_cache(path: Path, evidence: SampleEvidence) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        pickle.dump(evidence, handle)
    os.replace(tmp, path)
