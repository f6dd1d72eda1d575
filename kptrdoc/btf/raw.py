"""The raw text dump, line for line as ``bpftool btf dump file FILE`` prints it.

Works straight from the wire records (:class:`~kptrdoc.btf.records.Records`,
which a :class:`~kptrdoc.btf.spec.Spec` is too; no dataclasses), which is
what makes dumping vmlinux fast. The line formats:

``[ID] KIND 'NAME'`` then kind-specific fields, and for kinds with members,
params, values or variables one ``\\n\\t...`` line each. A zero name offset
prints ``(anon)``.

Speed (vmlinux: ~130 000 records, ~300 000 lines): every name of the string
table is decoded once into a dict keyed by offset (``cache[off]``; a miss,
such as a suffix reference, goes through ``name()``), record heads are
unpacked by ``map()`` a block at a time, and each line is one f-string.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from itertools import repeat

from kptrdoc.btf.bpftool_compat import NEWEST, Dialect
from kptrdoc.btf.records import Records

KIND_NAMES = (
    "UNKNOWN",
    "INT",
    "PTR",
    "ARRAY",
    "STRUCT",
    "UNION",
    "ENUM",
    "FWD",
    "TYPEDEF",
    "VOLATILE",
    "CONST",
    "RESTRICT",
    "FUNC",
    "FUNC_PROTO",
    "VAR",
    "DATASEC",
    "FLOAT",
    "DECL_TAG",
    "TYPE_TAG",
    "ENUM64",
)
_INT_ENCODINGS = {0: "(none)", 1: "SIGNED", 2: "CHAR", 4: "BOOL"}
_LINKAGE = {0: "static", 1: "global", 2: "extern"}
_WITH_TYPE_ONLY = frozenset({2, 8, 9, 10, 11, 18})
"""PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG: ``type_id=`` is their only field."""

BLOCK = 4096
"""Records per piece that :func:`iter_raw` yields."""


def _kind_name(kind: int) -> str:
    return KIND_NAMES[kind] if kind < len(KIND_NAMES) else "UNKNOWN"


def dump_raw(spec: Records, dialect: Dialect = NEWEST) -> str:
    """The whole dump of ``spec``'s own types (not the base's) as one string."""
    return "".join(iter_raw(spec, dialect))


def iter_raw(spec: Records, dialect: Dialect = NEWEST, block: int = BLOCK) -> Iterator[str]:
    """The dump in pieces, one per ``block`` records."""
    order = spec.header.byte_order
    head = struct.Struct(order + "III").unpack_from
    u32 = struct.Struct(order + "I").unpack_from
    i32 = struct.Struct(order + "i").unpack_from
    rows3 = struct.Struct(order + "III").iter_unpack
    rows2 = struct.Struct(order + "II").iter_unpack
    rows_signed = struct.Struct(order + "Ii").iter_unpack
    data = spec.type_data
    strings = spec.strings
    cache: dict[int, str] = strings.by_offset()
    cache[0] = "(anon)"
    vlen_mask = dialect.vlen_mask
    kind_mask = dialect.kind_mask
    type_count = spec.type_count

    strings_len = strings.total_len
    linkage_name = _LINKAGE.get
    get_string = strings.get

    def name(off: int) -> str:
        """A name not in ``cache`` yet: a suffix, a base string, or ``(invalid)``."""
        found = cache.get(off)
        if found is None:
            found = get_string(off) if off < strings_len else "(invalid)"
            cache[off] = found
        return found

    def kind_and_name(type_id: int) -> tuple[int, int]:
        if type_id >= spec.first_id:
            pos = spec.offsets[type_id - spec.first_id]
            name_off, info, _ = head(data, pos)
            return (info >> 24) & kind_mask, name_off
        owner = spec.base
        while owner is not None and type_id < owner.first_id:
            owner = owner.base
        if owner is None:
            return 0, 0
        pos = owner.offsets[type_id - owner.first_id]
        o_head = struct.Struct(owner.header.byte_order + "III").unpack_from
        name_off, info, _ = o_head(owner.type_data, pos)
        return (info >> 24) & kind_mask, name_off

    def _other(kind: int, type_id: int, nm: str, info: int, st: int, body: int) -> str:
        """The less frequent kinds, one whole entry each."""
        vlen = info & vlen_mask
        kflag = info >> 31
        if kind == 1:  # INT
            (word,) = u32(data, body)
            enc = _INT_ENCODINGS.get((word >> 24) & 0x0F, "UNKN")
            return (
                f"[{type_id}] INT '{nm}' size={st} bits_offset={(word >> 16) & 0xFF}"
                f" nr_bits={word & 0xFF} encoding={enc}\n"
            )
        if kind == 3:  # ARRAY
            elem, index, nelems = head(data, body)
            return (
                f"[{type_id}] ARRAY '{nm}' type_id={elem} index_type_id={index} nr_elems={nelems}\n"
            )
        if kind == 6:  # ENUM
            enc = "SIGNED" if kflag else "UNSIGNED"
            parts = [f"[{type_id}] ENUM '{nm}' encoding={enc} size={st} vlen={vlen}"]
            rows = rows_signed if kflag else rows2
            for v_name, val in rows(data[body : body + 8 * vlen]):
                parts.append(f"\n\t'{name(v_name)}' val={val}")
            parts.append("\n")
            return "".join(parts)
        if kind == 19:  # ENUM64
            enc = "SIGNED" if kflag else "UNSIGNED"
            parts = [f"[{type_id}] ENUM64 '{nm}' encoding={enc} size={st} vlen={vlen}"]
            for v_name, lo, hi in rows3(data[body : body + 12 * vlen]):
                val = (hi << 32) | lo
                if kflag:
                    if val >= 1 << 63:
                        val -= 1 << 64
                    parts.append(f"\n\t'{name(v_name)}' val={val}LL")
                else:
                    parts.append(f"\n\t'{name(v_name)}' val={val}ULL")
            parts.append("\n")
            return "".join(parts)
        if kind == 7:  # FWD
            return f"[{type_id}] FWD '{nm}' fwd_kind={'union' if kflag else 'struct'}\n"
        if kind == 14:  # VAR
            (linkage,) = u32(data, body)
            link = linkage_name(linkage, "(unknown)")
            return f"[{type_id}] VAR '{nm}' type_id={st}, linkage={link}\n"
        if kind == 15:  # DATASEC
            parts = [f"[{type_id}] DATASEC '{nm}' size={st} vlen={vlen}"]
            for v_type, v_off, v_size in rows3(data[body : body + 12 * vlen]):
                parts.append(f"\n\ttype_id={v_type} offset={v_off} size={v_size}")
                if v_type < type_count:
                    v_kind, v_name = kind_and_name(v_type)
                    parts.append(f" ({_kind_name(v_kind)} '{name(v_name)}')")
            parts.append("\n")
            return "".join(parts)
        if kind == 16:  # FLOAT
            return f"[{type_id}] FLOAT '{nm}' size={st}\n"
        if kind == 17:  # DECL_TAG
            (idx,) = i32(data, body)
            return f"[{type_id}] DECL_TAG '{nm}' type_id={st} component_idx={idx}\n"
        return f"[{type_id}] {_kind_name(kind)} '{nm}'\n"

    view = memoryview(data)
    offsets = spec.offsets
    with_type_only = _WITH_TYPE_ONLY
    for start in range(0, len(offsets), block):
        out: list[str] = []
        add = out.append
        positions = offsets[start : start + block]
        # the records' first 12 bytes, unpacked by map() in C rather than one call per turn
        heads = map(head, repeat(data, len(positions)), positions)
        records = zip(positions, heads, strict=True)
        for type_id, (pos, (name_off, info, st)) in enumerate(records, spec.first_id + start):
            kind = (info >> 24) & kind_mask
            try:
                nm = cache[name_off]
            except KeyError:
                nm = name(name_off)
            if kind == 12:  # FUNC
                link = linkage_name(info & vlen_mask, "(unknown)")
                add(f"[{type_id}] FUNC '{nm}' type_id={st} linkage={link}\n")
            elif kind == 13:  # FUNC_PROTO
                vlen = info & vlen_mask
                add(f"[{type_id}] FUNC_PROTO '{nm}' ret_type_id={st} vlen={vlen}")
                body = pos + 12
                for p_name, p_type in rows2(view[body : body + 8 * vlen]):
                    try:
                        pn = cache[p_name]
                    except KeyError:
                        pn = name(p_name)
                    add(f"\n\t'{pn}' type_id={p_type}")
                add("\n")
            elif kind in with_type_only:
                add(f"[{type_id}] {KIND_NAMES[kind]} '{nm}' type_id={st}\n")
            elif kind == 4 or kind == 5:
                vlen = info & vlen_mask
                add(f"[{type_id}] {KIND_NAMES[kind]} '{nm}' size={st} vlen={vlen}")
                body = pos + 12
                members = rows3(view[body : body + 12 * vlen])
                if info >> 31:
                    for m_name, m_type, m_off in members:
                        try:
                            mn = cache[m_name]
                        except KeyError:
                            mn = name(m_name)
                        if m_off >> 24:
                            add(
                                f"\n\t'{mn}' type_id={m_type} bits_offset={m_off & 0xFFFFFF}"
                                f" bitfield_size={m_off >> 24}"
                            )
                        else:
                            add(f"\n\t'{mn}' type_id={m_type} bits_offset={m_off}")
                else:
                    for m_name, m_type, m_off in members:
                        try:
                            mn = cache[m_name]
                        except KeyError:
                            mn = name(m_name)
                        add(f"\n\t'{mn}' type_id={m_type} bits_offset={m_off}")
                add("\n")
            else:
                add(_other(kind, type_id, nm, info, st, pos + 12))
        yield "".join(out)
