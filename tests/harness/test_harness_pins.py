"""Objects that pin maps by name are loaded with a private pin root and leave nothing pinned."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from harness_support import write_sample

PINNED = """
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, long);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kptrdoc_pin_probe SEC(".maps");

SEC("raw_tp/sched_process_fork")
__success
int count_forks(void *ctx)
{
	int key = 0;
	long *value = bpf_map_lookup_elem(&kptrdoc_pin_probe, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
	return 0;
}
"""


def _mounts() -> str:
    return Path("/proc/self/mounts").read_text()


def test_pinned_map_goes_to_a_private_root_and_is_removed(kernel: None, tmp_path: Path) -> None:
    from kptrdoc.compile import compile_sample
    from kptrdoc.loader import _PINS, load_program

    obj = compile_sample(write_sample(tmp_path, "pin.bpf.c", PINNED))
    result = load_program(obj.path, "count_forks")
    assert result.verdict == "loaded", result.reason
    # libbpf says where it pinned: our private mount, never /sys/fs/bpf
    pinned = [m for m in result.libbpf_messages if m.startswith("pinned map ")]
    assert pinned, result.libbpf_messages
    assert _PINS.mountpoint is not None
    assert all(f"'{_PINS.mountpoint}/" in m for m in pinned), pinned
    assert not Path("/sys/fs/bpf/kptrdoc_pin_probe").exists()
    left = [p.name for p in _PINS.mountpoint.iterdir() if not p.name.endswith(".debug")]
    assert left == [], "pins left in the private root"
    mountpoint = _PINS.mountpoint
    _PINS.remove()
    assert str(mountpoint) not in _mounts()
    assert not mountpoint.exists()
    # the pin held the map's last reference: the kernel frees it (bpftool is the witness)
    assert _maps_named("kptrdoc_pin_pro") == []


def _maps_named(name: str, wait: float = 5.0) -> list[dict]:
    deadline = time.monotonic() + wait
    while True:
        out = subprocess.run(
            ["bpftool", "map", "show", "-j"], capture_output=True, text=True, check=True
        ).stdout
        found = [m for m in json.loads(out or "[]") if m.get("name") == name]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)
