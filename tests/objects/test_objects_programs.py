"""Programs: SEC name -> program and attach type against libbpf itself; sizes; expectations."""

from __future__ import annotations

import pytest
from libbpf_truth import opened_programs
from objects_support import compile_fixture

from kptrdoc.expectations import parse_tags
from kptrdoc.objects import load_object, program_kind
from kptrdoc.objects.kernel_enums import enum_values
from kptrdoc.objects.sections import _TABLE

EXTRA_NAMES = [
    "kprobex",  # not a word libbpf knows: no type
    "tp_btf",
    "tp_btf/task_newtask",
    "?tp_btf/task_newtask",
    "xdp/devmap",
    "xdp.frags",
    "uprobe.multi.s/lib:fn",
    "tcx/ingress",
    "cgroup/sock",
    "struct_ops/foo",
    "iter/task",
    "lsm.s/file_open",
    "fentry/xyz/abc",
]


def _section_names() -> list[str]:
    names: list[str] = []
    for pattern, *_ in _TABLE:
        if pattern.endswith("+"):
            names += [pattern[:-1], pattern[:-1] + "/kptrdoc_target"]
        else:
            names.append(pattern)
    return names + EXTRA_NAMES


def test_sec_table_matches_libbpf(tmp_path):
    """Every SEC name (and a few tricky ones) gets the program and attach type libbpf gives it."""
    names = _section_names()
    src = tmp_path / "secs.bpf.c"
    body = ['#include "vmlinux.h"', "#include <bpf/bpf_helpers.h>"]
    for i, name in enumerate(names):
        body.append(f'SEC("{name}") int prog_{i}(void *ctx) {{ return 0; }}')
    body.append('char LICENSE[] SEC("license") = "GPL";')
    src.write_text("\n".join(body) + "\n")
    obj = compile_fixture(src, tmp_path)
    truth = opened_programs(obj)
    prog_types = enum_values("bpf_prog_type")
    attach_types = enum_values("bpf_attach_type")
    assert prog_types and attach_types, "no vmlinux.h to name kernel enums"
    mismatches = []
    for i, name in enumerate(names):
        t = truth[f"prog_{i}"]
        kind = program_kind(name)
        ours_type = prog_types[kind.prog_type] if kind else 0
        if kind and kind.attach_type and kind.attach_type not in attach_types:
            # newer than this kernel (libbpf 1.7 knows BPF_TRACE_FSESSION): type only
            if ours_type != t.type or t.expected_attach_type == 0:
                mismatches.append((name, ours_type, t.type))
            continue
        ours_attach = attach_types[kind.attach_type] if kind and kind.attach_type else 0
        if (ours_type, ours_attach) != (t.type, t.expected_attach_type):
            mismatches.append((name, (ours_type, ours_attach), (t.type, t.expected_attach_type)))
    assert not mismatches


def test_programs_of_an_object(tmp_path):
    """Names, sections, sizes, autoload agree with libbpf after open; no subprograms."""
    src = tmp_path / "progs.bpf.c"
    src.write_text(
        '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n#include "kptrdoc.h"\n'
        "static __noinline int helper(int x) { return x * 3 + 1; }\n"
        'SEC("tp_btf/task_newtask") __success __description("counts new tasks")\n'
        "int on_new(void *ctx) { return helper(2); }\n"
        'SEC("?xdp") __failure __msg("first") __msg("second")\n'
        "int bad(struct xdp_md *ctx) { return helper(ctx->ingress_ifindex) + 2; }\n"
        'SEC("xdp") int plain(struct xdp_md *ctx) { return 2; }\n'
        'char LICENSE[] SEC("license") = "GPL";\n'
    )
    from kptrdoc.toolchain import kptrdoc_include_dir

    obj_path = compile_fixture(src, tmp_path, extra=["-I", str(kptrdoc_include_dir())])
    obj = load_object(obj_path)
    truth = opened_programs(obj_path)
    assert {p.name for p in obj.programs} == set(truth) == {"on_new", "bad", "plain"}
    for p in obj.programs:
        t = truth[p.name]
        assert (p.section, p.insns, p.autoload) == (t.section, t.insns, t.autoload)
    on_new = obj.program("on_new")
    assert on_new.prog_type == "BPF_PROG_TYPE_TRACING"
    assert on_new.attach_type == "BPF_TRACE_RAW_TP"
    assert on_new.expect.verdict == "success"
    assert on_new.expect.description == "counts new tasks"
    bad = obj.program("bad")
    assert bad.expect.verdict == "failure"
    assert bad.expect.msgs == ("first", "second")
    assert obj.program("plain").expect.verdict is None
    assert on_new.lines, "line_info gives the program's source lines"
    assert any("helper(2)" in ln.text for ln in on_new.lines)


@pytest.mark.parametrize(
    ("tags", "verdict", "msgs", "conflicting"),
    [
        (["kptrdoc:success"], "success", (), False),
        (["kptrdoc:failure", "kptrdoc:msg=a=b", "kptrdoc:msg=c"], "failure", ("a=b", "c"), False),
        (["kptrdoc:success", "kptrdoc:failure"], None, (), True),
        (["other", "kptrdoc:description=x"], None, (), False),
    ],
)
def test_parse_tags(tags, verdict, msgs, conflicting):
    e = parse_tags(tags)
    assert (e.verdict, e.msgs, e.conflicting) == (verdict, msgs, conflicting)


def test_parse_per_kernel_expectations():
    e = parse_tags(
        ["kptrdoc:failure@<7", "kptrdoc:msg=plain", "kptrdoc:msg@>=7=new", "kptrdoc:msg@6.12=a=b"]
    )
    assert e.verdict == "failure" and not e.conflicting and e.unknown == ()
    assert e.failure_ranges == ("<7",) and e.msgs == ("plain",)
    assert e.kernel_msgs == ((">=7", "new"), ("6.12", "a=b"))
    both = parse_tags(["kptrdoc:success", "kptrdoc:failure@<7"])
    assert both.conflicting
    bad = ["kptrdoc:msg@latest=x", "kptrdoc:failure@<7=x", "kptrdoc:msg@<7"]
    assert parse_tags(["kptrdoc:failure", *bad]).unknown == tuple(
        b.removeprefix("kptrdoc:") for b in bad
    )
