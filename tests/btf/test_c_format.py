"""``kptrdoc btf dump --format c``: clang-19 compiles it, it defines the same named
types as the input, and clang itself checks every record's size and every named
member's offset (``_Static_assert``s generated from the input's BTF).

Also kptrdoc's own C renderer (:mod:`kptrdoc.btf.cformat`, for pages and the
downloads' loaders): its tag macros compile to the same tags."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from btf_support import FIXTURE_SOURCES, FIXTURES, TARGETS, bpftool_dump, kptrdoc

from kptrdoc.btf import Array, Const, Struct, Typedef, Union, Volatile, load_btf
from kptrdoc.btf.cdump import run_dump
from kptrdoc.btf.cformat import (
    COMPILER_BUILTIN_TYPEDEFS,
    CRenderOptions,
    c_declaration,
    render_c_dump,
)
from kptrdoc.btf.load import elf_pointer_size, load_records

VMLINUX = Path("/sys/kernel/btf/vmlinux")
LINE = re.compile(rb"^\[\d+\] (STRUCT|UNION|ENUM|ENUM64|TYPEDEF|FWD) '([^']*)'(.*)$", re.M)
NAMESPACE = {b"STRUCT": "struct", b"UNION": "union", b"ENUM": "enum", b"ENUM64": "enum"}


def named_types(raw_dump: bytes) -> set[tuple[str, str]]:
    """(namespace, name) of every named record/enum/typedef in a bpftool raw dump."""
    found = set()
    for kind, name, rest in LINE.findall(raw_dump):
        if name == b"(anon)":
            continue
        if kind == b"FWD":
            space = "union" if b"fwd_kind=union" in rest else "struct"
        else:
            space = NAMESPACE.get(kind, "typedef")
        found.add((space, re.sub(r"___\d+$", "", name.decode())))
    return found


def check_program(path: Path, header: str, names: set[tuple[str, str]]) -> str:
    """A C file that names every type bpftool found in ``path`` and asserts the layout
    of every named record (sizes and member offsets from the input's BTF)."""
    lines = [f'#include "{header}"', ""]
    tag_spaces: dict[str, int] = {}
    for space, name in names:
        if space != "typedef":
            tag_spaces[name] = tag_spaces.get(name, 0) + 1
    for i, (space, name) in enumerate(sorted(names)):
        if tag_spaces.get(name, 0) > 1:
            continue  # e.g. both "enum x" and "struct x": C has one tag namespace, the
            # dump renames one of them (x___2); the sizeof checks below still cover it
        if space == "typedef":
            lines.append(f"{name} *__kptrdoc_use_{i};")
        elif space == "enum":  # by value: an undefined enum is an error
            lines.append(f"enum {name} __kptrdoc_use_{i};")
        else:
            lines.append(f"{space} {name} *__kptrdoc_use_{i};")
    spec = load_btf(path)
    names = run_dump(load_records(path), pointer_size=elf_pointer_size(path)).names
    for tid, name in sorted(names.items()):
        t = spec.type(tid)
        if not isinstance(t, (Struct, Union)) or not t.name or holds_va_list(spec, tid):
            continue
        cname = f"{'struct' if isinstance(t, Struct) else 'union'} {name}"
        lines.append(f'_Static_assert(sizeof({cname}) == {t.size}, "size of {cname}");')
        for m in t.members:
            if m.name and not m.bitfield_size and m.bit_offset % 8 == 0:
                lines.append(
                    f"_Static_assert(__builtin_offsetof({cname}, {m.name}) == {m.bit_offset // 8},"
                    f' "{cname}.{m.name}");'
                )
    return "\n".join(lines) + "\n"


def holds_va_list(spec, type_id: int, depth: int = 0) -> bool:
    """Whether a record holds ``__builtin_va_list`` by value. bpftool does not define
    that compiler built-in (24 bytes in an x86 kernel, a pointer for ``-target
    bpf``), so such a record's size differs in the header, as in bpftool's."""
    t = spec.type(type_id)
    if getattr(t, "name", "") in COMPILER_BUILTIN_TYPEDEFS:
        return True
    if isinstance(t, (Array, Typedef, Const, Volatile)):
        return holds_va_list(spec, t.type, depth + 1)
    if isinstance(t, (Struct, Union)) and depth < 32:
        return any(holds_va_list(spec, m.type, depth + 1) for m in t.members)
    return False


def compile_and_compare(
    src: Path, tmp_path: Path, clang: str, bpftool: str, with_btf: bool = True
) -> None:
    """Compile the C dump of ``src`` with the checks; with ``with_btf`` also compare the
    named types of the compiled object (bpftool's view) with the input's."""
    run = kptrdoc("btf", "dump", str(src), "--format", "c")
    assert run.returncode == 0, run.stderr
    (tmp_path / "types.h").write_bytes(run.stdout)
    expected = named_types(bpftool_dump(bpftool, src))
    expected -= {("typedef", name) for name in COMPILER_BUILTIN_TYPEDEFS}
    (tmp_path / "check.c").write_text(check_program(src, "types.h", expected))
    out = tmp_path / "check.o"
    cmd = [clang, "-target", "bpf", "-c", str(tmp_path / "check.c"), "-o", str(out)]
    if with_btf:
        cmd.insert(1, "-g")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[:4000]
    if not with_btf:
        return
    got = named_types(bpftool_dump(bpftool, out))
    got -= {("typedef", name) for name in COMPILER_BUILTIN_TYPEDEFS}
    assert expected - got == set(), "types missing from the C output"
    assert got - expected == set(), "types the input does not have"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("source", FIXTURE_SOURCES, ids=lambda p: p.stem)
def test_fixture_c_compiles(source, target, compile_fixture, clang, bpftool, tmp_path):
    compile_and_compare(compile_fixture(source, target), tmp_path, clang, bpftool)


def test_vmlinux_c_compiles(clang, bpftool, tmp_path):
    if not VMLINUX.exists():
        pytest.skip("the running kernel exposes no /sys/kernel/btf/vmlinux")
    # without -g: clang needs ~25 s to encode BTF for all of vmlinux; every name is
    # still checked (an undefined typedef or enum, or sizeof of an incomplete
    # record, is a compile error)
    compile_and_compare(VMLINUX, tmp_path, clang, bpftool, with_btf=False)


def test_kptr_macros_compile(compile_fixture, clang, tmp_path):
    """With ``tag_macros`` the kptr tag prints as ``__kptr`` and still compiles to the same tag."""

    obj = compile_fixture(FIXTURES / "progs.c", "bpfel")
    spec = load_btf(obj)
    dump = render_c_dump(spec, options=CRenderOptions(tag_macros=True))
    value = spec.by_name("map_value", Struct)[0]
    assert c_declaration(spec, value.members[0].type, "mask") == (
        'struct cpumask_like __attribute__((btf_type_tag("kptr"))) *mask'
    )
    assert "struct cpumask_like __kptr *mask;" in dump.text
    (tmp_path / "t.h").write_text(dump.text)
    (tmp_path / "t.c").write_text('#include "t.h"\nstruct map_value v;\n')
    subprocess.run(
        [clang, "-g", "-target", "bpf", "-c", "t.c", "-o", "t.o"], cwd=tmp_path, check=True
    )
    again = load_btf(tmp_path / "t.o")
    chain = again.tag_chain(again.by_name("map_value", Struct)[0].members[0].type)
    # clang emits the pointee as a FWD when only a pointer to it is used
    assert [(t.kind_name, t.name) for t in chain[:2]] == [("PTR", ""), ("TYPE_TAG", "kptr")]
    assert chain[2].name == "cpumask_like" and chain[2].kind_name in ("STRUCT", "FWD")
