"""Debian package versions, compared as dpkg compares them.

A version is ``[epoch:]upstream[-revision]``. dpkg compares the epochs as
numbers, then the upstream parts and then the revisions with the same
alternating rule: a run of non-digits is compared character by character,
where ``~`` sorts before everything (even the end of the string) and letters
sort before other characters; then a run of digits is compared as a number.
So ``7.3~rc7-1~exp1`` sorts below ``7.3.4-1``, and ``6.1.176-1`` above
``6.1.99-1``.

Standard library only (the matrix guest and the set-up script import it).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass


class VersionError(ValueError):
    """Not a Debian version."""


@dataclass(frozen=True, slots=True)
class DebianVersion:
    epoch: int
    upstream: str
    revision: str

    @classmethod
    def parse(cls, text: str) -> DebianVersion:
        text = text.strip()
        epoch, sep, rest = text.partition(":")
        if not sep:
            epoch, rest = "0", text
        if not epoch.isdigit():
            raise VersionError(f"bad Debian version {text!r}: the epoch is not a number")
        upstream, dash, revision = rest.rpartition("-")
        if not dash:
            upstream, revision = rest, ""
        if not upstream or not upstream[0].isdigit():
            raise VersionError(f"bad Debian version {text!r}: it must start with a digit")
        return cls(int(epoch), upstream, revision)

    def __str__(self) -> str:
        text = f"{self.epoch}:{self.upstream}" if self.epoch else self.upstream
        return f"{text}-{self.revision}" if self.revision else text

    @property
    def prerelease(self) -> bool:
        """Whether the upstream part marks a pre-release (``7.3~rc7``)."""
        return "~" in self.upstream


def _order(ch: str) -> int:
    if ch == "~":
        return -1
    if ch.isalpha():
        return ord(ch)
    return ord(ch) + 256


def _compare_part(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) and not a[i].isdigit() else 0
            bc = _order(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if ac != bc:
                return -1 if ac < bc else 1
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = (a[i] > b[j]) - (a[i] < b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def compare(a: str | DebianVersion, b: str | DebianVersion) -> int:
    """-1, 0 or 1 as ``dpkg --compare-versions`` orders ``a`` and ``b``."""
    va = a if isinstance(a, DebianVersion) else DebianVersion.parse(a)
    vb = b if isinstance(b, DebianVersion) else DebianVersion.parse(b)
    if va.epoch != vb.epoch:
        return -1 if va.epoch < vb.epoch else 1
    return _compare_part(va.upstream, vb.upstream) or _compare_part(va.revision, vb.revision)


sort_key = functools.cmp_to_key(compare)
"""A ``key=`` for :func:`sorted` over version strings, in dpkg's order."""


def upstream_numbers(version: str) -> tuple[int, ...]:
    """The leading numbers of the upstream part: ``(7, 3)`` for ``7.3~rc7-1~exp1``."""
    upstream = DebianVersion.parse(version).upstream
    match = re.match(r"\d+(?:\.\d+)*", upstream)
    return tuple(int(n) for n in match.group(0).split(".")) if match else ()
