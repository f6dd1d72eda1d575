"""BTF-defined maps from ``.maps``, decoded the way libbpf decodes them.

Each map is a global variable of an anonymous struct whose members encode
the attributes in their *types*:

* ``__uint(name, val)`` is ``int (*name)[val]``: a pointer to an array with
  ``val`` elements (``type``, ``max_entries``, ``map_flags``, ``numa_node``,
  ``key_size``, ``value_size``, ``pinning``);
* ``__type(name, T)`` is ``typeof(T) *name``: a pointer to the key or value
  type, whose size is the key or value size;
* ``__array(values, struct inner)`` is a zero-length array of pointers to the
  inner map's own definition struct (map-in-map) or to a function prototype
  (program array); its value size is 4, and relocations against ``.maps``
  at that member's slots give the initial entries;
* ``__ulong(name, val)`` is a member whose type is an enum with the single
  enumerator ``val`` (64-bit values fit); libbpf also accepts ``__uint`` there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from kptrdoc.btf.errors import BTFError
from kptrdoc.btf.types import (
    Array,
    Const,
    Datasec,
    Enum,
    Enum64,
    FuncProto,
    Member,
    Ptr,
    Restrict,
    Struct,
    Typedef,
    TypeTag,
    Var,
    Volatile,
)
from kptrdoc.elf import ElfObject
from kptrdoc.objects.kernel_enums import map_type_name
from kptrdoc.objects.layout import layout_of
from kptrdoc.objects.model import MapDef, MapSlot, ObjectError

MAP_TYPE_PROG_ARRAY = 3
MAP_TYPE_ARRAY_OF_MAPS = 12
MAP_TYPE_HASH_OF_MAPS = 13
MAP_TYPE_RINGBUF = 27
MAP_TYPE_USER_RINGBUF = 31
PIN_NAMES = {0: None, 1: "LIBBPF_PIN_BY_NAME"}
BPF_PTR_SIZE = 8
_MODS = (Const, Volatile, Restrict, TypeTag, Typedef)


@dataclass
class _Def:
    map_type: int = 0
    key_size: int = 0
    value_size: int = 0
    max_entries: int = 0
    flags: int = 0
    numa_node: int = 0
    pinning: int = 0
    map_extra: int = 0
    key_type: int | None = None
    value_type: int | None = None
    inner: _Def | None = None
    values_offset: int | None = None  # byte offset of the `values` member
    has_values: bool = False
    parts: set[str] = field(default_factory=set)


class _Parser:
    def __init__(self, spec, where: str) -> None:
        self.spec = spec
        self.where = where

    def fail(self, map_name: str, what: str) -> ObjectError:
        return ObjectError(f"{self.where}: map '{map_name}': {what}")

    def skip_mods(self, type_id: int):
        t = self.spec.type(type_id)
        for _ in range(32):
            if not isinstance(t, _MODS):
                return t
            t = self.spec.type(t.type)
        return t

    def kind(self, t) -> str:
        return "void" if t is None else t.kind_name

    def uint(self, map_name: str, m: Member) -> int:
        t = self.skip_mods(m.type)
        if not isinstance(t, Ptr):
            raise self.fail(
                map_name,
                f"'{m.name}' must be __uint({m.name}, N), a pointer to an array; "
                f"found {self.kind(t)}",
            )
        arr = self.spec.type(t.type)
        if not isinstance(arr, Array):
            raise self.fail(
                map_name,
                f"'{m.name}' must be __uint({m.name}, N), a pointer to an array; "
                f"found a pointer to {self.kind(arr)}",
            )
        return arr.nelems

    def ulong(self, map_name: str, m: Member) -> int:
        t = self.skip_mods(m.type)
        if isinstance(t, Ptr):
            return self.uint(map_name, m)
        if not isinstance(t, (Enum, Enum64)):
            raise self.fail(map_name, f"'{m.name}' must be __ulong or __uint; found {self.kind(t)}")
        if len(t.values) != 1:
            raise self.fail(map_name, f"'{m.name}': an __ulong enum must have one value")
        return t.values[0].value & 0xFFFFFFFFFFFFFFFF

    def typed(self, map_name: str, m: Member, what: str) -> tuple[int, int]:
        t = self.spec.type(m.type)
        if not isinstance(t, Ptr):
            raise self.fail(
                map_name, f"'{m.name}' must be __type({m.name}, T); found {self.kind(t)}"
            )
        try:
            size = self.spec.size_of(t.type)
        except BTFError:
            target = self.spec.type(t.type)
            desc = "void" if target is None else f"{target.kind_name} '{target.name}'"
            raise self.fail(
                map_name, f"the {what} type [{t.type}] ({desc}) does not resolve to a size"
            ) from None
        return t.type, size

    def set_size(self, map_name: str, d: _Def, attr: str, size: int) -> None:
        old = getattr(d, attr)
        if old and old != size:
            raise self.fail(map_name, f"conflicting {attr} {old} != {size}")
        setattr(d, attr, size)

    def parse(self, map_name: str, struct: Struct, inner: bool = False) -> _Def:
        d = _Def()
        for i, m in enumerate(struct.members):
            name = m.name
            if name == "type":
                d.map_type = self.uint(map_name, m)
            elif name == "max_entries":
                d.max_entries = self.uint(map_name, m)
            elif name == "map_flags":
                d.flags = self.uint(map_name, m)
            elif name == "numa_node":
                d.numa_node = self.uint(map_name, m)
            elif name == "key_size":
                self.set_size(map_name, d, "key_size", self.uint(map_name, m))
            elif name == "value_size":
                self.set_size(map_name, d, "value_size", self.uint(map_name, m))
            elif name == "key":
                d.key_type, size = self.typed(map_name, m, "key")
                self.set_size(map_name, d, "key_size", size)
            elif name == "value":
                d.value_type, size = self.typed(map_name, m, "value")
                self.set_size(map_name, d, "value_size", size)
            elif name == "values":
                self.values(map_name, struct, i, m, d, inner)
            elif name == "pinning":
                if inner:
                    raise self.fail(map_name, "an inner map definition cannot be pinned")
                d.pinning = self.uint(map_name, m)
                if d.pinning not in PIN_NAMES:
                    raise self.fail(map_name, f"invalid pinning value {d.pinning}")
            elif name == "map_extra":
                d.map_extra = self.ulong(map_name, m)
            else:
                raise self.fail(map_name, f"unknown field '{name}'")
            d.parts.add(name)
        if d.map_type == 0:
            raise self.fail(map_name, "no map type: add __uint(type, BPF_MAP_TYPE_...)")
        mim = d.map_type in (MAP_TYPE_ARRAY_OF_MAPS, MAP_TYPE_HASH_OF_MAPS)
        if mim and not inner and d.inner is None:
            raise self.fail(
                map_name,
                "a map-in-map needs an inner map definition: __array(values, struct { ... })",
            )
        return d

    def values(self, map_name: str, struct: Struct, i: int, m: Member, d: _Def, inner: bool):
        if inner:
            raise self.fail(map_name, "an inner map cannot itself hold maps")
        if i != len(struct.members) - 1:
            raise self.fail(map_name, "'values' must be the last member")
        mim = d.map_type in (MAP_TYPE_ARRAY_OF_MAPS, MAP_TYPE_HASH_OF_MAPS)
        if not mim and d.map_type != MAP_TYPE_PROG_ARRAY:
            raise self.fail(map_name, "'values' needs a map-in-map or program array type")
        self.set_size(map_name, d, "value_size", 4)
        arr = self.spec.type(m.type)
        if not isinstance(arr, Array) or arr.nelems:
            raise self.fail(map_name, "'values' must be __array(values, ...), a zero-length array")
        ptr = self.skip_mods(arr.type)
        if not isinstance(ptr, Ptr):
            raise self.fail(map_name, f"'values' elements must be pointers; found {self.kind(ptr)}")
        target = self.skip_mods(ptr.type)
        d.has_values = True
        d.values_offset = m.bit_offset // 8
        if not mim:
            if not isinstance(target, FuncProto):
                raise self.fail(map_name, "program array 'values' must point to a function type")
            return
        if not isinstance(target, Struct):
            raise self.fail(
                map_name,
                f"the inner map definition must be a struct; found {self.kind(target)}",
            )
        d.inner = self.parse(f"{map_name}.inner", target, inner=True)


def _ringbuf_size(size: int) -> int:
    """libbpf rounds a ring buffer up to a power-of-two number of pages."""
    page = os.sysconf("SC_PAGE_SIZE")
    if size == 0:
        return 0
    if size % page == 0 and ((size // page) & (size // page - 1)) == 0:
        return size
    mul = 1
    while mul * page <= 0xFFFFFFFF:
        if mul * page > size:
            return mul * page
        mul <<= 1
    return size


def _to_model(spec, name: str, d: _Def, offset: int, slots: tuple[MapSlot, ...]) -> MapDef:
    max_entries = d.max_entries
    if d.map_type in (MAP_TYPE_RINGBUF, MAP_TYPE_USER_RINGBUF):
        max_entries = _ringbuf_size(max_entries)
    return MapDef(
        name=name,
        type=map_type_name(d.map_type),
        type_num=d.map_type,
        key_size=d.key_size,
        value_size=d.value_size,
        max_entries=max_entries,
        declared_max_entries=d.max_entries,
        flags=d.flags,
        numa_node=d.numa_node,
        pinning=PIN_NAMES[d.pinning],
        map_extra=d.map_extra,
        key_type_id=d.key_type,
        value_type_id=d.value_type,
        key=layout_of(spec, d.key_type) if d.key_type else None,
        value=layout_of(spec, d.value_type) if d.value_type else None,
        inner=_to_model(spec, f"{name}.inner", d.inner, 0, ()) if d.inner else None,
        slots=slots,
        section_offset=offset,
    )


def parse_maps(spec, elf: ElfObject, problems: list[str] | None = None) -> list[MapDef]:
    """Every map defined in ``.maps``, in section order.

    A malformed definition raises :class:`ObjectError`; with ``problems`` given,
    its one-line message is appended there instead and the map is left out.
    """
    if spec is None:
        return []
    secs = spec.by_name(".maps", Datasec)
    if not secs:
        return []
    where = elf.path
    parser = _Parser(spec, where)
    symbols = {s.name: s for s in elf.symbols_in(".maps")}
    found: list[tuple[str, _Def, int, int]] = []
    for vsi in secs[0].vars:
        var = spec.type(vsi.type)
        if not isinstance(var, Var):
            continue
        sym = symbols.get(var.name)
        offset = sym.value if sym is not None else vsi.offset
        struct = spec.type(spec.strip(var.type))
        try:
            if not isinstance(struct, Struct):
                raise parser.fail(
                    var.name, f"the definition must be a struct; found {parser.kind(struct)}"
                )
            size = sym.size if sym is not None and sym.size else struct.size
            found.append((var.name, parser.parse(var.name, struct), offset, size))
        except ObjectError as exc:
            if problems is None:
                raise
            problems.append(str(exc))

    slots: dict[str, list[MapSlot]] = {name: [] for name, *_ in found}
    for rel in elf.relocations.get(".maps", ()):
        target = rel.symbol
        for name, d, offset, size in found:
            if offset <= rel.offset and rel.offset + BPF_PTR_SIZE <= offset + size:
                if not d.has_values or d.values_offset is None:
                    raise parser.fail(name, f"a relocation to '{target}' outside 'values'")
                index = (rel.offset - offset - d.values_offset) // BPF_PTR_SIZE
                slots[name].append(MapSlot(index, target))
                break
        else:
            problem = f"{where}: .maps relocation at {rel.offset} to '{target}' is in no map"
            if problems is None:
                raise ObjectError(problem)
            problems.append(problem)
    return [
        _to_model(spec, name, d, offset, tuple(sorted(slots[name], key=lambda s: s.index)))
        for name, d, offset, _ in found
    ]
