"""Malformed ``.maps`` definitions: one line naming the map, exit status 1, no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest
from objects_support import compile_fixture

from kptrdoc.objects import ObjectError, load_object

HEADER = '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n'
FOOTER = 'char LICENSE[] SEC("license") = "GPL";\n'

CASES = {
    "uint_not_array": (
        "struct { int *type; __uint(max_entries, 1); __type(key, int); __type(value, int); }"
        ' bad_uint SEC(".maps");\n',
        "bad_uint",
        "pointer to an array",
    ),
    "uint_not_pointer": (
        'struct { int type; __uint(max_entries, 1); } not_ptr SEC(".maps");\n',
        "not_ptr",
        "pointer to an array",
    ),
    "value_unresolved": (
        "struct kptrdoc_never_defined;\n"
        "struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1); __type(key, int);"
        ' __type(value, struct kptrdoc_never_defined); } fwd_value SEC(".maps");\n',
        "fwd_value",
        "does not resolve",
    ),
    "map_in_map_without_inner": (
        "struct { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 1);"
        ' __type(key, int); } lonely_outer SEC(".maps");\n',
        "lonely_outer",
        "inner map definition",
    ),
    "no_type": (
        "struct { __uint(max_entries, 1); __type(key, int); __type(value, int); }"
        ' untyped SEC(".maps");\n',
        "untyped",
        "no map type",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_map(tmp_path, case):
    body, map_name, words = CASES[case]
    src = tmp_path / f"{case}.bpf.c"
    src.write_text(HEADER + body + FOOTER)
    obj = compile_fixture(src, tmp_path)
    for extra in ([], ["--json"]):
        proc = subprocess.run(
            [sys.executable, "-m", "kptrdoc", "inspect", str(obj), *extra],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 1
        assert proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert f"map '{map_name}'" in lines[0]
        assert str(obj) in lines[0]
        assert words in lines[0]


def test_lenient_load_keeps_the_good_maps(tmp_path):
    body = "".join(CASES[c][0] for c in ("uint_not_array", "no_type"))
    body += (
        "struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1);"
        ' __type(key, int); __type(value, int); } fine SEC(".maps");\n'
    )
    src = tmp_path / "mixed.bpf.c"
    src.write_text(HEADER + body + FOOTER)
    obj_path = compile_fixture(src, tmp_path)
    with pytest.raises(ObjectError, match="map 'bad_uint'"):
        load_object(obj_path)
    obj = load_object(obj_path, strict=False)
    assert [m.name for m in obj.maps] == ["fine"]
    assert len(obj.problems) == 2
    assert "map 'bad_uint'" in obj.problems[0] and "map 'untyped'" in obj.problems[1]


def test_not_an_object(tmp_path):
    bogus = tmp_path / "bogus.o"
    bogus.write_bytes(b"not an elf file at all")
    proc = subprocess.run(
        [sys.executable, "-m", "kptrdoc", "inspect", str(bogus)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1
    assert str(bogus) in proc.stderr
