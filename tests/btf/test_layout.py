"""Record layout against ``pahole -F btf -C NAME`` (run at test time): every top-level
member's offset, size, bit offset and width, every hole, the padding."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from btf_support import FIXTURES, TARGETS

from kptrdoc.btf import Struct, Union, load_btf
from kptrdoc.btf.layout import record_layout

VMLINUX = Path("/sys/kernel/btf/vmlinux")
VMLINUX_RECORDS = (
    "task_struct",
    "sk_buff",
    "file",
    "inode",
    "bpf_map",
    "mm_struct",
    "sock",
    "net_device",
    "bpf_cpumask",
    "cgroup",
    "bpf_prog_aux",
    "page",
)

COMMENT = re.compile(r"/\*\s+(\d+)(?::\s*(\d+))?\s+(\d+)\s+\*/\s*$")
HOLE = re.compile(r"/\* XXX (\d+) (bytes?|bits?) hole")
SIZE = re.compile(r"/\* size: (\d+)")
PADDING = re.compile(r"/\* padding: (\d+) \*/")
BIT_PADDING = re.compile(r"/\* bit_padding: (\d+) bits \*/")


@dataclass
class PaholeMember:
    name: str
    offset: int
    bit_offset: int | None
    size: int
    bits: int
    hole: int = 0
    bit_hole: int = 0


@dataclass
class PaholeRecord:
    size: int = -1
    padding: int = 0
    bit_padding: int = 0
    members: list[PaholeMember] = field(default_factory=list)


def member_name(decl: str) -> tuple[str, int]:
    """Name and bitfield width from a pahole member line (without its comment)."""
    decl = re.sub(r"__attribute__\(\((?:[^()]|\([^()]*\))*\)\)", "", decl)
    decl = decl.strip().rstrip(";").strip()
    bits = 0
    m = re.search(r":(\d+)$", decl)
    if m:
        bits = int(m.group(1))
        decl = decl[: m.start()].strip()
    fp = re.search(r"\(\*\s*(\w+)\)", decl)
    if fp:
        return fp.group(1), bits
    if decl.startswith("}"):
        rest = decl[1:].strip().lstrip("*").strip()
        return (re.match(r"\w*", rest).group(0) if rest else ""), bits
    m = re.search(r"(\w+)\s*(\[[^\]]*\]\s*)*$", decl)
    return (m.group(1) if m else ""), bits


def parse_pahole(text: str) -> PaholeRecord:
    rec = PaholeRecord()
    depth = 0
    for line in text.splitlines():
        code = re.sub(r"/\*.*?\*/", "", line).rstrip()
        stripped = code.strip()
        if depth == 1 and (h := HOLE.search(line)) and rec.members:
            if h.group(2).startswith("byte"):
                rec.members[-1].hole = int(h.group(1))
            else:
                rec.members[-1].bit_hole = int(h.group(1))
            continue
        if depth == 1 and (s := SIZE.search(line)):
            rec.size = int(s.group(1))
        if depth == 1 and (p := PADDING.search(line)):
            rec.padding = int(p.group(1))
        if depth == 1 and (p := BIT_PADDING.search(line)):
            rec.bit_padding = int(p.group(1))
        if stripped.endswith("{"):
            depth += 1
            continue
        closing = stripped.startswith("}")
        if closing:
            depth -= 1
        c = COMMENT.search(line)
        if c and depth == 1 and stripped:
            name, bits = member_name(stripped)
            rec.members.append(
                PaholeMember(
                    name=name,
                    offset=int(c.group(1)),
                    bit_offset=int(c.group(2)) if c.group(2) is not None else None,
                    size=int(c.group(3)),
                    bits=bits,
                )
            )
    return rec


def pahole_layout(pahole: str, path: Path, name: str) -> PaholeRecord:
    proc = subprocess.run(
        [pahole, "-F", "btf", "-C", name, str(path)], capture_output=True, text=True, check=True
    )
    if not proc.stdout.strip():
        pytest.fail(f"pahole printed nothing for {name}")
    return parse_pahole(proc.stdout)


def compare(pahole: str, path: Path, names: list[str]) -> int:
    spec = load_btf(path)
    checked = 0
    for name in names:
        found = [t for t in spec.by_name(name) if isinstance(t, (Struct, Union))]
        if not found:
            continue
        ours = record_layout(spec, found[0].id)
        theirs = pahole_layout(pahole, path, name)
        if theirs.size >= 0:  # pahole prints no summary for unions
            assert theirs.size == ours.size, name
        got = [
            (f.name, f.offset, f.size, f.bit_size, f.bit_offset if f.bit_size else None)
            for f in ours.fields
        ]
        want = [(m.name, m.offset, m.size, m.bits, m.bit_offset) for m in theirs.members]
        assert got == want, name
        if ours.kind == "struct":
            assert [(f.hole_after, f.bit_hole_after) for f in ours.fields] == [
                (m.hole, m.bit_hole) for m in theirs.members
            ], f"holes of {name}"
            assert (ours.padding, ours.bit_padding) == (theirs.padding, theirs.bit_padding), name
        checked += 1
    return checked


def named_records(path: Path) -> list[str]:
    spec = load_btf(path)
    return sorted({t.name for t in spec if isinstance(t, (Struct, Union)) and t.name})


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("source", ["records", "kinds", "progs"])
def test_fixture_layouts_match_pahole(source, target, compile_fixture, pahole):
    obj = compile_fixture(FIXTURES / f"{source}.c", target)
    names = named_records(obj)
    assert names
    assert compare(pahole, obj, names) == len(names)


def test_vmlinux_layouts_match_pahole(pahole):
    """A few well-known records one by one (``pahole -C NAME``)."""
    if not VMLINUX.exists():
        pytest.skip("the running kernel exposes no /sys/kernel/btf/vmlinux")
    assert compare(pahole, VMLINUX, list(VMLINUX_RECORDS)) >= 5


PAHOLE_MISREADS = {
    "ioam6_trace_hdr": "pahole 1.24 infers a ':0' bitfield and a 2-bit hole after the "
    "16-bit namespace_id (big-endian bitfield layout)",
}
"""Records where pahole's own inference is off; their fields still have to match."""


def test_every_vmlinux_record_matches_pahole(pahole):
    """Every uniquely named struct/union of vmlinux, from one ``pahole -F btf`` run."""
    if not VMLINUX.exists():
        pytest.skip("the running kernel exposes no /sys/kernel/btf/vmlinux")
    text = subprocess.run(
        [pahole, "-F", "btf", str(VMLINUX)], capture_output=True, text=True, check=True
    ).stdout
    spec = load_btf(VMLINUX)
    checked = 0
    mismatches = []
    for block in re.split(r"\n(?=(?:struct|union) \S+ \{\n)", text):
        m = re.match(r"(struct|union) (\S+) \{", block)
        if not m:
            continue
        kind, name = m.groups()
        found = [
            t
            for t in spec.by_name(name)
            if isinstance(t, (Struct, Union)) and (kind == "union") == isinstance(t, Union)
        ]
        if len(found) != 1:
            continue
        ours, theirs = record_layout(spec, found[0].id), parse_pahole(block)
        checked += 1
        fields = [
            (f.name, f.offset, f.size, f.bit_size, f.bit_offset if f.bit_size else None)
            for f in ours.fields
        ]
        if fields != [(p.name, p.offset, p.size, p.bits, p.bit_offset) for p in theirs.members]:
            mismatches.append((name, "fields"))
            continue
        if kind == "struct" and name not in PAHOLE_MISREADS:
            holes = [(f.hole_after, f.bit_hole_after) for f in ours.fields]
            if holes != [(p.hole, p.bit_hole) for p in theirs.members]:
                mismatches.append((name, "holes"))
            if (ours.padding, ours.bit_padding) != (theirs.padding, theirs.bit_padding):
                mismatches.append((name, "padding"))
    assert checked > 1000
    assert mismatches == []


def test_packed_and_alignment_inferred(compile_fixture):
    spec = load_btf(compile_fixture(FIXTURES / "records.c", "bpfel"))

    def layout(name: str):
        return record_layout(spec, spec.by_name(name, Struct)[0].id)

    assert layout("packed").packed and layout("packed").alignment == 1
    assert layout("packed_aligned").packed
    assert not layout("holes").packed and layout("holes").alignment == 8
    holes = layout("holes")
    assert holes.holes == [(1, 7), (18, 2)]  # c@0 l@8 s@16 i@20 tail@24
    assert holes.padding == 7
