"""Globals and externs: offsets and sizes against the BTF libbpf fixed up and loaded."""

from __future__ import annotations

import subprocess

from libbpf_truth import loaded

from kptrdoc.objects import load_object


def test_globals_match_loaded_btf(compiled, kernel):
    path = compiled("globals")
    obj = load_object(path)
    sections = {s.name: s for s in obj.data_sections}
    assert set(sections) == {
        ".bss",
        ".data",
        ".rodata",
        ".data.custom",
        ".rodata.custom",
        ".rodata.str1.1",
        ".kconfig",
        ".ksyms",
    }
    with loaded(path) as live:
        created = live.maps()
        for sec in sections.values():
            if not sec.variables and sec.kind == "rodata":
                # string literals: no BTF DATASEC, but libbpf still makes the map
                m = created[sec.map_name]
                assert (m.value_size, m.flags) == (sec.value_size, sec.flags), sec.name
                continue
            size, variables = live.datasec(sec.name)
            if sec.value_size is not None:
                assert sec.value_size == size, sec.name
                m = created[sec.map_name]
                assert (m.value_size, m.key_size, m.max_entries) == (sec.value_size, 4, 1)
                assert m.flags == sec.flags, sec.name
            for var in sec.variables:
                if var.linkage == "static":
                    continue  # libbpf leaves static variables' offsets as clang wrote them
                if sec.name == ".ksyms" and var.name not in variables:
                    # libbpf points a kfunc's slot at its one 'dummy_ksym' variable
                    assert "dummy_ksym" in variables
                    continue
                assert variables[var.name] == (var.offset, var.size), (sec.name, var.name)
    assert {m.name for m in obj.maps} == set()


def test_global_offsets_from_symbols(compiled):
    obj = load_object(compiled("globals"))
    by_name = {v.name: v for v in obj.globals}
    # clang writes 0 for every offset in the BTF; these come from the symbol table
    assert (by_name["bss_pair"].offset, by_name["bss_pair"].size) == (24, 16)
    assert by_name["static_hits"].linkage == "static"
    assert by_name["hidden_hits"].linkage == "hidden"
    assert by_name["ro_seed"].section == ".rodata"
    assert by_name["custom_data2"].section == ".data.custom"
    pair = by_name["bss_pair"].layout
    assert [(f.name, f.offset) for f in pair.fields] == [("a", 0), ("b", 8)]
    assert [(h.after, h.offset, h.size) for h in pair.holes] == [("a", 1, 7)]


def _readelf_undefined(path) -> dict[str, str]:
    out = subprocess.run(["readelf", "-sW", str(path)], capture_output=True, text=True, check=True)
    found = {}
    for line in out.stdout.splitlines():
        cols = line.split()
        if len(cols) == 8 and cols[6] == "UND" and cols[7] and cols[3] == "NOTYPE":
            found[cols[7]] = cols[4]
    return found


def test_externs(compiled):
    path = compiled("globals")
    obj = load_object(path)
    undefined = _readelf_undefined(path)
    externs = {e.name: e for e in obj.externs}
    assert set(externs) == set(undefined)
    for name, e in externs.items():
        assert e.weak == (undefined[name] == "WEAK"), name
    kinds = {name: e.kind for name, e in externs.items()}
    assert kinds == {
        "LINUX_KERNEL_VERSION": "kconfig",
        "CONFIG_BPF_SYSCALL": "kconfig",
        "CONFIG_KPTRDOC_NOT_A_THING": "kconfig",
        "CONFIG_HZ": "kconfig",
        "bpf_cpumask_create": "kfunc",
        "bpf_cpumask_release": "kfunc",
        "bpf_kptrdoc_missing_kfunc": "kfunc",
        "kptrdoc_missing_ksym": "ksym",
    }
    assert externs["bpf_cpumask_create"].signature == (
        "extern struct bpf_cpumask *bpf_cpumask_create(void) __ksym;"
    )
    assert externs["bpf_kptrdoc_missing_kfunc"].signature == (
        "extern int bpf_kptrdoc_missing_kfunc(int, void *) __weak __ksym;"
    )
    assert externs["kptrdoc_missing_ksym"].signature == (
        "extern const int kptrdoc_missing_ksym __weak __ksym;"
    )
    assert externs["CONFIG_HZ"].signature == "extern unsigned long CONFIG_HZ __weak __kconfig;"
