"""A ``vmlinux.h`` exactly as ``bpftool btf dump file F format c`` prints it.

bpftool prints C through libbpf's BTF-to-C dumper. This module follows the
same rules, read from libbpf's ``btf_dump.c`` and bpftool's ``btf.c`` and
checked against both tools at test time; the code is kptrdoc's own:

Ordering
    Each type asked for is placed after everything it needs, depth first. A
    need is *strong* when the type is embedded by value (or reached through
    an anonymous record, which C writes inline) and *weak* when a pointer to
    a named record is enough: then a forward declaration
    (``struct foo;``) is printed where the record would otherwise come too
    late. Typedefs behave like records. Integers and ``void`` are always
    there. A record that contains itself by value is an error (bpftool:
    "unsatisfiable type cycle").

Names
    Records, unions and enums share one namespace, typedefs and enumerators
    another. The second type to claim a name gets ``name___2``, the third
    ``name___3``, in the order the dump reaches them. Forward declarations
    and empty enums keep their name.

Layout
    Each member is placed at its BTF bit offset. Where the natural alignment
    of C would not put it there, unnamed bitfields (``long: 64;``) fill the
    gap, and a record whose members cannot all be naturally aligned is
    ``__attribute__((packed))``. Enums of one or eight bytes get
    ``mode(byte)``/``mode(word)`` where the bpftool build does that
    (:class:`~kptrdoc.btf.bpftool_compat.CDialect`).

bpftool adds the ``#ifndef __VMLINUX_H__`` guard, the ``preserve_access_index``
pragma and, from 7.5, sorts the types first (by a rank of their kind, then by
name) and appends the kfunc prototypes (``extern ... __weak __ksym;``).

Speed: the records stay a flat word array (:class:`~kptrdoc.btf.wireview.WireView`);
only what is printed is read, and alignment and sizes are computed once per type.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from itertools import compress, groupby
from typing import TYPE_CHECKING

from kptrdoc.btf.bpftool_compat import C_NEWEST, CDialect
from kptrdoc.btf.errors import BTFError
from kptrdoc.btf.wireview import (
    ARRAY,
    CONST,
    DATASEC,
    DECL_TAG,
    ENUM,
    ENUM64,
    ENUMS,
    FLOAT,
    FUNC,
    FUNC_PROTO,
    FWD,
    INT,
    NUMBERS,
    PTR,
    RECORDS,
    RESTRICT,
    STRUCT,
    TYPE_TAG,
    TYPEDEF,
    UNION,
    VAR,
    VOLATILE,
    WireView,
)

if TYPE_CHECKING:
    from kptrdoc.btf.records import Records
    from kptrdoc.btf.strings import StringTable

MAX_TABS = 13
"""libbpf indents at most this many tabs deep."""

_MODS_AND_TAG = frozenset({VOLATILE, CONST, RESTRICT, TYPE_TAG})
_WITH_TYPE = frozenset({PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, VAR, DECL_TAG, TYPE_TAG})
_CHAIN_THROUGH = frozenset({PTR, VOLATILE, CONST, RESTRICT, FUNC_PROTO, TYPE_TAG})
_ENUMS_AND_FWD = frozenset({ENUM, ENUM64, FWD})
_NEVER_QUEUED = frozenset({INT, FLOAT, FUNC, VAR, DATASEC, DECL_TAG})
"""Kinds that ordering marks done without queuing anything: dumped, they print nothing."""
_PROTOS = frozenset({FUNC_PROTO})
_SECTIONS = frozenset({DATASEC})
_ARRAYS = frozenset({ARRAY})
_KNOWN_KINDS = frozenset(range(1, 20))
_FOLLOWED = frozenset({PTR, ARRAY, VOLATILE, CONST, RESTRICT, TYPE_TAG})
_NOT_ORDERED = frozenset({FUNC, VAR, DATASEC, DECL_TAG})
_SIZED_SCALARS = frozenset({INT, ENUM, ENUM64, FLOAT})
_HAS_SIZE = frozenset({INT, STRUCT, UNION, ENUM, ENUM64, DATASEC, FLOAT})
_SIZE_THROUGH = frozenset({TYPEDEF, VOLATILE, CONST, RESTRICT, VAR, DECL_TAG, TYPE_TAG})
_SORT_THROUGH = frozenset({TYPE_TAG, CONST, PTR, VOLATILE, RESTRICT, TYPEDEF, DECL_TAG})

# ordering and emitting states, one byte per type id
_NOT_DONE, _IN_PROGRESS, _DONE = 0, 1, 2

_MISSING_BASE_TYPES = {
    "__Poly8_t": "unsigned char",
    "__Poly16_t": "unsigned short",
    "__Poly64_t": "unsigned long long",
    "__Poly128_t": "unsigned __int128",
}
"""Typedefs GCC's Arm SIMD types need, printed before an ``INT`` of that name."""

_U64 = (1 << 64) - 1


def _tabs(level: int) -> str:
    return "\t" * min(level, MAX_TABS)


class CDumper:
    """libbpf's ``btf_dump`` over one BTF: :meth:`dump_types` any ids, then :meth:`text`.

    State carries over between calls as in libbpf: a type printed for one
    root is not printed again for the next.
    """

    def __init__(self, view: WireView, dialect: CDialect = C_NEWEST) -> None:
        self.v = view
        self.dialect = dialect
        n = view.count
        self._order = bytearray(n)
        self._emit = bytearray(n)
        self._fwd_done = bytearray(n)
        self._order[0] = _DONE
        self._emit[0] = _DONE
        self._referenced: set[int] | None = None
        self._resolved: dict[int, str] = {}
        self._type_names: dict[str, int] = {}
        self._ident_names: dict[str, int] = {}
        self._align: dict[int, int] = {}
        self._size: dict[int, int] = {}
        self._layouts: dict[int, tuple[int, bool]] = {}
        self._queue: list[int] = []
        self._decl_prefix: dict[int, str] = {}
        self.out: list[str] = []
        # the walks read these on every step: one attribute lookup instead of two
        self._kind, self._st, self._name_off = view.kind, view.st, view.name_off
        self._info, self._at, self._words = view.info, view.at, view.words
        self._vlen_mask = view.vlen_mask

    # -- the two passes ---------------------------------------------------------

    def dump_types(self, type_ids: Iterable[int]) -> None:
        """Print each id in turn with everything it needs that was not printed yet
        (libbpf's ``btf_dump__dump_type``; ids that print nothing are passed over
        without a call)."""
        order, kind = self._order, self._kind
        order_type, emit_type = self._order_type, self._emit_type
        type_id = 0
        try:
            for type_id in type_ids:
                if order[type_id] == _DONE:
                    continue
                if kind[type_id] in _NEVER_QUEUED:  # placed, nothing to print
                    order[type_id] = _DONE
                    continue
                queue = self._queue = []
                order_type(type_id, False, False)
                for queued in queue:
                    emit_type(queued, 0)
        except IndexError:
            raise BTFError(
                f"a type reachable from [{type_id}] refers to a missing type id"
            ) from None
        except RecursionError:
            raise BTFError(
                f"the types reachable from [{type_id}] nest too deeply to print"
            ) from None

    def text(self) -> str:
        return "".join(self.out)

    def ordered(self, type_id: int) -> bool:
        """Whether dumping ``type_id`` now changes nothing: it was placed already, or it
        qualifies, tags or is an array of something placed already."""
        v = self.v
        kind, order = v.kind, self._order
        for _ in range(64):
            if order[type_id] == _DONE:
                return True
            k = kind[type_id]
            if k in _MODS_AND_TAG:
                type_id = v.st[type_id]
            elif k == ARRAY:
                type_id = v.words[v.at[type_id]]
            else:
                return False
        return False

    @property
    def names(self) -> dict[int, str]:
        """Type id -> the name printed for it (``foo___2`` for a second ``foo``), for
        every named type printed so far."""
        return dict(self._resolved)

    def referenced(self, type_id: int) -> bool:
        """Whether another type refers to ``type_id`` (a function's return type does not
        count), as libbpf marks it; all the marks are made on the first question."""
        ref = self._referenced
        if ref is None:
            ref = self._referenced = self._mark_referenced()
        return type_id in ref

    def _mark_referenced(self) -> set[int]:
        """Every id another type refers to (libbpf's ``btf_dump_mark_referenced``)."""
        v = self.v
        words, at, st, info = v.words, v.at, v.st, v.info
        kind = v.all_kinds()
        mask = v.vlen_mask
        unknown = set(kind[1:]) - _KNOWN_KINDS
        if unknown:
            type_id = kind.index(min(unknown), 1)
            raise BTFError(f"[{type_id}]: kind {kind[type_id]} is not one the C dump can print")

        def of_kind(kinds: frozenset[int]) -> Iterator[int]:
            return compress(range(v.count), map(kinds.__contains__, kind))

        ref = {st[type_id] for type_id in of_kind(_WITH_TYPE)}
        update = ref.update
        for type_id in of_kind(RECORDS):
            a = at[type_id]
            update(words[a + 1 : a + 3 * (info[type_id] & mask) : 3])
        for type_id in of_kind(_PROTOS):
            a = at[type_id]
            update(words[a + 1 : a + 2 * (info[type_id] & mask) : 2])
        for type_id in of_kind(_SECTIONS):
            a = at[type_id]
            update(words[a : a + 3 * (info[type_id] & mask) : 3])
        for type_id in of_kind(_ARRAYS):
            a = at[type_id]
            update(words[a : a + 2])
        return ref

    def _order_type(self, type_id: int, through_ptr: bool, referenced: bool = True) -> int:
        """Queue what ``type_id`` needs, then it; 1 when the link to it is strong.

        ``referenced``: reached from a type that refers to it (libbpf's "referenced"
        mark, which a function's return type does not set). Only a root, or a
        return type, has to ask whether any other type refers to it.
        """
        order = self._order
        state = order[type_id]
        if state == _DONE:
            return 1
        kind = self._kind[type_id]
        if state == _IN_PROGRESS:
            if kind in RECORDS and through_ptr and self._name_off[type_id]:
                return 0
            raise BTFError(f"unsatisfiable type cycle, id:[{type_id}]")
        if kind == PTR:
            target = self._st[type_id]
            strong = 1 if order[target] == _DONE else self._order_type(target, True)
            order[type_id] = _DONE
            return strong
        if kind in RECORDS:
            named = self._name_off[type_id] != 0
            if through_ptr and named:
                return 0
            order[type_id] = _IN_PROGRESS
            a = self._at[type_id]
            for member in self._words[a + 1 : a + 3 * (self._info[type_id] & self._vlen_mask) : 3]:
                if order[member] != _DONE:
                    self._order_type(member, False)
            if named:
                self._queue.append(type_id)
            order[type_id] = _DONE
            return 1
        if kind == TYPEDEF:
            strong = self._order_type(self._st[type_id], through_ptr)
            if through_ptr and not strong:
                return 0
            self._queue.append(type_id)
            order[type_id] = _DONE
            return 1
        if kind in _MODS_AND_TAG:
            return self._order_type(self._st[type_id], through_ptr)
        if kind == FUNC_PROTO:
            ret = self._st[type_id]
            strong = 1 if order[ret] == _DONE else self._order_type(ret, through_ptr, False)
            a = self._at[type_id]
            for param in self._words[a + 1 : a + 2 * (self._info[type_id] & self._vlen_mask) : 2]:
                if order[param] == _DONE or self._order_type(param, through_ptr):
                    strong = 1
            return strong
        if kind in NUMBERS or kind in _NOT_ORDERED:
            order[type_id] = _DONE
            return 0
        if kind == ARRAY:
            return self._order_type(self._words[self._at[type_id]], False)
        if kind in _ENUMS_AND_FWD:
            if self._name_off[type_id] or not (referenced or self.referenced(type_id)):
                self._queue.append(type_id)
            order[type_id] = _DONE
            return 1
        raise BTFError(f"[{type_id}]: kind {kind} is not one the C dump can print")

    def _emit_type(self, type_id: int, container: int) -> None:
        """Print the definitions ``type_id`` needs at top level (``container`` 0)."""
        emit = self._emit
        state = emit[type_id]
        if state == _DONE:
            return
        v = self.v
        kind = v.kind[type_id]
        out = self.out
        if state == _IN_PROGRESS:
            if self._fwd_done[type_id]:
                return
            if kind in RECORDS:
                if type_id == container or v.name_off[type_id] == 0:
                    return
                out.append(self._record_fwd(type_id))
                out.append(";\n\n")
                self._fwd_done[type_id] = 1
            elif kind == TYPEDEF:
                if not self._blacklisted(type_id):
                    self._typedef_def(type_id, 0)
                    out.append(";\n\n")
                self._fwd_done[type_id] = 1
            return
        if kind == INT:
            name = self._type_name(type_id)
            alias = _MISSING_BASE_TYPES.get(name)
            if alias is not None:
                out.append(f"typedef {alias} {name};\n\n")
            emit[type_id] = _DONE
        elif kind in ENUMS:
            if container == 0:
                self._enum_def(type_id, 0)
                out.append(";\n\n")
            emit[type_id] = _DONE
        elif kind in _FOLLOWED:
            target = v.words[v.at[type_id]] if kind == ARRAY else v.st[type_id]
            self._emit_type(target, container)
            if emit[target] == _DONE:  # libbpf keeps no state for these: nothing is left
                emit[type_id] = _DONE
        elif kind == FWD:
            out.append(self._fwd_def(type_id))
            out.append(";\n\n")
            emit[type_id] = _DONE
        elif kind == TYPEDEF:
            emit[type_id] = _IN_PROGRESS
            self._emit_type(v.st[type_id], type_id)
            if not self._fwd_done[type_id] and not self._blacklisted(type_id):
                self._typedef_def(type_id, 0)
                out.append(";\n\n")
            emit[type_id] = _DONE
        elif kind in RECORDS:
            emit[type_id] = _IN_PROGRESS
            named = v.name_off[type_id] != 0
            if container == 0 or not named:
                inner = type_id if named else container
                a = v.at[type_id]
                for member in v.words[a + 1 : a + 3 * v.vlen(type_id) : 3]:
                    if emit[member] != _DONE:
                        self._emit_type(member, inner)
            elif not self._fwd_done[type_id] and type_id != container:
                out.append(self._record_fwd(type_id))
                out.append(";\n\n")
                self._fwd_done[type_id] = 1
            if container == 0:
                self._struct_def(type_id, 0)
                out.append(";\n\n")
                emit[type_id] = _DONE
            else:
                emit[type_id] = _NOT_DONE
        elif kind == FUNC_PROTO:
            self._emit_type(v.st[type_id], container)
            a = v.at[type_id]
            for param in v.words[a + 1 : a + 2 * v.vlen(type_id) : 2]:
                self._emit_type(param, container)

    # -- names --------------------------------------------------------------------

    def _resolve(self, type_id: int, names: dict[str, int]) -> str:
        found = self._resolved.get(type_id)
        if found is not None:
            return found
        v = self.v
        name_off = v.name_off[type_id]
        if name_off == 0:
            return ""
        name = v.name(name_off)
        kind = v.kind[type_id]
        if not (kind == FWD or (kind == ENUM and v.vlen(type_id) == 0)):
            count = names.get(name, 0) + 1
            names[name] = count
            if count > 1:
                name = f"{name}___{count}"
        self._resolved[type_id] = name
        return name

    def _type_name(self, type_id: int) -> str:
        return self._resolve(type_id, self._type_names)

    def _ident_name(self, type_id: int) -> str:
        return self._resolve(type_id, self._ident_names)

    def _blacklisted(self, type_id: int) -> bool:
        name_off = self.v.name_off[type_id]
        return name_off != 0 and self.v.name(name_off) == "__builtin_va_list"

    # -- sizes and alignment (btf__align_of, btf__resolve_size) -------------------

    def align_of(self, type_id: int) -> int:
        found = self._align.get(type_id)
        if found is not None:
            return found
        v = self.v
        kind = v.kind[type_id]
        if kind in _SIZED_SCALARS:
            align = min(v.pointer_size, v.st[type_id])
        elif kind == PTR:
            align = v.pointer_size
        elif kind == TYPEDEF or kind in _MODS_AND_TAG:
            align = self.align_of(v.st[type_id])
        elif kind == ARRAY:
            align = self.align_of(v.words[v.at[type_id]])
        elif kind in RECORDS:
            align = self._record_layout(type_id)[0]
        else:
            align = 0
        self._align[type_id] = align
        return align

    def _record_layout(self, type_id: int) -> tuple[int, bool]:
        """A struct's or union's ``btf__align_of`` and whether it prints as packed, from
        one walk over its members' alignment.

        libbpf asks twice: ``btf__align_of`` stops at the first member with no
        alignment (0) or at the first misaligned one (1); the packed test skips the
        former and stops at the latter. Either falls back to the size against the
        largest member alignment.
        """
        found = self._layouts.get(type_id)
        if found is not None:
            return found
        v = self.v
        words, a, vlen = v.words, v.at[type_id], v.vlen(type_id)
        bitfields = v.kflag(type_id)
        aligns = self._align
        best = 1
        align_of: int | None = None
        packed = False
        for i in range(vlen):
            m_type, m_off = words[a + 3 * i + 1], words[a + 3 * i + 2]
            align = aligns.get(m_type)
            if align is None:
                align = self.align_of(m_type)
            misaligned = align > 0 and m_off % (8 * align) != 0 and not (bitfields and m_off >> 24)
            if align_of is None and (align <= 0 or misaligned):
                align_of = 0 if align <= 0 else 1
            if misaligned:
                packed = True
                break
            if align > best:
                best = align
        size = v.st[type_id]
        if align_of is None:
            align_of = 1 if size % best else best
        found = (align_of, packed or size % best != 0)
        self._layouts[type_id] = found
        return found

    def resolve_size(self, type_id: int) -> int:
        """``btf__resolve_size``, or -1 where libbpf gives an error."""
        found = self._size.get(type_id)
        if found is not None:
            return found
        v = self.v
        nelems = 1
        size = -1
        current = type_id
        for _ in range(32):
            if current == 0:
                break
            kind = v.kind[current]
            if kind in _HAS_SIZE:
                size = v.st[current]
                break
            if kind == PTR:
                size = v.pointer_size
                break
            if kind in _SIZE_THROUGH:
                current = v.st[current]
            elif kind == ARRAY:
                a = v.at[current]
                count = v.words[a + 2]
                if nelems and count > 0xFFFFFFFF // nelems:
                    size = -1
                    break
                nelems *= count
                current = v.words[a]
            else:
                break
        if size >= 0 and nelems and size > 0xFFFFFFFF // nelems:
            size = -1
        result = nelems * size if size >= 0 else -1
        self._size[type_id] = result
        return result

    # -- definitions --------------------------------------------------------------

    def _record_fwd(self, type_id: int) -> str:
        v = self.v
        keyword = "struct" if v.kind[type_id] == STRUCT else "union"
        return f"{keyword}{' ' if v.name_off[type_id] else ''}{self._type_name(type_id)}"

    def _fwd_def(self, type_id: int) -> str:
        keyword = "union" if self.v.kflag(type_id) else "struct"
        return f"{keyword} {self._type_name(type_id)}"

    def _struct_def(self, type_id: int, level: int) -> None:
        v = self.v
        out = self.out
        is_struct = v.kind[type_id] == STRUCT
        size = v.st[type_id]
        vlen = v.vlen(type_id)
        bitfields = v.kflag(type_id)
        align = self.align_of(type_id)
        packed = is_struct and self._record_layout(type_id)[1]
        keyword = "struct" if is_struct else "union"
        out.append(f"{keyword}{' ' if v.name_off[type_id] else ''}{self._type_name(type_id)} {{")
        inner = _tabs(level + 1)
        words, a = v.words, v.at[type_id]
        name = v.name
        known = v.known_names()
        sizes = self._size
        decl_prefix = self._decl_prefix
        off = 0
        prev_bitfield = False
        end = a + 3 * vlen
        for m_name, m_type, m_raw in zip(
            words[a:end:3], words[a + 1 : end : 3], words[a + 2 : end : 3], strict=True
        ):
            if bitfields:
                m_bits, m_off = m_raw >> 24, m_raw & 0xFFFFFF
            else:
                m_bits, m_off = 0, m_raw
            if off < m_off:
                m_align = 1 if packed else self.align_of(m_type)
                self._padding(off, m_off, m_align, prev_bitfield and m_bits != 0, level + 1)
            field = known.get(m_name)
            if field is None:
                field = name(m_name)
            prefix = decl_prefix.get(m_type)
            if prefix is None:
                prefix = self._simple_decl(m_type)
            if prefix:  # emit_decl's straight case, on the member's one line
                decl = f"{prefix}{field}" if prefix[-1] == "*" or field else prefix[:-1]
                out.append(f"\n{inner}{decl}: {m_bits};" if m_bits else f"\n{inner}{decl};")
            else:
                out.append(f"\n{inner}")
                self.emit_decl(m_type, field, level + 1)
                out.append(f": {m_bits};" if m_bits else ";")
            if m_bits:
                off = m_off + m_bits
                prev_bitfield = True
            else:
                m_size = sizes.get(m_type)
                if m_size is None:
                    m_size = self.resolve_size(m_type)
                off = m_off + m_size * 8 if m_size > 0 else m_off
                prev_bitfield = False
        if is_struct:
            self._padding(off, size * 8, align, False, level + 1)
        out.append(f"\n{_tabs(level)}}}" if vlen or size else "}")
        if packed:
            out.append(" __attribute__((packed))")

    def _padding(self, cur: int, nxt: int, nxt_align: int, in_bitfield: bool, level: int) -> None:
        """Unnamed bitfields from bit ``cur`` to ``nxt``, the largest aligned unit first."""
        if cur >= nxt:
            return
        pads = (("long", self.v.pointer_size * 8), ("int", 32), ("short", 16), ("char", 8))
        tabs = _tabs(level)
        out = self.out
        new = pad_bits = 0
        pad_type = ""
        for unit_type, unit_bits in pads:
            pad_type, pad_bits = unit_type, unit_bits
            new = -(-cur // pad_bits) * pad_bits
            if new <= nxt:
                break
        if cur < new <= nxt:
            if (
                in_bitfield
                or (new == nxt and -(-cur // (nxt_align * 8)) * nxt_align * 8 != new)
                or (new != nxt and nxt - new <= new - cur)
            ):
                out.append(f"\n{tabs}{pad_type}: {new - cur if in_bitfield else 0};")
            cur = new
        while cur != nxt:
            bits = min(nxt - cur, pad_bits)
            if bits == pad_bits:
                out.append(f"\n{tabs}{pad_type}: {pad_bits};")
                cur += bits
                continue
            for pad_type, pad_bits in reversed(pads):
                if pad_bits >= bits:
                    out.append(f"\n{tabs}{pad_type}: {bits};")
                    cur += bits
                    break

    def _enum_def(self, type_id: int, level: int) -> None:
        v = self.v
        out = self.out
        vlen = v.vlen(type_id)
        named = v.name_off[type_id] != 0
        out.append(f"enum{' ' if named else ''}{self._type_name(type_id)}")
        if not vlen:
            return
        out.append(" {")
        inner = _tabs(level + 1)
        idents = self._ident_names
        is_enum64 = v.kind[type_id] == ENUM64
        suffix = ("LL" if v.kflag(type_id) else "ULL") if is_enum64 else ""
        upper_zero = True
        for name, value in v.enumerators(type_id):
            count = idents.get(name, 0) + 1
            idents[name] = count
            if count > 1:
                name = f"{name}___{count}"
            out.append(f"\n{inner}{name} = {value}{suffix},")
            upper_zero = upper_zero and value >> 32 == 0
        out.append(f"\n{_tabs(level)}}}")
        if self.dialect.enum_size_modes:
            size = v.st[type_id]
            if size == 1:
                out.append(" __attribute__((mode(byte)))")
            elif size == 8 and v.pointer_size == 8 and (not is_enum64 or upper_zero):
                out.append(" __attribute__((mode(word)))")

    def _typedef_def(self, type_id: int, level: int) -> None:
        name = self._ident_name(type_id)
        target = self.v.st[type_id]
        if target == 0 and name == "__gnuc_va_list":
            self.out.append("typedef __builtin_va_list __gnuc_va_list")
            return
        self.out.append("typedef ")
        self.emit_decl(target, name, level)

    # -- declarators ----------------------------------------------------------------

    def emit_decl(self, type_id: int, field: str, level: int) -> None:
        """``btf_dump__emit_type_decl``: the C declaration of ``field`` of type ``type_id``."""
        # the common shapes, printed straight: a named type, or pointers to one. Their
        # text is kept once the names in it are resolved (a resolved name never changes)
        prefix = self._decl_prefix.get(type_id)
        if prefix is None:
            prefix = self._simple_decl(type_id)
        if prefix:
            self.out.append(f"{prefix}{field}" if prefix[-1] == "*" or field else prefix[:-1])
            return
        v = self.v
        kind = v.kind
        stack: list[int] = []
        current = type_id
        while True:
            stack.append(current)
            if current == 0:
                break
            k = kind[current]
            if k in _CHAIN_THROUGH:
                current = v.st[current]
            elif k == ARRAY:
                current = v.words[v.at[current]]
            else:
                break
        self._emit_chain(stack, field, level)

    def _simple_decl(self, type_id: int) -> str:
        """``"int "``, ``"struct foo **"``: what goes before the field name, for a named
        type or pointers to one; ``""`` for every other shape."""
        v = self.v
        kind = v.kind
        base = type_id
        pointers = 0
        while base and kind[base] == PTR:
            base = v.st[base]
            pointers += 1
        k = kind[base]
        text = ""
        if base == 0:
            text = "void" if pointers else ""
        elif k == TYPEDEF:
            text = self._ident_name(base)
        elif k in NUMBERS:
            text = v.name(v.name_off[base])
        elif v.name_off[base]:
            if k in RECORDS:
                text = self._record_fwd(base)
            elif k in ENUMS:
                text = f"enum {self._type_name(base)}"
            elif k == FWD:
                text = self._fwd_def(base)
        prefix = f"{text} {'*' * pointers}" if text else ""
        self._decl_prefix[type_id] = prefix
        return prefix

    def _pop_mods(self, stack: list[int]) -> None:
        kind = self.v.kind
        out = self.out
        while stack:
            k = kind[stack[-1]]
            if k == VOLATILE:
                out.append("volatile ")
            elif k == CONST:
                out.append("const ")
            elif k == RESTRICT:
                out.append("restrict ")
            else:
                return
            stack.pop()

    def _emit_chain(self, stack: list[int], field: str, level: int) -> None:
        v = self.v
        out = self.out
        kind = v.kind
        last_was_ptr = True
        while stack:
            type_id = stack.pop()
            if type_id == 0:
                self._pop_mods(stack)
                out.append("void")
                last_was_ptr = False
                continue
            k = kind[type_id]
            if k == PTR:
                out.append("*" if last_was_ptr else " *")
            elif k in NUMBERS:
                self._pop_mods(stack)
                out.append(v.name(v.name_off[type_id]))
            elif k == TYPEDEF:
                self._pop_mods(stack)
                out.append(self._ident_name(type_id))
            elif k in RECORDS:
                self._pop_mods(stack)
                if v.name_off[type_id] == 0:
                    self._struct_def(type_id, level)
                else:
                    out.append(self._record_fwd(type_id))
            elif k in ENUMS:
                self._pop_mods(stack)
                if v.name_off[type_id] == 0:
                    self._enum_def(type_id, level)
                else:
                    out.append(f"enum {self._type_name(type_id)}")
            elif k == FWD:
                self._pop_mods(stack)
                out.append(self._fwd_def(type_id))
            elif k == CONST:
                out.append(" const")
            elif k == VOLATILE:
                out.append(" volatile")
            elif k == RESTRICT:
                out.append(" restrict")
            elif k == TYPE_TAG:
                self._pop_mods(stack)
                out.append(f' __attribute__((btf_type_tag("{v.name(v.name_off[type_id])}")))')
            elif k == ARRAY:
                nelems = v.words[v.at[type_id] + 2]
                while stack and kind[stack[-1]] in _MODS_AND_TAG:
                    stack.pop()
                if not stack:
                    self._emit_name(field, last_was_ptr)
                    out.append(f"[{nelems}]")
                    return
                multidim = kind[stack[-1]] == ARRAY
                if field and not last_was_ptr:
                    out.append(" ")
                if not multidim:
                    out.append("(")
                self._emit_chain(stack, field, level)
                if not multidim:
                    out.append(")")
                out.append(f"[{nelems}]")
                return
            elif k == FUNC_PROTO:
                while stack and kind[stack[-1]] in _MODS_AND_TAG:
                    stack.pop()
                if stack:
                    out.append(" (")
                    self._emit_chain(stack, field, level)
                    out.append(")")
                else:
                    self._emit_name(field, last_was_ptr)
                self._params(type_id, level)
                return
            else:
                return
            last_was_ptr = k == PTR
        self._emit_name(field, last_was_ptr)

    def _emit_name(self, field: str, last_was_ptr: bool) -> None:
        if field and not last_was_ptr:
            self.out.append(" ")
        self.out.append(field)

    def _params(self, type_id: int, level: int) -> None:
        v = self.v
        out = self.out
        vlen = v.vlen(type_id)
        words, a = v.words, v.at[type_id]
        out.append("(")
        if vlen == 0 or (vlen == 1 and words[a + 1] == 0):
            out.append("void)")
            return
        for i in range(vlen):
            if i:
                out.append(", ")
            p_name, p_type = words[a + 2 * i], words[a + 2 * i + 1]
            if i == vlen - 1 and p_type == 0:
                out.append("...")
                break
            self.emit_decl(p_type, v.name(p_name), level)
        out.append(")")


# -- bpftool's layer: the guard, the order of the roots, the kfuncs --------------------------

_HEAD = (
    "#ifndef __VMLINUX_H__\n"
    "#define __VMLINUX_H__\n"
    "\n"
    "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
    "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n"
    "#endif\n\n"
)
_KSYM_MACROS = (
    "#ifndef __ksym\n"
    '#define __ksym __attribute__((section(".ksyms")))\n'
    "#endif\n\n"
    "#ifndef __weak\n"
    "#define __weak __attribute__((weak))\n"
    "#endif\n\n"
)
_TAIL = (
    "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
    "#pragma clang attribute pop\n"
    "#endif\n"
    "\n"
    "#endif /* __VMLINUX_H__ */\n"
)


def dump_c(
    records: Records,
    dialect: CDialect = C_NEWEST,
    *,
    pointer_size: int | None = None,
    roots: Iterable[int | str] | None = None,
) -> str:
    """The text of ``bpftool btf dump file F format c``.

    ``roots`` dumps only those types (ids, or names as :func:`root_ids` reads
    them) and what they need, like bpftool's ``root_id``.
    """
    return run_dump(records, dialect, pointer_size=pointer_size, roots=roots).text()


def run_dump(
    records: Records,
    dialect: CDialect = C_NEWEST,
    *,
    pointer_size: int | None = None,
    roots: Iterable[int | str] | None = None,
) -> CDumper:
    """:func:`dump_c`, returning the dumper: its :meth:`~CDumper.text` and the C name
    it gave each type (:attr:`~CDumper.names`).

    The cyclic garbage collector is paused meanwhile: the walk makes no cycles, but
    it allocates about a million small objects, and each collection would also
    traverse the view's lists of every type (5-25% of the time of a vmlinux dump).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run_dump(records, dialect, pointer_size, roots)
    finally:
        if collecting:
            gc.enable()


def _run_dump(
    records: Records,
    dialect: CDialect,
    pointer_size: int | None,
    roots: Iterable[int | str] | None,
) -> CDumper:
    view = WireView(records, pointer_size=pointer_size, lazy=roots is not None)
    if roots is None:
        view.read_all_names()
    dumper = CDumper(view, dialect)
    out = dumper.out
    out.append(_HEAD)
    if dialect.kfuncs:
        out.append(_KSYM_MACROS)
    if roots is not None:
        dumper.dump_types(root_ids(view, records.strings, roots))
    else:
        if dialect.sorted_types:
            order: Iterable[int] = sorted_ids(view, dumper.ordered, dumper.referenced)
        else:
            order = range(1, view.count)
        dumper.dump_types(order)
        if dialect.kfuncs:
            _kfuncs(dumper)
    out.append(_TAIL)
    return dumper


def _kfuncs(dumper: CDumper) -> None:
    """Every function tagged ``bpf_kfunc``, as an ``extern ... __weak __ksym``.

    In the order of the tags: the Linux 6.12 build of bpftool 7.5 does not sort them
    (bpftool's ``__bpf_fastcall`` change, 7cbe3da, later sorted them by name).
    """
    v = dumper.v
    out = dumper.out
    out.append("\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n")
    kind, st, name_off, name = v.kind, v.st, v.name_off, v.name
    for type_id in range(1, v.count):
        if kind[type_id] != DECL_TAG or v.words[v.at[type_id]] != 0xFFFFFFFF:
            continue
        if name(name_off[type_id]) != "bpf_kfunc":
            continue
        func = st[type_id]
        if func >= v.count or kind[func] != FUNC:
            continue
        out.append("extern ")
        dumper.emit_decl(st[func], name(name_off[func]), 0)
        out.append(" __weak __ksym;\n")
    out.append("#endif\n\n")


def _c_order(text: str) -> str:
    """``text`` with each byte as one character, so that it sorts like ``strcmp``."""
    return text if text.isascii() else text.encode("utf-8", "surrogateescape").decode("latin-1")


# -- bpftool 7.5's order of the roots ----------------------------------------------------------

_NO_RANK = 10
_HASHES_CONTENT = frozenset({ENUM, ENUM64, STRUCT, UNION, ARRAY, *_SORT_THROUGH})
"""Kinds whose disambiguation hash covers more than their own name."""


def sorted_ids(
    view: WireView,
    done: Callable[[int], bool] = lambda type_id: False,
    referenced: Callable[[int], bool] = lambda type_id: True,
) -> Iterator[int]:
    """The ids in bpftool 7.5's order, as it dumps them.

    bpftool sorts every id (void included) by a rank of its kind (anonymous
    enums, named enums, numbers, named records, named function prototypes,
    everything else), then by the name of what it stands for, its own name and
    a hash of its contents, then by id. It then dumps the sorted list from its
    second entry, so the first one in that order is left out unless another
    type needs it.

    ``done(id)`` says that a type prints nothing any more (the dumper ordered it
    already); such ids may be left out. It is asked as the ids are consumed.
    ``referenced(id)`` says that another type refers to it: a function, variable,
    section or tag that nothing refers to is left out of the sort, as where it
    comes changes nothing (numbers are kept: whether one is placed already
    decides how a typedef of it is reached through a pointer).
    """
    name_off, st, words, at = view.name_off, view.st, view.words, view.at
    kind = view.all_kinds()
    info = view.info
    name = view.name
    rank_memo: dict[int, int] = {}
    sort_memo: dict[int, str] = {}

    def rank_named(type_id: int) -> int:
        """The rank of ``type_id`` reached from a named type."""
        found = rank_memo.get(type_id)
        if found is not None:
            return found
        k = kind[type_id]
        if k in ENUMS:
            found = 1
        elif k in NUMBERS:
            found = 2
        elif k in RECORDS:
            found = 3
        elif k == FUNC_PROTO:
            found = 4
        elif k == ARRAY:
            found = rank_named(words[at[type_id]])
        elif k in _SORT_THROUGH:
            found = rank_named(st[type_id])
        else:
            found = _NO_RANK
        rank_memo[type_id] = found
        return found

    def sort_name_ref(type_id: int) -> str:
        """The name ``type_id`` sorts by when reached from another type."""
        found = sort_memo.get(type_id)
        if found is not None:
            return found
        k = kind[type_id]
        if k == ARRAY:
            found = sort_name_ref(words[at[type_id]])
        elif k in _SORT_THROUGH:
            found = sort_name_ref(st[type_id])
        else:
            found = name(name_off[type_id])
        sort_memo[type_id] = found
        return found

    vlen_mask = view.vlen_mask
    known = view.known_names()

    def key_of(type_id: int) -> tuple[int, str, str]:
        """bpftool's (rank, sort name, own name), names as strcmp orders them."""
        off = name_off[type_id]
        own = known.get(off)
        if own is None:
            own = name(off)
        k = kind[type_id]
        sort_name = own
        if k in RECORDS:
            rank = 3 if off else _NO_RANK
        elif k in ENUMS:
            rank = 1 if off else 0
            if not off and info[type_id] & vlen_mask:
                sort_name = name(words[at[type_id]])
        elif k == ARRAY or k in _SORT_THROUGH:
            rank = rank_named(type_id) if off else _NO_RANK
            sort_name = sort_name_ref(type_id)
        elif k in NUMBERS:
            rank = 2
        elif k == FUNC_PROTO:
            rank = 4 if off else _NO_RANK
        else:
            rank = _NO_RANK
        if not sort_name.isascii():
            sort_name = _c_order(sort_name)
        if not own.isascii():
            own = _c_order(own)
        return rank, sort_name, own

    # Types that print nothing as a root and that no other type reaches (functions,
    # variables, sections and tags nothing refers to, and void) are not sorted: where
    # they come does not change the output. Only the first entry of the whole order
    # counts, as bpftool leaves it out (below).
    def silent(type_id: int) -> bool:
        return not type_id or (kind[type_id] in _NOT_ORDERED and not referenced(type_id))

    printable = [i for i in range(view.count) if not silent(i)]
    keys = dict(zip(printable, map(key_of, printable), strict=True))
    ids = sorted(printable, key=keys.__getitem__)
    # ties on (rank, names) are broken by the content hash, then by id. Hashing is
    # the slow part, and only the order of members that can still print anything
    # matters: a group is hashed when it is reached, and only its members that are
    # not ordered yet. A group whose kinds hash their name only (prototypes,
    # functions, variables ...) stays in id order.
    hasher = _DisambigHash(view)

    def tie_key(type_id: int) -> tuple[int, int]:
        if kind[type_id] in _HASHES_CONTENT:
            return hasher.of(type_id, True), type_id
        return hasher.name_hash(name_off[type_id]), type_id

    def by_hash(group: list[int]) -> list[int]:
        if len(group) < 2 or not any(kind[i] in _HASHES_CONTENT for i in group):
            return group
        return sorted(group, key=tie_key)

    def silent_type_first(candidate: int) -> bool:
        """Whether a type left out of the sort comes before ``candidate``, the first
        printable one: then that type is the one bpftool leaves out."""
        first = keys[candidate]
        if first[0] == 0:  # a type left out is named, so it ranks 1 or more
            return False
        for type_id, k in enumerate(kind):
            if not silent(type_id):
                continue
            rank = rank_named(type_id) if k == DECL_TAG else _NO_RANK
            if rank > first[0]:
                continue
            other = key_of(type_id)
            if other < first or (other == first and tie_key(type_id) < tie_key(candidate)):
                return True
        return False

    groups = groupby(ids, keys.__getitem__)
    for _key, members in groups:  # the first group
        group = by_hash(list(members))
        yield from group if silent_type_first(group[0]) else group[1:]
        break
    for _key, members in groups:
        group = list(members)
        if len(group) > 1:
            group = by_hash([i for i in group if not done(i)])
        yield from group


class _DisambigHash:
    """bpftool's ``btf_type_disambig_hash``: a type's names and shape, hashed.

    ``h * 31 + x`` modulo 2**64 over the type's name, its enumerators' names,
    its members' names and (without their members) types, and what it refers
    to. Strings hash as libbpf's ``str_hash`` does, over signed chars. Both the
    string hashes and the member-less type hashes are kept.
    """

    def __init__(self, view: WireView) -> None:
        self.v = view
        self._strings: dict[int, int] = {0: 0}
        self._shallow: dict[int, int] = {}
        self._deep: dict[int, int] = {}

    def _name(self, h: int, off: int) -> int:
        return (h * 31 + self.name_hash(off)) & _U64 if off else h

    def name_hash(self, off: int) -> int:
        """The hash of a type that only hashes its name (0 without one)."""
        found = self._strings.get(off)
        if found is None:
            found = 0
            for byte in self.v.name(off).encode("utf-8", "surrogateescape"):
                found = (found * 31 + (byte - 256 if byte >= 128 else byte)) & _U64
            self._strings[off] = found
        return found

    def of(self, type_id: int, members: bool) -> int:
        memo = self._deep if members else self._shallow
        found = memo.get(type_id)
        if found is not None:
            return found
        v = self.v
        words, a = v.words, v.at[type_id]
        h = self._name(0, v.name_off[type_id])
        k = v.kind[type_id]
        if k in ENUMS:
            step = 3 if k == ENUM64 else 2
            for i in range(v.vlen(type_id)):
                h = self._name(h, words[a + step * i])
        elif k in RECORDS:
            if members:
                for i in range(v.vlen(type_id)):
                    h = self._name(h, words[a + 3 * i])
                    h = (h * 31 + self.of(words[a + 3 * i + 1], False)) & _U64
        elif k in _SORT_THROUGH:
            h = (h * 31 + self.of(v.st[type_id], members)) & _U64
        elif k == ARRAY:
            h = (h * 31 + words[a + 2]) & _U64
            h = (h * 31 + self.of(words[a], members)) & _U64
        memo[type_id] = h
        return h


_NAMED_KINDS = {"struct": (STRUCT,), "union": (UNION,), "enum": (ENUM, ENUM64)}
_DEFINABLE = frozenset({STRUCT, UNION, ENUM, ENUM64, TYPEDEF, FWD})


def root_ids(view: WireView, strings: StringTable, wanted: Iterable[int | str]) -> list[int]:
    """Type ids for ``roots``: a number is an id; a name (``task_struct``, ``struct
    task_struct``, ``u32``) is every struct, union, enum or typedef of that name."""
    ids: list[int] = []
    for item in wanted:
        text = str(item).strip()
        if text.isdigit():
            if int(text) >= view.count:
                raise BTFError(f"there is no type id {text} (the last is {view.count - 1})")
            ids.append(int(text))
            continue
        keyword, _, rest = text.partition(" ")
        kinds = _NAMED_KINDS.get(keyword, ()) if rest else ()
        name = rest.strip() if kinds else text
        offsets = set(strings.offsets_of(name)) if name else set()
        found = view.named(offsets, kinds or _DEFINABLE)
        if not found:
            raise BTFError(f"no struct, union, enum or typedef is named {text!r}")
        ids.extend(found)
    return ids
