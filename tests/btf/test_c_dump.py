"""``kptrdoc btf dump --format c`` is byte-identical to ``bpftool btf dump file F format c``.

Both Debian builds of bpftool run at test time: the installed one and the
other release, unpacked from its ``.deb`` (7.1 is Debian 12's, 7.5 Debian 13's;
``toolchain.bpftool_release``). Each prints its own dialect
(``--c-dialect``), on the fixtures compiled for ``bpfel`` and ``bpfeb``, every
sample object, the running kernel's vmlinux, module BTF against its base and
crafted blobs. Module BTF of a guest kernel is in ``test_guest_split_btf.py``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from btf_support import (
    FIXTURE_SOURCES,
    FIXTURES,
    TARGETS,
    bpftool_c,
    bpftool_dump,
    compile_sample,
    debian_bpftool,
    kptrdoc,
    kptrdoc_c,
    need_tool,
    sample_sources,
)
from btfbuild import Builder
from test_raw_dump import assert_same, build_crafted, crafted

VMLINUX = Path("/sys/kernel/btf/vmlinux")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("source", FIXTURE_SOURCES, ids=lambda p: p.stem)
def test_fixture_objects(source, target, compile_fixture, c_bpftool):
    dialect, bpftool = c_bpftool
    obj = compile_fixture(source, target)
    assert_same(kptrdoc_c(dialect, obj), bpftool_c(bpftool, obj))


@pytest.mark.parametrize("source", sample_sources(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_objects(source, clang, c_bpftool, build_dir):
    dialect, bpftool = c_bpftool
    obj = compile_sample(clang, source, build_dir)
    assert_same(kptrdoc_c(dialect, obj), bpftool_c(bpftool, obj))


def test_vmlinux(c_bpftool):
    if not VMLINUX.exists():
        pytest.skip("the running kernel exposes no /sys/kernel/btf/vmlinux")
    dialect, bpftool = c_bpftool
    theirs = bpftool_c(bpftool, VMLINUX)
    assert_same(kptrdoc_c(dialect, VMLINUX), theirs)
    if dialect == "7.5":  # the dialect's own marks are really in bpftool's output
        assert b"\n/* BPF kfuncs */\n" in theirs and b"mode(byte)" in theirs
    else:
        assert b"#define __ksym" not in theirs and b"mode(byte)" not in theirs


def test_module_split_btf(c_bpftool):
    modules = sorted(p for p in Path("/sys/kernel/btf").glob("*") if p.name != "vmlinux")[:3]
    if not modules:
        pytest.skip("no kernel module has BTF in /sys/kernel/btf on this machine")
    dialect, bpftool = c_bpftool
    for module in modules:
        got = kptrdoc_c(dialect, module, "--base", str(VMLINUX))
        assert_same(got, bpftool_c(bpftool, module, VMLINUX))


@pytest.mark.parametrize("order", ["<", ">"], ids=["le", "be"])
@pytest.mark.parametrize("hdr", ["24", "32-layout"])
def test_crafted_blobs(order, hdr, tmp_path, c_bpftool):
    dialect, bpftool = c_bpftool
    path = tmp_path / "crafted.btf"
    path.write_bytes(build_crafted(order, hdr))
    # libbpf before 1.8 refuses big-endian BTF with a 32-byte header: bpftool reads
    # the little-endian twin (the C text does not depend on byte order)
    reference = path
    if order == ">" and hdr != "24":
        reference = tmp_path / "crafted-le.btf"
        reference.write_bytes(build_crafted("<", hdr))
    assert_same(kptrdoc_c(dialect, path), bpftool_c(bpftool, reference))


def test_split_btf_against_crafted_base(tmp_path, c_bpftool):
    dialect, bpftool = c_bpftool
    base = crafted("<")
    split = Builder("<", str_base=len(base.strings))
    split.count = base.count
    split.add(2, "", 0, 6)  # PTR to the base's old_bitfields
    split.record(4, "in_split", 16, [("p", base.count + 1, 0), ("i", 1, 64)])
    split.add(8, "base_name_reused", 0, 1)
    (tmp_path / "base.btf").write_bytes(base.build())
    (tmp_path / "split.btf").write_bytes(split.build())
    got = kptrdoc_c(dialect, tmp_path / "split.btf", "--base", str(tmp_path / "base.btf"))
    assert_same(got, bpftool_c(bpftool, tmp_path / "split.btf", tmp_path / "base.btf"))


def layout_corners() -> Builder:
    """What the ordering, naming and layout rules decide, in one blob.

    Duplicate names, anonymous enums used and unused, a record reached only
    through a pointer, a by-value cycle broken by a pointer, packed and
    misaligned records, padding before and after bitfields, one- and
    eight-byte enums, function pointers and arrays of them, an empty struct.
    """
    b = Builder()
    int_ = b.int_("int", 4, 32, encoding=1)  # 1
    char = b.int_("char", 1, 8, encoding=2)  # 2
    long_ = b.int_("long", 8, 64, encoding=1)  # 3
    short = b.int_("short", 2, 16, encoding=1)  # 4
    b.add(6, "", 2, 4, b.u32(b.s("ANON_A"), 1, b.s("ANON_B"), 2))  # 5: unreferenced anon enum
    b.add(6, "", 1, 4, b.u32(b.s("USED"), 7))  # 6: anon enum used by a member
    b.add(6, "byte_enum", 1, 1, b.u32(b.s("SMALL"), 1))  # 7
    b.add(19, "wide", 1, 8, b.u32(b.s("WIDE"), 1, 0))  # 8: enum64 fitting 32 bits
    b.add(6, "dup", 1, 4, b.u32(b.s("DUP_A"), 0))  # 9: enum 'dup'
    b.record(4, "dup", 4, [("x", int_, 0)])  # 10: struct 'dup' -> dup___2
    b.add(2, "", 0, 12)  # 11: ptr to 12
    b.record(4, "node", 16, [("next", 11, 0), ("val", int_, 64)])  # 12: self-referencing
    b.record(4, "packed", 5, [("c", char, 0), ("i", int_, 8)])  # 13: misaligned int
    bits = [("a", int_, 3 << 24), ("b", int_, 5 << 24 | 40), ("l", long_, 64)]
    b.record(4, "bits", 16, bits, kflag=1)  # 14: padding between bitfields
    b.record(4, "padded", 24, [("c", char, 0), ("s", short, 64), ("e", 6, 96)])  # 15
    b.add(13, "", 1, int_, b.u32(0, int_))  # 16: int (*)(int)
    b.add(2, "", 0, 16)  # 17
    b.add(3, "", 0, 0, b.u32(17, int_, 4))  # 18: array of 4 function pointers
    b.record(4, "calls", 32, [("fns", 18, 0)])  # 19
    b.record(4, "empty", 0, [])  # 20
    b.add(8, "node_t", 0, 12)  # 21: typedef struct node node_t
    b.add(2, "", 0, 21)  # 22
    b.record(5, "u", 8, [("p", 22, 0), ("w", 8, 0), ("b", 7, 0)])  # 23
    b.add(13, "", 0, 0, b"")  # 24: void (void)
    b.add(2, "", 0, 24)  # 25
    b.record(4, "holder", 16, [("cb", 25, 0), ("later", 27, 64)])  # 26: later by pointer
    b.add(2, "", 0, 28)  # 27
    b.record(4, "later", 4, [("x", int_, 0)])  # 28
    return b


def test_layout_corners(tmp_path, c_bpftool):
    """Each rule on a blob made for it; bpftool is the truth, clang must compile it."""
    dialect, bpftool = c_bpftool
    path = tmp_path / "corners.btf"
    path.write_bytes(layout_corners().build())
    theirs = bpftool_c(bpftool, path)
    assert_same(kptrdoc_c(dialect, path), theirs)
    assert b"dup___2" in theirs and b"__attribute__((packed))" in theirs
    # bpftool 7.5 dumps its sorted list from the second entry: the unreferenced
    # anonymous enum sorts first, and only 7.1 prints it
    assert (b"ANON_A" in theirs) == (dialect == "7.1")
    clang = need_tool("clang-19")
    header = tmp_path / "corners.h"
    header.write_bytes(theirs)
    subprocess.run([clang, "-target", "bpf", "-fsyntax-only", "-x", "c", str(header)], check=True)


def test_root_types_compile_with_the_layout_of_the_btf(tmp_path):
    """``--root``: one struct and what it needs; clang agrees with the BTF on its size."""
    if not VMLINUX.exists():
        pytest.skip("the running kernel exposes no /sys/kernel/btf/vmlinux")
    clang = need_tool("clang-19")
    from kptrdoc.btf import Struct, load_btf

    spec = load_btf(VMLINUX)
    probe = tmp_path / "probe.c"
    for name in ("task_struct", "bpf_map", "sk_buff"):
        (struct,) = [t for t in spec.by_name(name, Struct) if t.members]
        got = kptrdoc_c("7.5", VMLINUX, "--root", f"struct {name}")
        assert got.count(f"\nstruct {name} {{".encode()) == 1
        probe.write_bytes(
            got + f'_Static_assert(sizeof(struct {name}) == {struct.size}, "size");\n'.encode()
        )
        subprocess.run([clang, "-target", "bpf", "-fsyntax-only", str(probe)], check=True)


@pytest.mark.parametrize("target", TARGETS)
def test_every_id_as_a_root_is_bpftool_71s_whole_dump(target, compile_fixture, tmp_path):
    """bpftool 7.1 dumps a file by dumping each id from 1 in turn. ``--root`` with every
    id in that order (names read on first use, the lazy view) must print the same."""
    bpftool = debian_bpftool("7.1")
    for path in (compile_fixture(FIXTURES / "progs.c", target), tmp_path / "corners.btf"):
        if path.suffix == ".btf":
            path.write_bytes(layout_corners().build())
        count = sum(1 for line in bpftool_dump(bpftool, path).splitlines() if line[:1] == b"[")
        roots = [arg for i in range(1, count + 1) for arg in ("--root", str(i))]
        assert_same(kptrdoc_c("7.1", path, *roots), bpftool_c(bpftool, path))


def test_unknown_root_is_one_line(tmp_path):
    path = tmp_path / "corners.btf"
    path.write_bytes(layout_corners().build())
    for root in ("no_such_type", "99999"):
        run = kptrdoc("btf", "dump", str(path), "--format", "c", "--root", root)
        assert run.returncode == 1
        assert run.stderr.count("\n") == 1 and str(path) in run.stderr, run.stderr
    run = kptrdoc("btf", "dump", str(path), "--root", "dup")
    assert run.returncode == 1 and "--format c" in run.stderr and run.stderr.count("\n") == 1


def test_non_ascii_names_are_bytes_as_bpftool_prints_them(tmp_path, c_bpftool):
    """A UTF-8 name (and one that is not UTF-8) prints as the bytes of the string table."""
    dialect, bpftool = c_bpftool
    b = Builder()
    int_ = b.int_("int", 4, 32, encoding=1)
    b.record(4, "caf\u00e9", 4, [("\u00fcber", int_, 0)])
    b.record(4, "after", 4, [("x", int_, 0)])
    blob = bytearray(b.build())
    blob[blob.index(b"after")] = 0xFF  # not UTF-8: b"\xfffter"
    path = tmp_path / "names.btf"
    path.write_bytes(bytes(blob))
    theirs = bpftool_c(bpftool, path)
    assert "struct café {".encode() in theirs and b"struct \xfffter {" in theirs
    assert_same(kptrdoc_c(dialect, path), theirs)


def first_in_order(case: str) -> Builder:
    """Blobs whose first type in bpftool 7.5's order is each kind of type."""
    b = Builder()
    int_ = b.int_("int", 4, 32, encoding=1)
    if case == "named enum":  # no anonymous enum: the named one sorts first
        b.add(6, "e", 1, 4, b.u32(b.s("E_A"), 1))
    if case == "tag before enum":  # a tag on the enum sorts with it, before it by name
        enum = b.add(6, "e", 1, 4, b.u32(b.s("E_A"), 1))
        b.add(17, "a_tag", 0, enum, b.u32(0xFFFFFFFF))
    b.record(4, "s", 4, [("x", int_, 0)])
    return b


@pytest.mark.parametrize("case", ["named enum", "tag before enum", "number"])
def test_the_first_type_of_bpftools_order(case, tmp_path, c_bpftool):
    """bpftool 7.5 dumps its sorted list from the second entry: a named enum that
    sorts first is left out; a number or a tag that sorts first costs nothing."""
    dialect, bpftool = c_bpftool
    path = tmp_path / "first.btf"
    path.write_bytes(first_in_order(case).build())
    theirs = bpftool_c(bpftool, path)
    assert_same(kptrdoc_c(dialect, path), theirs)
    assert b"struct s {" in theirs
    if case != "number":
        assert (b"enum e {" in theirs) == (dialect == "7.1" or case == "tag before enum")


def number_then_pointer_typedef(case: str) -> Builder:
    """A number placed before a typedef of it is reached through a pointer: whether
    the number counts as placed decides whether the typedef comes first."""
    b = Builder()
    int_ = b.int_("int", 4, 32, encoding=1)
    if case == "by id":
        s = b.count + 1
        b.record(4, "s", 8, [("p", s + 1, 0)])
        b.add(2, "", 0, s + 2)  # PTR -> myint
        b.add(8, "myint", 0, int_)
    else:  # "by name": bpftool 7.5 places int before mmm, mmm before zzz
        zzz = b.add(8, "zzz", 0, int_)
        ptr = b.add(2, "", 0, zzz)
        b.add(8, "mmm", 0, ptr)
    b.add(12, "f", 0, b.add(13, "", 0, int_))  # a function nothing refers to
    return b


@pytest.mark.parametrize("case", ["by id", "by name"])
def test_numbers_are_placed_where_bpftool_places_them(case, tmp_path, c_bpftool):
    dialect, bpftool = c_bpftool
    path = tmp_path / "numbers.btf"
    path.write_bytes(number_then_pointer_typedef(case).build())
    assert_same(kptrdoc_c(dialect, path), bpftool_c(bpftool, path))
