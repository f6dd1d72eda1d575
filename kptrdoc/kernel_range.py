"""Kernel version ranges of per-kernel expectations (``__msg_on``, ``__failure_on``).

A range is an optional comparison and a version of one to three numbers:
``<6.13``, ``<=6.12``, ``>=7``, ``>6.1``, ``==6.12`` or ``6.12`` (the same as
``==6.12``). A kernel is compared on as many numbers as the range gives, so
``6.12`` holds every 6.12.y and ``<7`` every 6.x.

The tags that carry a range are ``kptrdoc:msg@RANGE=TEXT`` and
``kptrdoc:failure@RANGE``. A range may itself contain ``=`` (``>=7``), so a
tag is split with the range's own grammar, never at the first ``=``.

Standard library only: the matrix and the pytest plugin both use it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

_RANGE = r"(?P<op><=|>=|==|<|>)?(?P<version>\d+(?:\.\d+){0,2})"
_RANGE_RE = re.compile(_RANGE)
_TAG_RE = re.compile(rf"(?P<key>msg|failure)@{_RANGE}(?P<rest>=.*)?", re.S)
_RELEASE_RE = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")


class RangeError(ValueError):
    """A range that is not ``[OP]X[.Y[.Z]]``."""


@dataclass(frozen=True)
class KernelRange:
    op: str
    version: tuple[int, ...]

    @classmethod
    def parse(cls, spec: str) -> KernelRange:
        match = _RANGE_RE.fullmatch(spec.strip())
        if not match:
            raise RangeError(
                f"bad kernel range {spec!r}: expected an optional <, <=, >, >= or == "
                "and a version such as 6.12 (e.g. '<6.13', '>=7', '6.12')"
            )
        version = tuple(int(n) for n in match["version"].split("."))
        return cls(match["op"] or "==", version)

    def contains(self, version: tuple[int, ...]) -> bool:
        have = tuple(version[: len(self.version)])
        want = self.version
        return {
            "<": have < want,
            "<=": have <= want,
            ">": have > want,
            ">=": have >= want,
            "==": have == want,
        }[self.op]

    def __str__(self) -> str:
        return ("" if self.op == "==" else self.op) + ".".join(map(str, self.version))


def in_range(version: tuple[int, ...], spec: str) -> bool:
    """Whether a kernel of upstream ``version`` (``(6, 18, 44)``) is in ``spec``."""
    return KernelRange.parse(spec).contains(version)


def release_version(release: str) -> tuple[int, ...]:
    """``(6, 18, 44)`` from a ``uname -r`` such as ``6.18.44-fc-v657`` or ``7.2.13+deb14-amd64``."""
    match = _RELEASE_RE.match(release.strip())
    if not match:
        raise RangeError(f"cannot read a kernel version from release {release!r}")
    return tuple(int(n) for n in match.groups() if n is not None)


def host_version() -> tuple[int, ...]:
    """The running kernel's upstream version."""
    return release_version(os.uname().release)


@dataclass(frozen=True)
class RangedTag:
    key: str
    """``msg`` or ``failure``."""
    range: str
    text: str | None
    """The message of a ``msg@`` tag; ``None`` for ``failure@``."""


def split_ranged_tag(body: str) -> RangedTag | None:
    """A ``msg@RANGE=TEXT`` or ``failure@RANGE`` tag body (without ``kptrdoc:``).

    ``None`` when ``body`` is neither, or is malformed: a ``msg@`` without
    ``=TEXT``, a ``failure@`` with one, or a range outside the grammar.
    """
    match = _TAG_RE.fullmatch(body)
    if not match:
        return None
    rest = match["rest"]
    spec = (match["op"] or "") + match["version"]
    if match["key"] == "msg":
        return None if rest is None else RangedTag("msg", spec, rest[1:])
    return RangedTag("failure", spec, None) if rest is None else None
