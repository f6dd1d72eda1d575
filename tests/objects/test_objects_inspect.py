"""``kptrdoc inspect``: the JSON keys other parts of kptrdoc rely on, and the text summary."""

from __future__ import annotations

import json
import subprocess
import sys


def _inspect(path, *extra):
    proc = subprocess.run(
        [sys.executable, "-m", "kptrdoc", "inspect", str(path), *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_json_keys(compiled):
    data = json.loads(_inspect(compiled("maps"), "--json"))
    assert {"programs", "maps", "globals", "externs"} <= set(data)
    prog = data["programs"][0]
    assert {"name", "section", "prog_type", "insns", "expect"} <= set(prog)
    plain = next(m for m in data["maps"] if m["name"] == "plain_array")
    assert {
        "name",
        "type",
        "key_size",
        "value_size",
        "max_entries",
        "flags",
        "key_type",
        "value_type",
        "inner_map",
        "fields",
    } <= set(plain)
    assert plain["type"] == "BPF_MAP_TYPE_ARRAY"
    assert (plain["key_type"], plain["value_type"]) == ("__u32", "struct counters")
    field = plain["fields"][3]
    assert {"name", "offset", "size", "bit_offset", "bit_size", "type", "special"} <= set(field)
    assert (field["name"], field["offset"], field["bit_offset"], field["bit_size"]) == (
        "flags",
        14,
        112,
        3,
    )
    outer = next(m for m in data["maps"] if m["name"] == "outer")
    assert outer["inner_map"]["type"] == "BPF_MAP_TYPE_ARRAY"
    assert outer["slots"] == [{"index": 1, "target": "inner_a"}, {"index": 3, "target": "inner_b"}]

    data = json.loads(_inspect(compiled("globals"), "--json"))
    g = next(v for v in data["globals"] if v["name"] == "bss_pair")
    assert {"section", "name", "offset", "size", "type"} <= set(g)
    assert (g["section"], g["offset"], g["size"], g["type"]) == (".bss", 24, 16, "struct pair")
    e = next(x for x in data["externs"] if x["name"] == "kptrdoc_missing_ksym")
    assert e == {**e, "kind": "ksym", "weak": True}
    assert set(e) >= {"name", "kind", "weak", "signature"}


def test_json_special(compiled):
    data = json.loads(_inspect(compiled("special_kptr"), "--json"))
    kptrs = next(m for m in data["maps"] if m["name"] == "kptrs")
    assert [(f["name"], f["special"]) for f in kptrs["fields"]] == [
        ("id", None),
        ("mask", "kptr"),
        ("pcpu", "percpu_kptr"),
    ]


def test_text_summary(compiled):
    text = _inspect(compiled("special_lock"))
    assert "lock_timer  BPF_MAP_TYPE_HASH" in text
    assert "struct bpf_spin_lock lock  [bpf_spin_lock]" in text
    assert "special bpf_timer at 24 (box.timer)" in text
