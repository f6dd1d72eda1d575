"""Fields of a map value the kernel treats specially, found as the kernel finds them.

The kernel (``btf_parse_fields`` in ``kernel/bpf/btf.c``) looks at each member
of a struct value, or each variable of a global-data section:

* arrays are flattened to their element type and the element repeated;
* a member whose type is *named* like one of the special structs
  (``bpf_spin_lock``, ``bpf_timer`` ...) counts when that type is a struct of
  the expected size at an aligned offset; there are no typedef or qualifier
  look-throughs for these names;
* any other struct is entered, its findings shifted by its offset, up to a
  fixed nesting depth;
* a pointer member (``volatile`` allowed on the pointer) whose pointee is a
  ``btf_type_tag`` ``kptr``, ``kptr_untrusted``, ``percpu_kptr`` or ``uptr``
  is a kptr of that kind, when 8-byte aligned.

Unions are not entered. ``bpf_list_node``/``bpf_rb_node`` are reported too;
the kernel only honours them in objects from ``bpf_obj_new``, not in a plain
map value.
"""

from __future__ import annotations

from kptrdoc.btf.cformat import c_type_name
from kptrdoc.btf.types import Array, Ptr, Struct, TypeTag, Volatile
from kptrdoc.objects.model import SpecialField

MAX_LEVEL = 32

# kind -> (size, align) of the kernel's struct for that kind
STRUCT_KINDS: dict[str, tuple[int, int]] = {
    "bpf_spin_lock": (4, 4),
    "bpf_res_spin_lock": (4, 4),
    "bpf_timer": (16, 8),
    "bpf_wq": (16, 8),
    "bpf_task_work": (8, 8),
    "bpf_list_head": (16, 8),
    "bpf_list_node": (24, 8),
    "bpf_rb_root": (16, 8),
    "bpf_rb_node": (32, 8),
    "bpf_refcount": (4, 4),
}
POINTER_KINDS = ("kptr", "kptr_untrusted", "percpu_kptr", "uptr")
KINDS = (*POINTER_KINDS, *STRUCT_KINDS)


def record_special_fields(spec, type_id: int) -> tuple[SpecialField, ...]:
    """Special fields of a map value of type ``type_id`` (must already be stripped)."""
    t = spec.type(type_id)
    if not isinstance(t, Struct):
        return ()
    out: list[SpecialField] = []
    _struct(spec, t, 0, "", 0, out)
    return tuple(sorted(out, key=lambda f: f.offset))


def variable_special_fields(spec, type_id: int, offset: int, name: str) -> list[SpecialField]:
    """Special fields of a global variable of type ``type_id`` at ``offset`` in its section."""
    out: list[SpecialField] = []
    _member(spec, type_id, offset, name, 0, out)
    return out


def _struct(spec, t: Struct, base: int, prefix: str, level: int, out: list[SpecialField]) -> None:
    if level >= MAX_LEVEL:
        return
    for m in t.members:
        if m.bit_offset % 8:
            continue
        # an anonymous struct/union member: its members belong to this record
        path = ".".join(p for p in (prefix, m.name) if p)
        _member(spec, m.type, base + m.bit_offset // 8, path, level, out)


def _member(spec, type_id: int, off: int, path: str, level: int, out: list[SpecialField]) -> None:
    t = spec.type(type_id)
    nelems = 1
    for _ in range(MAX_LEVEL):
        if not isinstance(t, Array):
            break
        nelems *= t.nelems
        t = spec.type(t.type)
    if nelems == 0 or t is None:
        return

    def index(i: int) -> str:
        return f"{path}[{i}]" if nelems > 1 or isinstance(spec.type(type_id), Array) else path

    kind = t.name if t.name in STRUCT_KINDS else None
    if kind is not None:
        size, align = STRUCT_KINDS[kind]
        if not isinstance(t, Struct) or t.size != size or off % align:
            return
        for i in range(nelems):
            out.append(SpecialField(kind, index(i), off + i * size, size))
        return
    if isinstance(t, Struct):
        for i in range(nelems):
            _struct(spec, t, off + i * t.size, index(i), level + 1, out)
        return
    pointer = t
    if isinstance(pointer, Volatile):
        pointer = spec.type(pointer.type)
    if not isinstance(pointer, Ptr):
        return
    tag = spec.type(pointer.type)
    if not isinstance(tag, TypeTag) or tag.attribute or tag.name not in POINTER_KINDS:
        return
    if off % 8:
        return
    target = c_type_name(spec, spec.strip(tag.type))
    for i in range(nelems):
        out.append(SpecialField(tag.name, index(i), off + i * 8, 8, target))
