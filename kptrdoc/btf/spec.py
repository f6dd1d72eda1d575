"""A parsed BTF blob: types by id, names, decl tags and the usual type walks.

Records are decoded into :mod:`kptrdoc.btf.types` dataclasses on first use
and cached. Every walk over type references is iterative and bounded by
:data:`MAX_DEPTH`, so cyclic or hostile BTF raises :class:`BTFError` instead
of recursing without end.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterator

from kptrdoc.btf import wire
from kptrdoc.btf.decode import Decoder
from kptrdoc.btf.errors import BTFError
from kptrdoc.btf.records import Records
from kptrdoc.btf.strings import StringTable
from kptrdoc.btf.types import (
    QUALIFIERS,
    Array,
    Datasec,
    DeclTag,
    Enum,
    Enum64,
    Float,
    Int,
    Kind,
    Ptr,
    Struct,
    Type,
    Typedef,
    TypeTag,
    Union,
    Var,
)

MAX_DEPTH = 32
"""Longest chain of typedefs/qualifiers/pointers/arrays a walk follows (as libbpf)."""

PTR_SIZE = 8
"""BPF targets are 64-bit."""

_STRIPPED = (Typedef, TypeTag, *QUALIFIERS)
_TAG_CHAIN = (Ptr, TypeTag, *QUALIFIERS)


class TypeList:
    """``spec.types[id]``: the type with that id, ``None`` for 0 (void)."""

    __slots__ = ("_spec",)

    def __init__(self, spec: Spec) -> None:
        self._spec = spec

    def __len__(self) -> int:
        return self._spec.type_count

    def __getitem__(self, type_id: int) -> Type | None:
        if not isinstance(type_id, int) or type_id < 0:
            raise IndexError(type_id)
        if type_id >= self._spec.type_count:
            raise IndexError(type_id)
        return self._spec.type(type_id)

    def __iter__(self) -> Iterator[Type | None]:
        spec = self._spec
        for type_id in range(spec.type_count):
            yield spec.type(type_id)


class Spec(Records):
    """Types of one BTF blob (plus its base for split BTF)."""

    base: Spec | None

    def __init__(
        self,
        *,
        header: wire.Header,
        layout: tuple[wire.KindLayout, ...],
        strings: StringTable,
        type_data: bytes,
        offsets: array,
        kinds: bytearray,
        starts: list[int] | None = None,
        words: array | None = None,
        base: Spec | None = None,
    ) -> None:
        super().__init__(
            header=header,
            layout=layout,
            strings=strings,
            type_data=type_data,
            offsets=offsets,
            kinds=kinds,
            starts=starts,
            words=words,
            base=base,
        )
        # a Spec is given both forms: its lookups read the fields, not the properties
        self._offsets: array = offsets
        self._kinds: bytearray = kinds
        self._decoder = Decoder(header.byte_order, type_data, strings, header.type_start)
        self._cache: list[Type | None] = [None] * len(offsets)
        self._names: dict[int, list[int]] | None = None
        self._decl_tags: dict[int, list[int]] | None = None
        self._record_align_cache: dict[int, int] = {}
        self.types = TypeList(self)

    # -- ids ---------------------------------------------------------------------

    def type(self, type_id: int) -> Type | None:
        """The type with ``type_id``; ``None`` for void (0); ``BTFError`` if there is none."""
        local = type_id - self.first_id
        if local >= 0:
            if local >= len(self._offsets):
                raise BTFError(f"expected a type id below {self.type_count}, found {type_id}")
            found = self._cache[local]
            if found is None:
                found = self._decoder.decode(type_id, self._offsets[local])
                self._cache[local] = found
            return found
        if type_id == 0:
            return None
        if self.base is not None and type_id > 0:
            return self.base.type(type_id)
        raise BTFError(f"expected a type id below {self.type_count}, found {type_id}")

    def kind_of(self, type_id: int) -> Kind:
        """The kind of ``type_id`` without decoding it (``UNKN`` for void)."""
        local = type_id - self.first_id
        if 0 <= local < len(self._kinds):
            raw = self._kinds[local]
            return Kind(raw) if raw <= wire.MAX_KNOWN_KIND else Kind.UNKN
        if type_id == 0:
            return Kind.UNKN
        if self.base is not None and 0 < type_id < self.first_id:
            return self.base.kind_of(type_id)
        raise BTFError(f"expected a type id below {self.type_count}, found {type_id}")

    def raw_kind(self, type_id: int) -> int:
        """The kind number of ``type_id`` as on the wire (0 for void), without decoding."""
        local = type_id - self.first_id
        if 0 <= local < len(self._kinds):
            return self._kinds[local]
        if type_id == 0:
            return 0
        if self.base is not None and 0 < type_id < self.first_id:
            return self.base.raw_kind(type_id)
        raise BTFError(f"expected a type id below {self.type_count}, found {type_id}")

    def name_of(self, type_id: int) -> str:
        """The name of ``type_id`` without decoding the rest of it ("" when anonymous)."""
        if type_id == 0:
            return ""
        return self.strings.get(self.name_offset(type_id))

    def enumerator_names(self, type_id: int) -> list[str]:
        """Names of an ENUM/ENUM64's values without decoding the values."""
        local = type_id - self.first_id
        if local < 0:
            if self.base is None:
                raise BTFError(f"expected a type id below {self.type_count}, found {type_id}")
            return self.base.enumerator_names(type_id)
        kind = self.raw_kind(type_id)
        if kind not in (Kind.ENUM, Kind.ENUM64):
            raise BTFError(f"type {type_id}: expected an ENUM or ENUM64")
        pos = self._offsets[local]
        order = self.header.byte_order
        (info,) = struct.unpack_from(order + "I", self.type_data, pos + 4)
        step = 8 if kind == Kind.ENUM else 12
        get = self.strings.get
        return [
            get(struct.unpack_from(order + "I", self.type_data, pos + 12 + i * step)[0])
            for i in range(info & 0xFFFFFF)
        ]

    def __iter__(self) -> Iterator[Type]:
        """This blob's own types in id order (not the base's)."""
        for type_id in range(self.first_id, self.type_count):
            found = self.type(type_id)
            assert found is not None
            yield found

    def __len__(self) -> int:
        """Number of types this blob defines."""
        return len(self._offsets)

    def name_offset(self, type_id: int) -> int:
        """The raw ``name_off`` of a type: 0 means anonymous."""
        local = type_id - self.first_id
        if 0 <= local < len(self._offsets):
            (off,) = struct.unpack_from(
                self.header.byte_order + "I", self.type_data, self._offsets[local]
            )
            return off
        if self.base is not None and 0 < type_id < self.first_id:
            return self.base.name_offset(type_id)
        raise BTFError(f"expected a type id below {self.type_count}, found {type_id}")

    # -- indexes -------------------------------------------------------------------

    def by_name(self, name: str, kind: type[Type] | None = None) -> list[Type]:
        """Every type called ``name`` (base types first), optionally of one class.

        The index maps name offsets to ids (no string is decoded to build it);
        a lookup finds where ``name`` occurs in the string section.
        """
        found: list[Type] = []
        if self.base is not None:
            found.extend(self.base.by_name(name, kind))
        if not name:
            return found
        if self._names is None:
            self._names = self._build_name_index()
        ids: list[int] = []
        for off in self.strings.offsets_of(name):
            ids.extend(self._names.get(off, ()))
        for type_id in sorted(ids):
            t = self.type(type_id)
            if t is not None and (kind is None or isinstance(t, kind)):
                found.append(t)
        return found

    def _build_name_index(self) -> dict[int, list[int]]:
        index: dict[int, list[int]] = {}
        unpack = struct.Struct(self.header.byte_order + "I").unpack_from
        data = self.type_data
        first = self.first_id
        for local, pos in enumerate(self._offsets):
            (name_off,) = unpack(data, pos)
            if name_off:
                found = index.get(name_off)
                if found is None:
                    index[name_off] = [first + local]
                else:
                    found.append(first + local)
        return index

    def decl_tags_of(self, type_id: int, component_idx: int | None = None) -> list[DeclTag]:
        """Decl tags naming ``type_id`` (all components, or only ``component_idx``)."""
        if self._decl_tags is None:
            self._decl_tags = self._build_decl_tag_index()
        found: list[DeclTag] = []
        if self.base is not None and type_id < self.first_id:
            found.extend(self.base.decl_tags_of(type_id, component_idx))
        for tag_id in self._decl_tags.get(type_id, ()):
            tag = self.type(tag_id)
            assert isinstance(tag, DeclTag)
            if component_idx is None or tag.component_idx == component_idx:
                found.append(tag)
        return found

    def _build_decl_tag_index(self) -> dict[int, list[int]]:
        index: dict[int, list[int]] = {}
        unpack = struct.Struct(self.header.byte_order + "I").unpack_from
        data = self.type_data
        offsets = self._offsets
        start = 0
        kinds = self._kinds
        tag = Kind.DECL_TAG
        while True:
            local = kinds.find(tag, start)
            if local < 0:
                break
            (target,) = unpack(data, offsets[local] + 8)
            index.setdefault(target, []).append(self.first_id + local)
            start = local + 1
        return index

    # -- walks ---------------------------------------------------------------------

    def strip(self, type_id: int) -> int:
        """Skip typedefs, qualifiers and type tags; the id of what is underneath."""
        for _ in range(MAX_DEPTH):
            t = self.type(type_id)
            if not isinstance(t, _STRIPPED):
                return type_id
            type_id = t.type
        raise BTFError(f"type {type_id}: more than {MAX_DEPTH} typedefs/qualifiers (a cycle?)")

    def tag_chain(self, type_id: int) -> list[Type]:
        """Types along PTR/TYPE_TAG/qualifier links from ``type_id``, ending at the first other.

        For a member declared ``struct bpf_cpumask __kptr *``:
        ``[PTR, TYPE_TAG 'kptr', STRUCT bpf_cpumask]``. Void ends the chain
        without an entry.
        """
        chain: list[Type] = []
        for _ in range(MAX_DEPTH):
            t = self.type(type_id)
            if t is None:
                return chain
            chain.append(t)
            if not isinstance(t, _TAG_CHAIN):
                return chain
            type_id = t.type
        raise BTFError(f"type {type_id}: a pointer/tag chain longer than {MAX_DEPTH} (a cycle?)")

    def size_of(self, type_id: int) -> int:
        """Size in bytes, resolving typedefs, qualifiers and arrays (``btf__resolve_size``)."""
        factor = 1
        start = type_id
        for _ in range(MAX_DEPTH):
            t = self.type(type_id)
            if isinstance(t, (Int, Struct, Union, Enum, Enum64, Float, Datasec)):
                return factor * t.size
            if isinstance(t, Ptr):
                return factor * PTR_SIZE
            if isinstance(t, (*_STRIPPED, Var)):
                type_id = t.type
                continue
            if isinstance(t, Array):
                factor *= t.nelems
                type_id = t.type
                continue
            what = "void" if t is None else f"{t.kind_name} '{t.name}'"
            raise BTFError(f"type {start}: {what} has no size")
        raise BTFError(f"type {start}: more than {MAX_DEPTH} links to resolve its size (a cycle?)")

    def align_of(self, type_id: int) -> int:
        """Alignment in bytes (1 for packed records), like ``btf__align_of``."""
        start = type_id
        for _ in range(MAX_DEPTH):
            t = self.type(type_id)
            if isinstance(t, (Int, Enum, Enum64, Float)):
                return max(1, min(t.size, PTR_SIZE))
            if isinstance(t, Ptr):
                return PTR_SIZE
            if isinstance(t, (*_STRIPPED, Var, Array)):
                type_id = t.type
                continue
            if isinstance(t, (Struct, Union)):
                return self._record_align(t)
            what = "void" if t is None else f"{t.kind_name} '{t.name}'"
            raise BTFError(f"type {start}: {what} has no alignment")
        raise BTFError(f"type {start}: more than {MAX_DEPTH} links to resolve alignment (a cycle?)")

    def _record_align(self, record: Struct | Union) -> int:
        """Largest member alignment, or 1 when the layout shows the record is packed.

        Nested records are resolved with an explicit stack, not recursion.
        """
        return self.record_alignments(record.id)[record.id]

    def record_alignments(self, root: int) -> dict[int, int]:
        """Alignment of ``root`` and every record nested in it, iteratively (cached)."""
        done = self._record_align_cache
        if root in done:
            return done
        stack = [root]
        visiting: set[int] = set()
        steps = 0
        while stack:
            steps += 1
            if steps > 1_000_000:
                raise BTFError(f"type {root}: record nesting too large to resolve")
            rid = stack[-1]
            record = self.type(rid)
            assert isinstance(record, (Struct, Union))
            pending = []
            for m in record.members:
                inner = self._element_record(m.type)
                if inner is not None and inner not in done:
                    pending.append(inner)
            if pending:
                if rid in visiting:
                    raise BTFError(f"type {rid}: a record that contains itself")
                visiting.add(rid)
                stack.extend(pending)
                continue
            stack.pop()
            visiting.discard(rid)
            if rid in done:
                continue
            align = 1
            packed = False
            for m in record.members:
                inner = self._element_record(m.type)
                m_align = done[inner] if inner is not None else self.align_of(m.type)
                align = max(align, m_align)
                if m.bitfield_size == 0 and m.bit_offset % (8 * m_align):
                    packed = True
            if record.size % align:
                packed = True
            done[rid] = 1 if packed else align
        return done

    def _element_record(self, type_id: int) -> int | None:
        """The struct/union a member's storage is made of (through arrays), if any."""
        for _ in range(MAX_DEPTH):
            t = self.type(type_id)
            if isinstance(t, (Struct, Union)):
                return type_id
            if isinstance(t, (*_STRIPPED, Array)):
                type_id = t.type
                continue
            return None
        raise BTFError(f"type {type_id}: more than {MAX_DEPTH} links (a cycle?)")
