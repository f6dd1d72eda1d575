"""The one error type of the BTF reader."""

from __future__ import annotations

from kptrdoc.errors import KptrdocError


class BTFError(KptrdocError):
    """Bad or truncated BTF: where parsing stopped and what was expected there.

    ``offset`` is the byte offset into the blob being parsed (the ``.BTF`` or
    ``.BTF.ext`` bytes), or ``None`` when the problem is not tied to a byte
    (for example an unknown type id asked for by a caller).
    """

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.offset = offset
        self.reason = message
        text = message if offset is None else f"at byte {offset}: {message}"
        super().__init__(text)
