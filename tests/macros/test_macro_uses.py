"""Where a sample uses a macro, from libclang's preprocessing record (kptrdoc.macro_uses).

The independent truth is the compiled object: code a macro expands to carries
line info (``.BTF.ext``) at the expansion, so every line libclang says
``BPF_CORE_READ`` expands on must hold instructions with a CO-RE relocation,
and every ``bpf_printk`` line a call of ``bpf_trace_printk``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from kptrdoc.compile import compile_flags, compile_sample
from kptrdoc.errors import KptrdocError
from kptrdoc.macro_uses import (
    MacroScan,
    MacroUse,
    MacroUseError,
    libclang_path,
    lines_of,
    macro_uses,
    scan_macros,
)
from kptrdoc.objects import load_object

REPO = Path(__file__).resolve().parents[2]
KPTR = REPO / "samples" / "__kptr" / "kptr.bpf.c"
UINT = REPO / "samples" / "__uint" / "uint.bpf.c"

HEADERS = """\
// SPDX-License-Identifier: GPL-2.0
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kptrdoc.h"
"""

# Each CO-RE read ends in a field no other read ends in, so -O2 cannot merge
# two reads' relocations into one instruction on one of the lines.
NESTED = (
    HEADERS
    + """
int parent_tgid, parent_pid, leader_prio;

SEC("tp_btf/task_newtask")
__success
int BPF_PROG(nested, struct task_struct *task,
         u64 clone_flags)
{
    int prio = 0;

    bpf_printk("parent %d", BPF_CORE_READ(task, real_parent, tgid));
    BPF_CORE_READ_INTO(&prio, task, group_leader, prio);
    leader_prio = prio;
    bpf_printk("done: BPF_CORE_READ(task, pid)");
    /* BPF_CORE_READ(task, pid) in a comment is no use */
    parent_pid = BPF_CORE_READ(task,
                   real_parent,
                   pid);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
"""
)


@pytest.fixture(scope="module", autouse=True)
def _libclang() -> None:
    """Skip (fail under CI=true) when libclang or its bindings are not installed."""
    try:
        import clang.cindex  # noqa: F401

        libclang_path()
    except (ImportError, KptrdocError) as exc:
        reason = f"libclang unavailable ({exc}): make setup installs libclang1-19 and clang"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{reason} (CI=true turns this skip into a failure)", pytrace=False)
        pytest.skip(reason)


def line_of(text: str, snippet: str) -> int:
    """The 1-based line holding ``snippet`` (which must occur once)."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if snippet in line]
    assert len(found) == 1, f"{snippet!r} on lines {found}"
    return found[0]


def scan(path: Path) -> MacroScan:
    return scan_macros(path, compile_flags(path))


def outermost(use: MacroUse, uses: tuple[MacroUse, ...]) -> MacroUse:
    """The expansion whose arguments (transitively) hold ``use``; ``use`` if none."""
    if not use.parents:
        return use
    holders = [
        u
        for u in uses
        if u.name == use.parents[0]
        and not u.parents
        and (u.line, u.column) <= (use.line, use.column)
        and (use.end_line, use.end_column) <= (u.end_line, u.end_column)
    ]
    assert len(holders) == 1, (use, holders)
    return holders[0]


def instructions_by_line(path: Path, program: str) -> dict[int, list]:
    obj = load_object(compile_sample(path).path)
    prog = next(p for p in obj.programs if p.name == program)
    by_line: dict[int, list] = defaultdict(list)
    for insn in prog.instructions:
        if insn.line is not None and Path(insn.line.file).name == path.name:
            by_line[insn.line.line].append(insn)
    return by_line


@pytest.fixture
def nested(tmp_path: Path) -> Path:
    path = tmp_path / "nested.bpf.c"
    path.write_text(NESTED)
    return path


# --- real samples -------------------------------------------------------------------------


def test_kptr_sample_uses() -> None:
    text = KPTR.read_text()
    result = scan(KPTR)
    assert not result.errors, result.errors
    uses = result.uses
    assert uses and all(u.file == KPTR and not u.parents for u in uses)
    kptr_line = next(
        n for n, ln in enumerate(text.splitlines(), 1) if re.search(r"__kptr\s*\*", ln)
    )
    # the comment at the top and the __description string mention __kptr too: not uses
    assert "__kptr" in text.splitlines()[2] and "__kptr" in text[text.index("__description") :]
    assert lines_of(uses, "__kptr") == {kptr_line}
    assert lines_of(uses, "BPF_PROG") == {line_of(text, "int BPF_PROG(record_task_cpumask")}
    extern_lines = {n for n, ln in enumerate(text.splitlines(), 1) if ln.startswith("extern ")}
    assert lines_of(uses, "__ksym") == extern_lines and len(extern_lines) == 3
    assert lines_of(uses, "__success") == {line_of(text, "__success __run")}
    assert lines_of(uses, ["__success", "__run", "__description"]) == {
        line_of(text, "__success __run"),
        line_of(text, "__description("),
    }
    sec = [u for u in uses if u.name == "SEC"]
    assert [u.line for u in sec] == [
        line_of(text, '} cpumask_map SEC(".maps")'),
        line_of(text, 'SEC("tp_btf/task_newtask")'),
        line_of(text, 'SEC("license")'),
    ]
    # columns and extents: SEC(".maps") starts at the S and ends past its ')'
    maps = sec[0]
    row = text.splitlines()[maps.line - 1]
    assert row[maps.column - 1 : maps.end_column - 1] == 'SEC(".maps")'
    # a macro the sample defines itself counts too
    assert lines_of(uses, "ENOENT") == {line_of(text, "return -ENOENT;")}


def test_uint_sample_uses_and_enumerators_are_not_macros() -> None:
    text = UINT.read_text()
    uses = macro_uses(UINT, compile_flags(UINT))
    uint_lines = {
        n for n, ln in enumerate(text.splitlines(), 1) if ln.lstrip().startswith("__uint(")
    }
    assert lines_of(uses, "__uint") == uint_lines and len(uint_lines) == 5
    assert len(lines_of(uses, "__type")) == 2
    names = {u.name for u in uses}
    # BPF_MAP_TYPE_HASH and BPF_F_NO_PREALLOC are enumerators of vmlinux.h: a text
    # search cannot tell them from macros, the compiler can
    assert "BPF_MAP_TYPE_HASH" not in names and "BPF_F_NO_PREALLOC" not in names
    assert {"__uint", "__type", "SEC", "BPF_PROG", "__success", "__run"} <= names


@pytest.mark.parametrize(("sample", "program"), [(KPTR, "record_task_cpumask"),
                                                 (UINT, "count_children")])  # fmt: skip
def test_bpf_prog_line_carries_the_context_unpacking(sample: Path, program: str) -> None:
    """BPF_PROG expands to code (the arguments read out of the context) on its own line."""
    uses = macro_uses(sample, compile_flags(sample))
    (prog,) = [u for u in uses if u.name == "BPF_PROG"]
    by_line = instructions_by_line(sample, program)
    assert by_line[prog.line], f"no instruction on BPF_PROG's line {prog.line}"
    assert any(i.line.column == prog.column for i in by_line[prog.line])
    # the function body is not part of the BPF_PROG expansion
    assert set(prog.lines) == {prog.line}


# --- nesting, and the object as the truth -------------------------------------------------


def test_nested_sample_lines_and_nesting(nested: Path) -> None:
    text = nested.read_text()
    uses = macro_uses(nested, compile_flags(nested))
    first = line_of(text, 'bpf_printk("parent %d"')
    into = line_of(text, "BPF_CORE_READ_INTO(")
    done = line_of(text, 'bpf_printk("done')
    multi = line_of(text, "parent_pid = BPF_CORE_READ(task,")
    prog = line_of(text, "int BPF_PROG(nested")

    by_name: dict[str, list[MacroUse]] = defaultdict(list)
    for use in uses:
        by_name[use.name].append(use)
    reads = by_name["BPF_CORE_READ"]
    assert [(u.line, u.parents) for u in reads] == [(first, ("bpf_printk",)), (multi, ())]
    assert [(u.line, u.parents) for u in by_name["bpf_printk"]] == [(first, ()), (done, ())]
    assert [(u.line, u.parents) for u in by_name["BPF_CORE_READ_INTO"]] == [(into, ())]
    # the body of a BPF_PROG is not inside its expansion: nothing names it as a parent
    assert all("BPF_PROG" not in u.parents for u in uses)
    (bpf_prog,) = by_name["BPF_PROG"]
    assert bpf_prog.lines == range(prog, prog + 2)  # its arguments span two lines
    assert reads[1].lines == range(multi, multi + 3)

    # the string and the comment that spell BPF_CORE_READ are not uses
    assert lines_of(uses, "BPF_CORE_READ") == {first, multi, multi + 1, multi + 2}
    assert lines_of(uses, ["BPF_CORE_READ", "BPF_CORE_READ_INTO"]) == {
        first,
        into,
        multi,
        multi + 1,
        multi + 2,
    }
    assert lines_of(uses, "bpf_printk") == {first, done}
    assert lines_of(uses, "BPF_PROG") == {prog, prog + 1}
    # the nested BPF_CORE_READ lies inside the bpf_printk call's extent
    outer, inner = by_name["bpf_printk"][0], reads[0]
    assert (outer.line, outer.column) < (inner.line, inner.column)
    assert (inner.end_line, inner.end_column) < (outer.end_line, outer.end_column)
    row = text.splitlines()[first - 1]
    assert row[inner.column - 1 : inner.end_column - 1] == "BPF_CORE_READ(task, real_parent, tgid)"


def test_core_read_lines_carry_core_relocations(nested: Path) -> None:
    """Every line libclang says a CO-RE read expands on holds CO-RE-relocated instructions,
    attributed (line and column) to the outermost expansion that holds the read."""
    uses = macro_uses(nested, compile_flags(nested))
    by_line = instructions_by_line(nested, "nested")
    reads = [u for u in uses if u.name in ("BPF_CORE_READ", "BPF_CORE_READ_INTO")]
    assert len(reads) == 3
    for read in reads:
        anchor = outermost(read, uses)
        core = [i for i in by_line[anchor.line] if i.core is not None]
        assert core, f"{read.name} on line {read.line}: no CO-RE relocation on line {anchor.line}"
        assert {i.line.column for i in core} == {anchor.column}, (read, core)
    core_lines = {line for line, insns in by_line.items() if any(i.core for i in insns)}
    starts = {outermost(r, uses).line for r in reads}
    assert starts <= core_lines
    # a multi-line read's code sits on the line where the expansion starts
    continuation = [line for r in reads for line in r.lines[1:]]
    assert len(continuation) == 2 and not any(by_line[line] for line in continuation)


def test_printk_lines_call_trace_printk(nested: Path) -> None:
    uses = macro_uses(nested, compile_flags(nested))
    by_line = instructions_by_line(nested, "nested")
    printk = [u for u in uses if u.name == "bpf_printk"]
    assert len(printk) == 2
    for use in printk:
        assert any("bpf_trace_printk" in i.text for i in by_line[use.line]), use
    calls = {line for line, insns in by_line.items() for i in insns if "bpf_trace_printk" in i.text}
    assert calls == lines_of(uses, "bpf_printk")


# --- what the preprocessing record holds, and what it does not ----------------------------


def test_helpers_directives_and_arguments(tmp_path: Path) -> None:
    path = tmp_path / "edge.bpf.c"
    path.write_text(
        HEADERS
        + """
#define PARENT real_parent
#define READ_PID(t) BPF_CORE_READ(t, real_parent, pid)
#define TWICE(x) ((x) + (x))
int out;

SEC("tp_btf/task_newtask")
__success
int BPF_PROG(edge, struct task_struct *task, u64 clone_flags)
{
    out = BPF_CORE_READ(task, PARENT, tgid);
    out += READ_PID(task);
    out += TWICE(BPF_CORE_READ(task, pid));
#if defined(PARENT)
    out += 1;
#endif
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
"""
    )
    text = path.read_text()
    uses = macro_uses(path, compile_flags(path))
    plain = line_of(text, "out = BPF_CORE_READ(task, PARENT, tgid);")
    helper = line_of(text, "out += READ_PID(task);")
    twice = line_of(text, "out += TWICE(")
    test = line_of(text, "#if defined(PARENT)")
    parent = [u for u in uses if u.name == "PARENT"]
    # an argument's own macros are recorded, inside the macro that takes them
    assert (parent[0].line, parent[0].parents) == (plain, ("BPF_CORE_READ",))
    # the sample's helper macro expands BPF_CORE_READ from its body: clang records only
    # READ_PID there, so a page passes the helper's name along with the macro's
    assert lines_of(uses, "BPF_CORE_READ") == {plain, twice}
    assert lines_of(uses, ["BPF_CORE_READ", "READ_PID"]) == {plain, helper, twice}
    assert [u.parents for u in uses if u.name == "BPF_CORE_READ" and u.line == twice] == [
        ("TWICE",)
    ]
    # `defined(PARENT)` is in the record too, marked: it is tested, not expanded
    assert (parent[1].line, parent[1].in_directive) == (test, True)
    assert not parent[0].in_directive
    assert lines_of(uses, "PARENT") == {plain}
    assert lines_of(uses, "PARENT", directives=True) == {plain, test}


# --- errors and the cache -----------------------------------------------------------------


def test_broken_sample_gives_diagnostics_and_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.bpf.c"
    path.write_text(
        HEADERS
        + """
SEC("tp_btf/task_newtask")
__success
int BPF_PROG(broken, struct task_struct *task, u64 clone_flags)
{
    bpf_printk("%d", task->pid)
    return nope;
}
"""
    )
    text = path.read_text()
    result = scan_macros(path, compile_flags(path))
    assert result.errors and not result.cached
    assert {d.line for d in result.errors} == {
        line_of(text, "bpf_printk("),
        line_of(text, "return nope;"),
    }
    # what the preprocessor saw is still there
    assert lines_of(result.uses, "bpf_printk") == {line_of(text, "bpf_printk(")}
    with pytest.raises(MacroUseError) as info:
        macro_uses(path, compile_flags(path))
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: does not compile: line ")
    assert info.value.scan is not None and info.value.scan.uses == result.uses
    # a scan with errors is not cached (a missing header would never invalidate it)
    assert not scan_macros(path, compile_flags(path)).cached


def test_missing_header_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "fatal.bpf.c"
    path.write_text('#include "nothere.h"\nint x;\n')
    result = scan_macros(path, compile_flags(path))
    assert [d.severity for d in result.errors] == ["fatal"]
    assert "nothere.h" in result.errors[0].message
    with pytest.raises(MacroUseError, match=r"missing\.bpf\.c: cannot read"):
        macro_uses(tmp_path / "missing.bpf.c", [])


def test_cache_hit_and_header_change(tmp_path: Path) -> None:
    header = tmp_path / "local.h"
    header.write_text("#define ANSWER 2\n")
    path = tmp_path / "cached.bpf.c"
    path.write_text(
        HEADERS + '#include "local.h"\nSEC("xdp") __success\n'
        "int c(struct xdp_md *x) { return ANSWER + LOCAL_MORE; }\n"
        'char LICENSE[] SEC("license") = "GPL";\n'
    )
    flags = compile_flags(path)
    header.write_text("#define ANSWER 2\n#define LOCAL_MORE 0\n")
    first = scan_macros(path, flags)
    second = scan_macros(path, flags)
    assert not first.errors and not first.cached and second.cached
    assert second.uses == first.uses and second.diagnostics == first.diagnostics
    assert "LOCAL_MORE" in {u.name for u in first.uses}
    header.write_text("#define ANSWER 2\n#define LOCAL_MORE ANSWER\n")  # only the header changes
    third = scan_macros(path, flags)
    assert not third.cached and third.uses == first.uses
    assert scan_macros(path, [*flags, "-DEXTRA=1"]).cached is False


def test_unloadable_libclang_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """$KPTRDOC_LIBCLANG naming something that is no library: a MacroUseError, one line."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from kptrdoc.errors import KptrdocError\n"
        "from kptrdoc.macro_uses import scan_macros\n"
        "try:\n"
        "    scan_macros(Path(sys.argv[1]), [], cache=False)\n"
        "except KptrdocError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    env = {**os.environ, "KPTRDOC_LIBCLANG": str(KPTR)}
    proc = subprocess.run(
        [sys.executable, "-c", script, str(KPTR)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    out = proc.stdout.strip()
    assert out.startswith(f"MacroUseError {KPTR}: libclang ") and "\n" not in out
