"""BTF records as one flat array of 32-bit words, for walks that must be fast.

Every BTF record is a multiple of four bytes long, so the type section of a
blob (and of its base, for split BTF) can be read as ``array('I')`` in the
host's byte order: a record's name offset, info word and size-or-type are
three indexes away from where it starts, and a struct's member types are one
slice with a stride. Nothing is decoded into objects; the C dump
(:mod:`kptrdoc.btf.cdump`) reads only the records it prints.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from itertools import accumulate, compress

from kptrdoc.btf import wire
from kptrdoc.btf.errors import BTFError
from kptrdoc.btf.records import Records

INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF = 1, 2, 3, 4, 5, 6, 7, 8
VOLATILE, CONST, RESTRICT, FUNC, FUNC_PROTO, VAR, DATASEC = 9, 10, 11, 12, 13, 14, 15
FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = 16, 17, 18, 19
RECORDS = frozenset({STRUCT, UNION})
ENUMS = frozenset({ENUM, ENUM64})
NUMBERS = frozenset({INT, FLOAT})

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


class _Column(dict[int, int]):
    """One head field of every record, read on first use of each id: a walk from one
    root reads a few thousand of vmlinux's 126 000 records."""

    __slots__ = ("_read", "_starts")

    def __init__(self, read: Callable[[int], int], starts: list[int]) -> None:
        super().__init__({0: 0})
        self._read = read
        self._starts = starts

    def __missing__(self, type_id: int) -> int:
        value = self._read(self._starts[type_id])
        self[type_id] = value
        return value


Column = list[int] | _Column
"""A per-id field: a list, or (for a lazy view) read on first use."""


class WireView:
    """Every type id (the base's too) as positions into one word array.

    ``kind``, ``name_off``, ``info`` and ``st`` (size or type) are indexed by type
    id; ``at[id]`` is the word index in :attr:`words` of the record's first word
    after its 12-byte head. Id 0 is ``void``: kind 0, no name.

    ``lazy`` reads ``kind``, ``info`` and ``st`` of an id on its first use (for
    walks from a few roots); otherwise they are lists, gathered at once.
    ``name_off`` is always a list: finding a type by name reads all of them.

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
        lazy: bool = False,
    ) -> None:
        chain: list[Records] = []
        blob: Records | None = records
        while blob is not None:
            chain.append(blob)
            blob = blob.base
        chain.reverse()
        for part in chain:
            if len(part.type_data) % 4 or any(
                info % 4 or elem % 4 for info, elem in wire.record_sizes(part.layout).values()
            ):
                raise BTFError("expected records of whole 32-bit words (see the layout section)", 0)
        if len(chain) == 1:
            words = chain[0].words
            starts = chain[0].starts
        else:
            words = array("I")
            starts = []
            for part in chain:
                first = len(words)
                words.extend(part.words)
                starts.extend([first + start for start in part.starts])
        # a record's head is the three words at its start; ``words`` here begins three
        # words in, so that ``words[at[id]]`` is the first word after the head
        self.name_off: list[int] = [0, *map(words.__getitem__, starts)]
        self.at: list[int] = [0, *starts]
        """Where each record's body starts in :attr:`words` (void: 0, never read)."""
        self.info: Column
        self.st: Column
        self.kind: Column
        if lazy:
            info_of = words[1:].__getitem__
            self.info = _Column(info_of, self.at)
            self.st = _Column(words[2:].__getitem__, self.at)
            self.kind = _Column(lambda start: (info_of(start) >> 24) & kind_mask, self.at)
        else:
            self.info = [0, *map(words[1:].__getitem__, starts)]
            self.st = [0, *map(words[2:].__getitem__, starts)]
            self.kind = [(i >> 24) & kind_mask for i in self.info]
        self.words = words[3:]
        self.count = len(self.at)
        """Number of ids, void included (``btf__type_cnt``)."""
        self.vlen_mask = vlen_mask
        self._names: dict[int, str] = {0: ""}
        self._text = [
            (part.strings.base_len, part.strings.total_len, part.strings.text()) for part in chain
        ]
        self.pointer_size = pointer_size or self._long_size() or 8
        """What libbpf takes: the ELF class of an object, else the size of ``long``."""

    def name(self, off: int) -> str:
        """The string at ``off`` (suffix references too)."""
        found = self._names.get(off)
        if found is None:
            found = ""
            for first, end, text in self._text:
                if first <= off < end:
                    local = off - first
                    found = text[local : text.index("\0", local)]
                    if not found.isascii():
                        found = self._utf8(found)
                    break
            self._names[off] = found
        return found

    def all_kinds(self) -> list[int]:
        """``kind`` of every id as a list (a lazy view reads them all now)."""
        if isinstance(self.kind, list):
            return self.kind
        return [self.kind[type_id] for type_id in range(self.count)]

    def read_all_names(self) -> None:
        """Decode the whole string table at once (before a walk that names most types)."""
        names = self._names
        for first, _end, text in self._text:
            parts = text.split("\0")
            offsets = accumulate([len(p) + 1 for p in parts], initial=first)  # latin-1: bytes
            if not text.isascii():
                parts = [p if p.isascii() else self._utf8(p) for p in parts]
            names.update(zip(offsets, parts, strict=False))  # offsets has one more

    def known_names(self) -> dict[int, str]:
        """The names decoded so far, by offset (all of them after :meth:`read_all_names`;
        a suffix reference is not a key: :meth:`name` answers it)."""
        return self._names

    @staticmethod
    def _utf8(latin1: str) -> str:
        return latin1.encode("latin-1").decode("utf-8", "surrogateescape")

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

    def named(self, offsets: set[int], kinds: frozenset[int] | tuple[int, ...]) -> list[int]:
        """Ids of ``kinds`` whose name is at one of ``offsets`` (``StringTable.offsets_of``)."""
        named = compress(range(self.count), map(offsets.__contains__, self.name_off))  # in C
        kind = self.kind
        return [type_id for type_id in named if kind[type_id] in kinds]

    def enumerators(self, type_id: int) -> list[tuple[str, int]]:
        """An ``ENUM``'s or ``ENUM64``'s (name, value) pairs, signed where its kind_flag says."""
        words, a, vlen = self.words, self.at[type_id], self.vlen(type_id)
        signed = self.kflag(type_id)
        out = []
        if self.kind[type_id] == ENUM64:
            for i in range(vlen):
                value = words[a + 3 * i + 2] << 32 | words[a + 3 * i + 1]
                if signed and value >> 63:
                    value -= 1 << 64
                out.append((self.name(words[a + 3 * i]), value))
        else:
            for i in range(vlen):
                value = words[a + 2 * i + 1]
                if signed and value >> 31:
                    value -= 1 << 32
                out.append((self.name(words[a + 2 * i]), value))
        return out

    def enums_with(self, offsets: set[int]) -> list[int]:
        """Ids of the enums with an enumerator whose name is at one of ``offsets``."""
        found = []
        words, at, info, mask = self.words, self.at, self.info, self.vlen_mask
        for type_id, k in enumerate(self.all_kinds()):
            if k in ENUMS:
                step = 3 if k == ENUM64 else 2
                a = at[type_id]
                if not offsets.isdisjoint(words[a : a + step * (info[type_id] & mask) : step]):
                    found.append(type_id)
        return found
