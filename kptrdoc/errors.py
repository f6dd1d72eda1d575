"""The error types kptrdoc raises for bad input or a missing piece of the toolchain.

Every error is a :class:`KptrdocError`; the CLI prints its message on one line
and exits 1. Each message names the file (and, where it applies, the byte
offset) and what was wrong.
"""

from __future__ import annotations


class KptrdocError(Exception):
    """Base class of every error kptrdoc reports to a user."""
