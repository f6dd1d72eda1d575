"""``kptrdoc btf dump --format raw`` is byte-identical to ``bpftool btf dump file``.

bpftool runs at test time on the same inputs: objects compiled from the
fixtures (little and big endian), the sample objects, the running kernel's
vmlinux and module BTF, and crafted blobs clang never emits.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from btf_support import (
    FIXTURE_SOURCES,
    TARGETS,
    bpftool_dump,
    compile_sample,
    kptrdoc,
    need_tool,
    sample_sources,
)
from btfbuild import LAYOUT, Builder

from kptrdoc.btf import Int, Struct, Unknown, parse_btf
from kptrdoc.btf.bpftool_compat import Dialect

VMLINUX = Path("/sys/kernel/btf/vmlinux")


def dump_args(dialect: Dialect) -> list[str]:
    return ["--format", "raw", "--bpftool-dialect", dialect.name]


def assert_same(ours: bytes, theirs: bytes) -> None:
    if ours != theirs:
        a, b = (
            ours.decode(errors="replace").splitlines(),
            theirs.decode(errors="replace").splitlines(),
        )
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                pytest.fail(f"first difference at line {i + 1}:\n kptrdoc: {x!r}\n bpftool: {y!r}")
        pytest.fail(f"line counts differ: kptrdoc {len(a)}, bpftool {len(b)}")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("source", FIXTURE_SOURCES, ids=lambda p: p.stem)
def test_fixture_objects(source, target, compile_fixture, bpftool, bpftool_dialect):
    obj = compile_fixture(source, target)
    run = kptrdoc("btf", "dump", str(obj), *dump_args(bpftool_dialect))
    assert run.returncode == 0, run.stderr
    assert_same(run.stdout, bpftool_dump(bpftool, obj))


@pytest.mark.parametrize("source", sample_sources(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sample_objects(source, clang, bpftool, bpftool_dialect, build_dir):
    obj = compile_sample(clang, source, build_dir)
    run = kptrdoc("btf", "dump", str(obj), *dump_args(bpftool_dialect))
    assert run.returncode == 0, run.stderr
    assert_same(run.stdout, bpftool_dump(bpftool, obj))


def test_vmlinux(bpftool, bpftool_dialect):
    if not VMLINUX.exists():
        pytest.skip("the running kernel exposes no /sys/kernel/btf/vmlinux")
    run = kptrdoc("btf", "dump", str(VMLINUX), *dump_args(bpftool_dialect))
    assert run.returncode == 0, run.stderr
    assert_same(run.stdout, bpftool_dump(bpftool, VMLINUX))


def kernel_modules() -> list[Path]:
    found = sorted(p for p in Path("/sys/kernel/btf").glob("*") if p.name != "vmlinux")
    return found[:3]


def test_module_split_btf(bpftool, bpftool_dialect):
    modules = kernel_modules()
    if not modules:
        pytest.skip("no kernel module has BTF in /sys/kernel/btf on this machine")
    for module in modules:
        run = kptrdoc(
            "btf", "dump", str(module), "--base", str(VMLINUX), *dump_args(bpftool_dialect)
        )
        assert run.returncode == 0, run.stderr
        assert_same(run.stdout, bpftool_dump(bpftool, module, VMLINUX))


# -- crafted blobs -----------------------------------------------------------------


def crafted(order: str) -> Builder:
    """Kinds and encodings clang does not emit: old-style bitfields, kind_flag tags."""
    b = Builder(order)
    b.int_("int", 4, 32, encoding=1)  # 1
    b.int_("u3", 4, 3)  # 2: a 3-bit int used as a kind_flag=0 bitfield
    b.int_("_Bool", 1, 1, encoding=4)  # 3
    b.int_("char", 1, 8, encoding=2)  # 4
    b.int_("odd", 4, 5, offset=2)  # 5: bits_offset != 0
    b.record(4, "old_bitfields", 8, [("a", 2, 0), ("b", 2, 3), ("", 1, 32)])  # 6
    b.record(5, "", 4, [("x", 1, 0), ("y", 5, 0)])  # 7: anonymous union
    b.add(18, "address_space(1)", 0, 1, kflag=1)  # 8: TYPE_TAG attribute
    b.add(17, "noinline", 0, 6, b.u32(0xFFFFFFFF), kflag=1)  # 9: DECL_TAG attribute
    b.add(17, "member", 0, 6, b.u32(1))  # 10
    b.add(2, "", 0, 8)  # 11
    b.add(12, "linkage_static", 0, 13)  # 12 FUNC -> 13
    b.add(13, "", 2, 1, b.u32(b.s("fmt"), 11) + b.u32(0, 0))  # 13: varargs proto
    b.add(12, "ext", 2, 13)  # 14: extern func
    b.add(16, "float", 0, 4)  # 15
    b.add(6, "negative", 1, 4, b.u32(b.s("NEG"), 0xFFFFFFF0), kflag=1)  # 16
    b.add(19, "e64", 1, 8, b.u32(b.s("BIG"), 1, 0x80000000), kflag=1)  # 17
    b.add(14, "v", 0, 1, b.u32(0))  # 18: static var
    b.add(15, ".data", 1, 4, b.u32(18, 0, 4))  # 19
    return b


def build_crafted(order: str, hdr: str) -> bytes:
    b = crafted(order)
    return b.build(24) if hdr == "24" else b.build(32, LAYOUT if hdr == "32-layout" else None)


@pytest.mark.parametrize("order", ["<", ">"], ids=["le", "be"])
@pytest.mark.parametrize("hdr", ["24", "32", "32-layout"])
def test_crafted_blobs(order, hdr, tmp_path, bpftool, bpftool_dialect):
    blob = build_crafted(order, hdr)
    path = tmp_path / "crafted.btf"
    path.write_bytes(blob)
    run = kptrdoc("btf", "dump", str(path), *dump_args(bpftool_dialect))
    assert run.returncode == 0, run.stderr
    # libbpf before 1.8 refuses big-endian BTF with a 32-byte header ("unsupported
    # header length"); the dump does not depend on byte order, so bpftool reads the
    # little-endian twin of the blob instead.
    reference = path
    if order == ">" and hdr != "24":
        reference = tmp_path / "crafted-le.btf"
        reference.write_bytes(build_crafted("<", hdr))
    assert_same(run.stdout, bpftool_dump(bpftool, reference))
    spec = parse_btf(blob)
    old = spec.type(6)
    assert isinstance(old, Struct) and not old.kind_flag
    assert [m.bit_offset for m in old.members] == [0, 3, 32]
    assert spec.type(8).attribute and spec.type(9).attribute and not spec.type(10).attribute
    assert spec.type(13).variadic
    assert spec.type(16).values[0].value == -16
    assert spec.type(17).values[0].value == -(2**63) + 1


@pytest.mark.parametrize("order", ["<", ">"], ids=["le", "be"])
def test_split_btf_against_crafted_base(order, tmp_path, bpftool, bpftool_dialect):
    base = crafted(order)
    base_blob = base.build()
    split = Builder(order, str_base=len(base.strings))
    split.count = base.count
    split.add(2, "", 0, 6)  # PTR to the base's old_bitfields
    split.record(4, "in_split", 16, [("p", base.count + 1, 0), ("i", 1, 64)])
    split.add(8, "base_name_reused", 0, 1)
    (tmp_path / "base.btf").write_bytes(base_blob)
    (tmp_path / "split.btf").write_bytes(split.build())
    run = kptrdoc(
        "btf",
        "dump",
        str(tmp_path / "split.btf"),
        "--base",
        str(tmp_path / "base.btf"),
        *dump_args(bpftool_dialect),
    )
    assert run.returncode == 0, run.stderr
    assert_same(run.stdout, bpftool_dump(bpftool, tmp_path / "split.btf", tmp_path / "base.btf"))


@pytest.mark.parametrize("order", ["<", ">"], ids=["le", "be"])
def test_unknown_kind_is_skipped_by_its_layout_entry(order, tmp_path, bpftool):
    """A kind this reader does not know, described by the layout section, is
    skipped; everything before it dumps as bpftool dumps the blob without it,
    and the type after it is read correctly."""
    layout = dict(LAYOUT)
    layout[25] = (4, 8)
    with_unknown = crafted(order)
    known_count = with_unknown.count
    with_unknown.add(25, "future", 2, 7, with_unknown.u32(1) + with_unknown.u32(1, 2, 3, 4))
    with_unknown.int_("after_unknown", 8, 64)
    path = tmp_path / "without.btf"
    # the little-endian twin: libbpf before 1.8 refuses big-endian 32-byte headers
    path.write_bytes(crafted("<").build(32, LAYOUT))
    spec = parse_btf(with_unknown.build(32, layout))
    future = spec.type(known_count + 1)
    assert isinstance(future, Unknown) and future.raw_kind == 25 and future.name == "future"
    after = spec.type(known_count + 2)
    assert isinstance(after, Int) and after.name == "after_unknown" and after.size == 8
    from kptrdoc.btf.raw import dump_raw

    ours = dump_raw(spec)
    theirs = bpftool_dump(bpftool, path).decode()
    assert ours.startswith(theirs)
    rest = ours[len(theirs) :].splitlines()
    assert rest[0] == f"[{known_count + 1}] UNKNOWN 'future'"
    assert rest[1].startswith(f"[{known_count + 2}] INT 'after_unknown' size=8 bits_offset=0")
    assert len(rest) == 2


def test_24bit_vlen():
    """vlen above 16 bits: 70 000 members are all read (the builder is the truth)."""
    b = Builder()
    b.int_("char", 1, 8, encoding=2)
    n = 70_000
    b.record(4, "huge", n, [(f"m{i}", 1, 8 * i) for i in range(n)])
    spec = parse_btf(b.build())
    huge = spec.type(2)
    assert isinstance(huge, Struct) and len(huge.members) == n
    assert huge.members[-1].name == f"m{n - 1}" and huge.members[-1].bit_offset == 8 * (n - 1)
    need_tool("bpftool")
