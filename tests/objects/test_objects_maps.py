"""BTF-defined maps: what kptrdoc decodes is what libbpf creates in the running kernel."""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from libbpf_truth import loaded

from kptrdoc.objects import load_object
from kptrdoc.objects.kernel_enums import map_type_names


@pytest.fixture
def bpffs(tmp_path):
    """A private bpffs for LIBBPF_PIN_BY_NAME maps, unmounted afterwards."""
    root = tmp_path / "bpffs"
    root.mkdir()
    proc = subprocess.run(["mount", "-t", "bpf", "bpf", str(root)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a bpffs: {proc.stderr.strip()}")
    try:
        yield root
    finally:
        subprocess.run(["umount", str(root)], check=True)


@contextmanager
def _loaded_or_refused(path, bpffs, fixture):
    """libbpf's load; an arena that the host refuses with EPERM, as root, is that host's
    policy (some builds refuse arena maps), not a mismatch: the test cannot run there."""
    try:
        with loaded(path, pin_root=bpffs) as live:
            yield live
    except PermissionError as exc:
        if fixture != "arena" or os.geteuid() != 0:
            raise
        pytest.xfail(f"this host refuses arena maps to root: {exc}")


@pytest.mark.parametrize("fixture", ["maps", "arena"])
def test_maps_match_libbpf(compiled, kernel, bpffs, fixture):
    path = compiled(fixture)
    obj = load_object(path)
    numbers = {v: k for k, v in map_type_names().items()}
    with _loaded_or_refused(path, bpffs, fixture) as live:
        created = live.maps()
        pins = sorted(p.name for p in bpffs.iterdir() if not p.name.endswith(".debug"))
        ours = {m.name: m for m in obj.maps}
        assert set(ours) == set(created)
        for name, m in ours.items():
            c = created[name]
            assert numbers[m.type] == c.type, name
            assert (m.key_size, m.value_size, m.max_entries) == (
                c.key_size,
                c.value_size,
                c.max_entries,
            ), name
            assert (m.flags, m.map_extra, m.numa_node) == (c.flags, c.map_extra, c.numa_node), name
            assert (m.pinning is not None) == c.pinned, name
            if m.pinning:
                assert c.pin_path == str(bpffs / name)
        if fixture == "arena":
            assert ours["arena"].map_extra == 1 << 44
            return
        # initial slots: the kernel holds the ids of the maps kptrdoc names
        outer = ours["outer"]
        assert [(s.index, s.target) for s in outer.slots] == [(1, "inner_a"), (3, "inner_b")]
        for index in range(outer.max_entries):
            want = {s.index: created[s.target].id for s in outer.slots}.get(index)
            assert live.lookup_u32("outer", index) == want
        jumps = ours["jumps"]
        assert [(s.index, s.target) for s in jumps.slots] == [(1, "tail")]
        assert live.lookup_u32("jumps", 1) == live.program_id("tail")
        assert live.lookup_u32("jumps", 0) is None
    assert pins == ["pinned_hash"]
    assert not any(p.name == "pinned_hash" for p in Path(bpffs).iterdir()), "pin removed"


def test_decoded_definitions(compiled):
    obj = load_object(compiled("maps"))
    bloom = obj.map("bloom")
    assert (bloom.type, bloom.map_extra, bloom.key_size) == ("BPF_MAP_TYPE_BLOOM_FILTER", 5, 0)
    events = obj.map("events")
    assert (events.declared_max_entries, events.max_entries) == (10000, 16384)
    outer_hash = obj.map("outer_hash")
    assert outer_hash.inner is not None
    assert outer_hash.inner.type == "BPF_MAP_TYPE_HASH"
    assert (outer_hash.inner.max_entries, outer_hash.inner.key_size) == (16, 4)
    assert outer_hash.value_size == 4 and outer_hash.slots == ()
    assert obj.map("outer").inner.name == "outer.inner"
    assert obj.map("pinned_hash").pinning == "LIBBPF_PIN_BY_NAME"
    assert obj.map("flagged_hash").key.type == "struct key_pair"
    sized = obj.map("sized_percpu")
    assert (sized.key_size, sized.value_size, sized.key, sized.value) == (4, 24, None, None)
