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
    """The records of one BTF blob (plus its base for split BTF)."""

    def __init__(
        self,
        *,
        header: wire.Header,
        layout: tuple[wire.KindLayout, ...],
        strings: StringTable,
        type_data: bytes,
        offsets: array,
        kinds: bytearray,
        base: Records | None = None,
    ) -> None:
        self.header = header
        self.layout = layout
        self.strings = strings
        self.base = base
        self.byte_order: str = header.endian
        """``"little"`` or ``"big"``."""
        self.first_id = base.type_count if base is not None else 1
        """The first type id defined by this blob (1, or after the base's)."""
        self.type_count = self.first_id + len(offsets)
        """Number of ids including void and the base's types (like ``btf__type_cnt``)."""
        self.type_data = type_data
        """The type section: the records, back to back."""
        self.offsets = offsets
        """Where each record of this blob starts in :attr:`type_data`, in id order."""
        self.kinds = kinds
        """Each record's 7-bit kind, in id order."""
