"""Kernel special fields: kptrdoc's marks, pahole's offsets and the kernel's verdict agree.

Each fixture's maps are created by the running kernel (which parses the
special fields of every value) and its programs use each field through the
helper or kfunc that needs it: ``bpf_kptr_xchg`` on a kptr, ``bpf_spin_lock``,
``bpf_timer_init``, ``bpf_list_push_front`` ... The verifier checks that the
address passed is exactly where its own record of the value has that field,
so a load that succeeds confirms the offsets kptrdoc reports (which must also
be pahole's member offsets).
"""

from __future__ import annotations

import re

import pytest
from libbpf_truth import load_one, loaded
from objects_support import pahole

from kptrdoc.btf import Struct, parse_btf
from kptrdoc.elf import ElfObject
from kptrdoc.objects import load_object
from kptrdoc.objects.layout import layout_of

EXPECTED = {
    "special_kptr": {
        "kptrs": [("kptr", "mask", 8), ("percpu_kptr", "pcpu", 16)],
        "kptr_arrays": [
            ("kptr", "masks[0]", 8),
            ("kptr", "masks[1]", 16),
            ("kptr", "masks[2]", 24),
        ],
    },
    "special_untrusted": {"untrusted": [("kptr_untrusted", "task", 16)]},
    "special_lock": {
        "lock_timer": [("bpf_spin_lock", "lock", 8), ("bpf_timer", "box.timer", 24)],
        "wqs": [("bpf_wq", "work", 8)],
        "task_works": [("bpf_task_work", "tw", 0)],
        "res_locks": [("bpf_res_spin_lock", "lock", 4)],
    },
    "special_graph": {
        "graphs": [
            ("bpf_spin_lock", "lock", 0),
            ("bpf_list_head", "head", 8),
            ("bpf_rb_root", "root", 24),
        ],
    },
    "special_uptr": {"uptrs": [("uptr", "udata", 8)]},
}


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_special_fields(compiled, fixture):
    path = compiled(fixture)
    obj = load_object(path)
    for map_name, want in EXPECTED[fixture].items():
        value = obj.map(map_name).value
        got = [(f.kind, f.path, f.offset) for f in value.special]
        assert got == want, map_name
        members, _, _ = pahole(path, value.type.removeprefix("struct "))
        offsets = dict((name, off) for name, off, _ in members)
        for kind, field_path, offset in want:
            top = field_path.split(".")[0].split("[")[0]
            assert offset >= offsets[top], (map_name, field_path)
            if field_path == top:
                assert offset == offsets[top], (map_name, field_path)
            if kind in ("kptr", "kptr_untrusted", "percpu_kptr", "uptr"):
                assert value.fields[[f.name for f in value.fields].index(top)].special == kind


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_kernel_accepts_fields_where_we_mark_them(compiled, kernel, fixture):
    """The kernel creates every map and verifies every program using the fields."""
    path = compiled(fixture)
    with loaded(path) as live:
        assert set(EXPECTED[fixture]) <= set(live.maps())


@pytest.mark.parametrize(
    ("program", "kind", "field"),
    [("wrong_lock", "bpf_spin_lock", "lock"), ("wrong_timer", "bpf_timer", "box.timer")],
)
def test_verifier_names_the_offset_we_report(compiled, kernel, program, kind, field):
    """A lock or timer call at the wrong address is refused with the kernel's own offset."""
    path = compiled("special_lock")
    ours = {f.path: f.offset for f in load_object(path).map("lock_timer").value.special}
    err, log = load_one(path, program)
    assert err != 0
    found = re.search(rf"doesn't point to 'struct {kind}' that is at (\d+)", log)
    assert found, log[-2000:]
    assert int(found.group(1)) == ours[field]


def test_kptr_xchg_needs_a_kptr(compiled, kernel):
    """The same bpf_kptr_xchg that loads at 'mask' is refused at offset 0 (no kptr there)."""
    path = compiled("special_kptr")
    assert 0 not in {f.offset for f in load_object(path).map("kptrs").value.special}
    err, log = load_one(path, "wrong_kptr")
    assert err != 0
    assert "off=0 doesn't point to kptr" in log, log[-2000:]
    assert load_one(path, "use_kptrs")[0] == 0


def test_nested_timer_and_node_type(compiled):
    path = compiled("special_graph")
    elf = ElfObject.open(path)
    spec = parse_btf(elf.btf)
    node = spec.by_name("node_data", Struct)[0]
    got = [(f.kind, f.path, f.offset) for f in layout_of(spec, node.id).special]
    assert got == [
        ("bpf_refcount", "ref", 8),
        ("bpf_list_node", "list", 16),
        ("bpf_rb_node", "rb", 40),
    ]
    members, _, _ = pahole(path, "node_data")
    assert [(n, o) for n, o, _ in members] == [("key", 0), ("ref", 8), ("list", 16), ("rb", 40)]


def test_global_special_fields(compiled):
    obj = load_object(compiled("special_graph"))
    by_name = {v.name: v for v in obj.globals}
    assert [(f.kind, f.path) for f in by_name["glock"].layout.special] == [
        ("bpf_spin_lock", "glock")
    ]
    assert [(f.kind, f.path) for f in by_name["ghead"].layout.special] == [
        ("bpf_list_head", "ghead")
    ]
    assert (by_name["glock"].offset, by_name["ghead"].offset) == (0, 8)
