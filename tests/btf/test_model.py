"""The model, .BTF.ext and ELF layers against independent truth: llvm-readelf's
symbol table, bpftool's decl tags, the fixture source text, and what the
fixture's C code means (which fields a CO-RE access touches)."""

from __future__ import annotations

import re
import subprocess

import pytest
from btf_support import FIXTURE_SOURCES, FIXTURES, TARGETS, bpftool_dump, need_tool

from kptrdoc.btf import (
    Array,
    Datasec,
    Func,
    Struct,
    Var,
    load_object_btf,
)
from kptrdoc.elf import ElfObject

DECL_TAG = re.compile(r"^\[(\d+)\] DECL_TAG '([^']*)' type_id=(\d+) component_idx=(-?\d+)$", re.M)


def readelf_symbols(obj) -> list[tuple[str, str | None, int, int, str, str]]:
    tool = need_tool("llvm-readelf-19")
    sections = {}
    out = subprocess.run(
        [tool, "-S", "--wide", str(obj)], capture_output=True, text=True, check=True
    )
    for m in re.finditer(r"^\s*\[\s*(\d+)\] (\S+)", out.stdout, re.M):
        sections[m.group(1)] = m.group(2)
    out = subprocess.run(
        [tool, "-s", "--wide", str(obj)], capture_output=True, text=True, check=True
    )
    rows = []
    for line in out.stdout.splitlines():
        m = re.match(r"\s*\d+: ([0-9a-f]+)\s+(\d+) (\w+)\s+(\w+)\s+\w+\s+(\w+) ?(.*)$", line)
        if not m:
            continue
        value, size, typ, bind, ndx, name = m.groups()
        rows.append((name, sections.get(ndx), int(value, 16), int(size), typ, bind))
    return rows


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("source", FIXTURE_SOURCES, ids=lambda p: p.stem)
def test_elf_symbols_match_readelf(source, target, compile_fixture):
    obj = compile_fixture(source, target)
    elf = ElfObject.open(obj)
    assert elf.byte_order == ("little" if target == "bpfel" else "big")
    assert elf.machine == "EM_BPF"
    theirs = [r for r in readelf_symbols(obj) if r[4] not in ("SECTION", "FILE") and r[0]]
    ours = [
        (s.name, s.section, s.value, s.size, s.type, s.binding)
        for s in elf.symbols
        if s.type not in ("SECTION", "FILE") and s.name
    ]
    assert sorted(ours, key=str) == sorted(theirs, key=str)
    # programs: FUNC symbols of executable sections, size in instructions
    funcs = {(r[0], r[1]): r for r in theirs if r[4] == "FUNC"}
    assert {(p.name, p.section) for p in elf.programs} == set(funcs)
    for p in elf.programs:
        assert p.insn_count * 8 == funcs[(p.name, p.section)][3]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("source", FIXTURE_SOURCES, ids=lambda p: p.stem)
def test_decl_tags_match_bpftool(source, target, compile_fixture, bpftool):
    obj = compile_fixture(source, target)
    spec, _ = load_object_btf(obj)
    theirs = {
        (int(tag_id), name, int(target_id), int(idx))
        for tag_id, name, target_id, idx in DECL_TAG.findall(bpftool_dump(bpftool, obj).decode())
    }
    ours = {
        (t.id, t.name, t.type, t.component_idx)
        for type_id in range(1, spec.type_count)
        for t in spec.decl_tags_of(type_id)
    }
    assert ours == theirs


@pytest.mark.parametrize("target", TARGETS)
def test_expectation_tags_on_programs(target, compile_fixture):
    spec, _ = load_object_btf(compile_fixture(FIXTURES / "progs.c", target))
    prog_one = spec.by_name("prog_one", Func)[0]
    assert [t.name for t in spec.decl_tags_of(prog_one.id, -1)] == [
        "kptrdoc:success",
        "kptrdoc:msg:first",
    ]
    sub = spec.by_name("sub", Func)[0]
    assert [(t.name, t.component_idx) for t in spec.decl_tags_of(sub.id)] == [("arg", 0)]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("source", FIXTURE_SOURCES, ids=lambda p: p.stem)
def test_ext_matches_source_and_symbols(source, target, compile_fixture):
    obj = compile_fixture(source, target)
    spec, ext = load_object_btf(obj)
    assert ext is not None
    elf = ElfObject.open(obj)
    source_lines = source.read_text().splitlines()
    checked = 0
    for section, lines in ext.line_info.items():
        assert section in elf.sections
        for li in lines:
            assert li.file_name.endswith(source.name)
            assert li.line_text == source_lines[li.line - 1]
            assert li.column <= len(li.line_text) + 1
            checked += 1
    assert checked
    symbols = {(s.section, s.value): s.name for s in elf.symbols if s.type == "FUNC"}
    for section, infos in ext.func_info.items():
        for fi in infos:
            func = spec.type(fi.type_id)
            assert isinstance(func, Func)
            assert symbols[(section, fi.byte_offset)] == func.name
            assert fi.insn_off == fi.byte_offset // 8


@pytest.mark.parametrize("target", TARGETS)
def test_core_relocations(target, compile_fixture):
    """progs.c reads t->pid, t->anon.b and t->more in sub(), asks for
    t->cpus_ptr's byte offset in prog_one and for the type id of task_like."""
    _spec, ext = load_object_btf(compile_fixture(FIXTURES / "progs.c", target))
    got = {
        sec: [(r.kind_name, r.path, r.access) for r in relos]
        for sec, relos in ext.core_relos.items()
    }
    assert got[".text"] == [
        ("FIELD_BYTE_OFFSET", "task_like.pid", "0:0"),
        ("FIELD_BYTE_OFFSET", "task_like.anon.b", "0:2:1"),
        ("FIELD_BYTE_OFFSET", "task_like.more", "0:4"),
    ]
    assert got["tp_btf/task_newtask"] == [("FIELD_BYTE_OFFSET", "task_like.cpus_ptr", "0:1")]
    assert got["xdp"] == [("TYPE_ID_LOCAL", "task_like", "0")]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("source", FIXTURE_SOURCES, ids=lambda p: p.stem)
def test_var_sizes_match_symbols(source, target, compile_fixture):
    """size_of() of every DATASEC variable equals its ELF symbol's size (llvm-readelf)."""
    obj = compile_fixture(source, target)
    spec, _ = load_object_btf(obj)
    sizes = {(r[1], r[0]): r[3] for r in readelf_symbols(obj) if r[4] == "OBJECT"}
    checked = 0
    for sec in (t for t in spec if isinstance(t, Datasec)):
        for info in sec.vars:
            var = spec.type(info.type)
            if isinstance(var, Var) and (sec.name, var.name) in sizes:
                size, symbol = spec.size_of(var.type), sizes[(sec.name, var.name)]
                if size != symbol:
                    # an initialised flexible array (map-in-map ``values``) grows the symbol
                    record = spec.type(spec.strip(var.type))
                    last = spec.type(spec.strip(record.members[-1].type))
                    assert isinstance(last, Array) and last.nelems == 0, var.name
                    assert symbol > size
                checked += 1
    assert checked


@pytest.mark.parametrize("target", TARGETS)
def test_kptr_tag_chain_and_layout(target, compile_fixture):
    spec, _ = load_object_btf(compile_fixture(FIXTURES / "progs.c", target))
    value = spec.by_name("map_value", Struct)[0]
    chain = spec.tag_chain(value.members[0].type)
    assert [(t.kind_name, t.name) for t in chain[:2]] == [("PTR", ""), ("TYPE_TAG", "kptr")]
    # clang emits the pointee as a FWD: nothing in progs.c uses it by value
    assert (chain[2].kind_name, chain[2].name) in (
        ("STRUCT", "cpumask_like"),
        ("FWD", "cpumask_like"),
    )
    assert len(chain) == 3
    assert spec.size_of(value.id) == 16 and spec.align_of(value.id) == 8
    assert spec.strip(spec.by_name("__u64")[0].id) == spec.by_name("unsigned long long")[0].id
