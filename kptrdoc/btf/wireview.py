"""BTF records as one flat array of 32-bit words, for walks that must be fast.

Every BTF record is a multiple of four bytes long, so the type section of a
blob (and of its base, for split BTF) can be read as ``array('I')`` in the
host's byte order: a record's name offset, info word and size-or-type are
three indexes away from where it starts, and a struct's member types are one
slice with a stride. Nothing is decoded into objects; the C dump
(:mod:`kptrdoc.btf.cdump`) reads only the records it prints.
"""

from __future__ import annotations

import sys
from array import array
from itertools import repeat

from kptrdoc.btf.errors import BTFError
from kptrdoc.btf.records import Records

INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF = 1, 2, 3, 4, 5, 6, 7, 8
VOLATILE, CONST, RESTRICT, FUNC, FUNC_PROTO, VAR, DATASEC = 9, 10, 11, 12, 13, 14, 15
FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = 16, 17, 18, 19

LONG_NAMES = frozenset(
    {
        "long",
        "long int",
        "int long",
        "unsigned long",
        "long unsigned",
        "unsigned long int",
        "unsigned int long",
        "long unsigned int",
        "long int unsigned",
        "int unsigned long",
        "int long unsigned",
    }
)
"""The spellings of ``long`` whose size libbpf takes as the pointer size of raw BTF."""


class WireView:
    """Every type id (the base's too) as positions into one word array.

    ``kind``, ``name_off``, ``info`` and ``st`` (size or type) are lists indexed
    by type id; ``at[id]`` is the word index of the record's first word after
    its 12-byte head. Id 0 is ``void``: kind 0, no name.

    ``vlen_mask`` and ``kind_mask`` are how many bits of the info word the
    reader takes (libbpf up to 1.7: 16 and 5).
    """

    def __init__(
        self,
        records: Records,
        *,
        pointer_size: int | None = None,
        vlen_mask: int = 0xFFFF,
        kind_mask: int = 0x1F,
    ) -> None:
        chain: list[Records] = []
        blob: Records | None = records
        while blob is not None:
            chain.append(blob)
            blob = blob.base
        chain.reverse()
        words = array("I")
        names: dict[int, str] = {0: ""}
        starts: list[int] = [0]
        for part in chain:
            if len(part.type_data) % 4:
                raise BTFError("expected a type section of whole 32-bit words", 0)
            base_word = len(words)
            chunk = array("I", part.type_data)
            if (part.byte_order == "little") != (sys.byteorder == "little"):
                chunk.byteswap()
            words.extend(chunk)
            if any(off % 4 for off in part.offsets):
                raise BTFError("expected every type record to start on a 32-bit word", 0)
            starts.extend(base_word + off // 4 for off in part.offsets)
            names.update(part.strings.by_offset())
        self.words = words
        self.count = len(starts)
        """Number of ids, void included (``btf__type_cnt``)."""
        get = words.__getitem__
        self.name_off: list[int] = [0, *map(get, starts[1:])]
        self.info: list[int] = [0, *map(get, (s + 1 for s in starts[1:]))]
        self.st: list[int] = [0, *map(get, (s + 2 for s in starts[1:]))]
        self.at: list[int] = [0, *(s + 3 for s in starts[1:])]
        self.kind: list[int] = [(i >> 24) & kind_mask for i in self.info]
        self.vlen_mask = vlen_mask
        self._names = names
        self._strings = records.strings
        self.pointer_size = pointer_size or self._long_size() or 8
        """What libbpf takes: the ELF class of an object, else the size of ``long``."""

    def name(self, off: int) -> str:
        """The string at ``off`` (suffix references too)."""
        found = self._names.get(off)
        if found is None:
            try:
                found = self._strings.get(off)
            except BTFError:
                found = ""
            self._names[off] = found
        return found

    def vlen(self, type_id: int) -> int:
        return self.info[type_id] & self.vlen_mask

    def kflag(self, type_id: int) -> bool:
        return bool(self.info[type_id] >> 31)

    def _long_size(self) -> int | None:
        kind, st, name = self.kind, self.st, self.name
        for type_id, name_off in enumerate(self.name_off):
            if kind[type_id] == INT and st[type_id] in (4, 8) and name(name_off) in LONG_NAMES:
                return st[type_id]
        return None

    def member_types(self, type_id: int) -> list[int]:
        """The types a record refers to (members, params, elements, variables...)."""
        kind = self.kind[type_id]
        at = self.at[type_id]
        words = self.words
        if kind in (STRUCT, UNION):
            return list(words[at + 1 : at + 3 * self.vlen(type_id) : 3])
        if kind == FUNC_PROTO:
            return [self.st[type_id], *words[at + 1 : at + 2 * self.vlen(type_id) : 2]]
        if kind == DATASEC:
            return list(words[at : at + 3 * self.vlen(type_id) : 3])
        if kind == ARRAY:
            return [words[at], words[at + 1]]
        return [self.st[type_id]]


def heads_of(records: Records) -> list[tuple[int, int, int]]:
    """(name_off, info, size-or-type) of every record of ``records`` itself, in id order."""
    import struct

    head = struct.Struct(records.header.byte_order + "III").unpack_from
    return list(map(head, repeat(records.type_data, len(records.offsets)), records.offsets))
