"""``kptrdoc inspect``: the JSON keys other parts of kptrdoc rely on, and the text summary."""

from __future__ import annotations

import json
import re
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


SAMPLES = sorted(
    (__import__("pathlib").Path(__file__).resolve().parents[2] / "samples").glob("*/*.bpf.c")
)


def _objdump_slots(path, functions: set[str]) -> dict[str, dict[int, int]]:
    """llvm-objdump-19's view: per function, slot index -> opcode byte (other labels,
    such as local jump targets, do not start a function)."""
    import re

    out = subprocess.run(
        ["llvm-objdump-19", "-d", "--mcpu=v4", str(path)], capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    slots: dict[str, dict[int, int]] = {}
    current = None
    for line in out.splitlines():
        head = re.match(r"^[0-9a-f]+ <(\S+)>:$", line)
        if head and head.group(1) in functions:
            current = slots.setdefault(head.group(1), {})
            continue
        if line.startswith("Disassembly of section"):
            current = None
        insn = re.match(r"^\s*(\d+):\s+((?:[0-9a-f]{2}\s){8})", line)
        if insn and current is not None:
            current[int(insn.group(1))] = int(insn.group(2).split()[0], 16)
    return slots


def test_inspect_instructions_agree_with_llvm_objdump_on_every_sample() -> None:
    from kptrdoc.compile import compile_sample
    from kptrdoc.toolchain import target_arch
    from kptrdoc.variants import main_variant

    checked = 0
    for sample in SAMPLES:
        variant = main_variant(sample, target_arch())
        if variant is None:
            continue
        path = compile_sample(sample, variant).path
        data = json.loads(_inspect(path, "--json"))
        functions = data["programs"] + data["subprograms"]
        theirs = _objdump_slots(path, {f["name"] for f in functions})
        for prog in functions:
            first = min(theirs[prog["name"]])  # llvm counts from the section start
            ours = {i["index"] + first: i["code"] for i in prog["instructions"]}
            assert ours == theirs[prog["name"]], f"{sample.name}: {prog['name']}"
            checked += len(ours)
    assert checked > 1000


def test_inspect_core_values_agree_with_libbpfs_log_of_a_real_load(kernel) -> None:
    """On the running kernel: every 'patched insn #N ... -> V' line of libbpf's debug log
    of a load is the value --target-btf gives that relocation."""
    import re

    from kptrdoc.compile import compile_sample
    from kptrdoc.loader import load_program

    sample = next(s for s in SAMPLES if s.parent.name == "__arg_nullable" and "mistakes" in s.name)
    path = compile_sample(sample).path
    data = json.loads(_inspect(path, "--json", "--target-btf", "/sys/kernel/btf/vmlinux"))
    prog = next(p for p in data["programs"] if p["name"] == "nullable_unchecked")
    relos = {r["insn"]: r for r in prog["core_relocations"]}
    assert relos and all("value" in r for r in relos.values())
    result = load_program(path, "nullable_unchecked")
    patched = {}
    for line in result.libbpf_messages:
        found = re.search(r"prog 'nullable_unchecked': relo #\d+: patched insn #(\d+) \(\S+\) "
                          r"(?:off|imm|imm64) (\d+) -> (\d+)", line)  # fmt: skip
        if found:
            patched[int(found.group(1))] = int(found.group(3))
    assert patched, result.libbpf_messages
    for insn, value in patched.items():
        assert relos[insn]["value"] == value, (insn, relos[insn], value)


def test_the_text_view_lists_instructions_with_relocations(compiled) -> None:
    from kptrdoc.compile import compile_sample

    sample = next(s for s in SAMPLES if s.parent.name == "__kptr" and s.name == "kptr.bpf.c")
    text = _inspect(compile_sample(sample).path)
    assert "call bpf_cpumask_create  ; kfunc bpf_cpumask_create" in text
    assert re.search(r"; CO-RE byte_off task_struct\.cpus_ptr \(0:\d+\)", text)
