"""Every page's 'since' is the cited fact: the first libbpf release, from its git history."""

from __future__ import annotations

from pathlib import Path

import pytest

from kptrdoc.facts import libbpf_since
from kptrdoc.handler.readme import read_readme

REPO = Path(__file__).resolve().parents[2]
FOLDERS = sorted(p.parent for p in (REPO / "samples").glob("*/README.md"))


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_since_is_the_cited_release(folder: Path) -> None:
    front, _ = read_readme(folder)
    fact = libbpf_since(front.macro)
    if fact is None:  # not a #define of the headers (e.g. an enum): no libbpf release to cite
        return
    assert front.since == fact.since, (
        f"{folder}/README.md: since {front.since}, the history says {fact.since} "
        f"({fact.commit[:12]} {fact.subject!r})"
    )


def test_every_public_macro_is_dated(releases) -> None:
    from kptrdoc.headers import public_macros

    missing = [m.name for m in public_macros() if libbpf_since(m.name) is None]
    assert missing == []
    kptr = libbpf_since("__kptr")
    assert kptr is not None and kptr.since == "v0.8.0" and len(kptr.commit) == 40


def test_the_dated_releases_agree_with_the_debian_headers(releases) -> None:
    """Independent truth for the git-history dates: the libbpf-dev headers of bookworm
    (1.1.2), bookworm-backports (1.4.6) and trixie (1.5.0) and the pinned 1.7.0 define a
    name exactly from its date."""
    from kptrdoc import headers

    assert {"1.1.2", "1.4.6", "1.5.0", "1.7.0"} <= {r.version for r in releases}
    wrong = []
    for macro in headers.public_macros():
        fact = libbpf_since(macro.name)
        assert fact is not None
        try:
            headers.check_since(macro.name, fact.since, headers.history(macro.name), "facts")
        except headers.HeaderError as exc:
            wrong.append(str(exc))
    assert wrong == []
