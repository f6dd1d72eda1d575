"""Through the pytest plugin: a wrong value read back fails the item, with a readable report."""

from __future__ import annotations

from pathlib import Path

from runs_support import leftovers, object_names, run_pytest, write_sample

from kptrdoc.compile import compile_sample
from kptrdoc.loader import kernel_object_ids

CASES = """
int target_tgid, want_nr, closed_fd, parent_tgid;

SEC("tp_btf/sys_enter")
__success __run("close") __run_set("target_tgid", "tgid") __run_set("want_nr", "nr")
__run_check("closed_fd", "fd")
int BPF_PROG(right_fd, struct pt_regs *regs, long id)
{
	if (bpf_get_current_pid_tgid() >> 32 == target_tgid && id == want_nr)
		closed_fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
	return 0;
}

/* stores the tgid where the fd belongs */
SEC("tp_btf/sys_enter")
__success __run("close") __run_set("target_tgid", "tgid") __run_set("want_nr", "nr")
__run_check("closed_fd", "fd")
int BPF_PROG(wrong_fd, struct pt_regs *regs, long id)
{
	if (bpf_get_current_pid_tgid() >> 32 == target_tgid && id == want_nr)
		closed_fd = target_tgid;
	return 0;
}

SEC("tp_btf/task_newtask")
__success __run("fork") __run_check("parent_tgdi", "tgid")
int BPF_PROG(misspelt_global, struct task_struct *task, u64 clone_flags) { return 0; }

SEC("tp_btf/task_newtask")
__success __run("fork") __run_check("parent_tgid", "fd")
int BPF_PROG(value_fork_lacks, struct task_struct *task, u64 clone_flags) { return 0; }

SEC("xdp")
__success __run_check("parent_tgid", "retval")
int check_without_run(struct xdp_md *ctx) { return XDP_PASS; }
"""


def test_a_wrong_value_fails_the_item_with_both_values(kernel: None, tmp_path: Path) -> None:
    src = write_sample(tmp_path, "runs.bpf.c", "#include <bpf/bpf_core_read.h>\n" + CASES.lstrip())
    before = kernel_object_ids()
    run = run_pytest(str(tmp_path), cwd=tmp_path)
    assert run.outcomes == {
        "runs.bpf.c::right_fd": "PASSED",
        "runs.bpf.c::wrong_fd": "FAILED",
        "runs.bpf.c::misspelt_global": "ERROR",
        "runs.bpf.c::value_fork_lacks": "ERROR",
        "runs.bpf.c::check_without_run": "ERROR",
    }, run.output
    assert run.returncode == 1
    out = run.output
    # the failure: what was expected, what user space read, by name
    assert "wrong_fd: it ran on close, but user space read a wrong value: " in out
    assert '__run_check("closed_fd", "fd"): user space read closed_fd = ' in out
    assert "(fd)" in out
    assert "expected: __success (the verifier accepts it), __run('close')" in out
    assert '__run_check("closed_fd", "fd") (user space reads it back)' in out
    assert "run:      close, run count " in out and "recorded pid=" in out
    assert '__run_set("target_tgid", "tgid"): wrote ' in out
    assert "<-- wrong" in out
    # the annotation errors, each in one line
    assert "no global variable 'parent_tgdi' in the object" in out
    assert "__run('fork') does not record 'fd'" in out
    assert '__run_check("parent_tgid", "retval") needs __run(...)' in out
    assert "Traceback" not in out and "kptrdoc/pytest_plugin.py:" not in out
    assert leftovers(before, object_names(compile_sample(src).path)) == {}
