"""Debian versions ordered as dpkg orders them (``dpkg --compare-versions`` is the truth)."""

from __future__ import annotations

import itertools
import shutil
import subprocess

import pytest

from kptrdoc import debversion

VERSIONS = [
    "7.3~rc7-1~exp1", "7.3.4-1", "7.3.4-1~bpo13+1", "7.3.4-1+b1", "6.1.176-1", "6.1.99-1",
    "1:1.1.2-0+deb12u1", "1.7.0-1", "6.12.117-1", "7.2.13-1", "1.0~~a", "1.0~", "1.0", "1.0a",
    "1.0+", "1.0.", "1.0-0", "2", "10", "1:0", "0:10", "1.0-1~", "1.0-a", "6.1.0-50",
]  # fmt: skip


def _dpkg(a: str, b: str) -> int:
    for op, answer in (("lt", -1), ("eq", 0), ("gt", 1)):
        if subprocess.run(["dpkg", "--compare-versions", a, op, b]).returncode == 0:
            return answer
    raise AssertionError(f"dpkg cannot order {a} and {b}")


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg")
def test_order_is_dpkgs() -> None:
    wrong = [
        (a, b, debversion.compare(a, b), _dpkg(a, b))
        for a, b in itertools.combinations(VERSIONS, 2)
        if debversion.compare(a, b) != _dpkg(a, b)
    ]
    assert wrong == []


def test_a_release_candidate_sorts_below_the_release() -> None:
    ordered = sorted(["7.3.4-1", "7.3~rc7-1~exp1", "7.2.13-1"], key=debversion.sort_key)
    assert ordered == ["7.2.13-1", "7.3~rc7-1~exp1", "7.3.4-1"]
    assert debversion.DebianVersion.parse("7.3~rc7-1~exp1").prerelease
    assert not debversion.DebianVersion.parse("7.3.4-1~bpo13+1").prerelease
    assert debversion.upstream_numbers("7.3~rc7-1~exp1") == (7, 3)
    assert debversion.upstream_numbers("1:1.1.2-0+deb12u1") == (1, 1, 2)


def test_bad_versions_are_refused() -> None:
    for bad in ("", "x1.0", "a:1.0", "-1"):
        with pytest.raises(debversion.VersionError):
            debversion.DebianVersion.parse(bad)
