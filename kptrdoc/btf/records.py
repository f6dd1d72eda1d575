"""A BTF blob as wire records: header, strings and where each record starts.

This is all the raw dump (:mod:`kptrdoc.btf.raw`) reads, and it needs no
type model: ``kptrdoc btf dump`` in the raw format never imports the
dataclasses of :mod:`kptrdoc.btf.types`. :class:`~kptrdoc.btf.spec.Spec`
extends it with types by id, names and walks.
"""

from __future__ import annotations

from array import array

from kptrdoc.btf import wire
from kptrdoc.btf.strings import StringTable


class Records:
    """The records of one BTF blob (plus its base for split BTF).

    Where each record starts is known either as word indexes into :attr:`words`
    (the type section as 32-bit words in the host's byte order; what the fast scan
    of :func:`~kptrdoc.btf.parser.read_records` gives) or as byte offsets; each
    form is derived from the other on first use.
    """

    def __init__(
        self,
        *,
        header: wire.Header,
        layout: tuple[wire.KindLayout, ...],
        strings: StringTable,
        type_data: bytes,
        offsets: array | None = None,
        kinds: bytearray | None = None,
        starts: list[int] | None = None,
        words: array | None = None,
        base: Records | None = None,
    ) -> None:
        if offsets is None and (starts is None or words is None):
            raise ValueError("Records needs the byte offsets or the word starts and words")
        self.header = header
        self.layout = layout
        self.strings = strings
        self.base = base
        self.byte_order: str = header.endian
        """``"little"`` or ``"big"``."""
        self.first_id = base.type_count if base is not None else 1
        """The first type id defined by this blob (1, or after the base's)."""
        self.type_data = type_data
        """The type section: the records, back to back."""
        self._offsets = offsets
        self._kinds = kinds
        self._starts = starts
        self._words = words
        count = len(starts) if starts is not None else len(offsets)  # type: ignore[arg-type]
        self.type_count = self.first_id + count
        """Number of ids including void and the base's types (like ``btf__type_cnt``)."""

    @property
    def offsets(self) -> array:
        """Where each record of this blob starts in :attr:`type_data`, in id order."""
        if self._offsets is None:
            assert self._starts is not None
            self._offsets = array("I", [start << 2 for start in self._starts])
        return self._offsets

    @property
    def kinds(self) -> bytearray:
        """Each record's 7-bit kind, in id order."""
        if self._kinds is None:
            info = map(self.words[1:].__getitem__, self.starts)
            self._kinds = bytearray([word >> 24 & 0x7F for word in info])
        return self._kinds

    @property
    def words(self) -> array:
        """The type section as 32-bit words in the host's byte order (whole words only:
        every record of a blob whose kinds are all known is)."""
        if self._words is None:
            self._words = host_words(self.type_data, self.header.byte_order)
        return self._words

    @property
    def starts(self) -> list[int]:
        """Where each record starts in :attr:`words`, in id order."""
        if self._starts is None:
            self._starts = [off >> 2 for off in self.offsets]
        return self._starts


def host_words(data: bytes, byte_order: str) -> array:
    """``data`` as 32-bit words in the host's byte order (``byte_order``: ``"<"``/``">"``)."""
    import sys

    words = array("I", data)
    if (byte_order == "<") != (sys.byteorder == "little"):
        words.byteswap()
    return words
