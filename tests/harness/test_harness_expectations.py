"""The annotations of kptrdoc.h, read back from the compiled object's BTF."""

from __future__ import annotations

from pathlib import Path

from harness_support import REPO, write_sample

from kptrdoc.compile import compile_sample
from kptrdoc.expectations import parse_tags
from kptrdoc.loader import list_programs
from kptrdoc.objects import load_object


def test_every_annotation_reaches_btf_in_source_order(tmp_path: Path) -> None:
    src = write_sample(
        tmp_path,
        "a.bpf.c",
        """
SEC("tp_btf/task_newtask")
__success __run("fork") __description("counts nothing")
int BPF_PROG(good, struct task_struct *task, u64 clone_flags) { return 0; }

SEC("xdp")
__failure __msg("first") __msg("second") __msg("third")
__attribute__((btf_decl_tag("kptrdoc:sucess")))
int bad(struct xdp_md *ctx) { return XDP_PASS; }
""",
    )
    obj = compile_sample(src).path
    names = [p.name for p in list_programs(obj)]  # libbpf's listing
    assert names == ["good", "bad"]
    expect = {p.name: p.expect for p in load_object(obj).programs}
    assert list(expect) == names
    good, bad = expect["good"], expect["bad"]
    assert good.success and not good.failure
    assert good.run == "fork" and good.description == "counts nothing"
    assert good.problem() == ""
    assert bad.failure and bad.msgs == ("first", "second", "third")
    assert bad.unknown == ("sucess",)
    assert "unknown annotation(s): kptrdoc:sucess" in bad.problem()


def test_the_kptr_samples_say_what_they_expect() -> None:
    obj = compile_sample(REPO / "samples" / "__kptr" / "kptr.bpf.c").path
    expect = load_object(obj).program("record_task_cpumask").expect
    assert expect.success and expect.run == "fork" and expect.description


def test_contradictions_are_problems() -> None:
    assert "no __success or __failure" in parse_tags([]).problem()
    assert "both" in parse_tags(["kptrdoc:success", "kptrdoc:failure"]).problem()
    assert (
        "__msg(...) needs __failure" in parse_tags(["kptrdoc:success", "kptrdoc:msg=x"]).problem()
    )
    assert (
        "__run(...) needs __success"
        in parse_tags(["kptrdoc:failure", "kptrdoc:run=fork"]).problem()
    )
    assert parse_tags(["other:tag", "kptrdoc:success"]).problem() == ""
    assert "unknown trigger" in parse_tags(["kptrdoc:success", "kptrdoc:run=teleport"]).problem()
