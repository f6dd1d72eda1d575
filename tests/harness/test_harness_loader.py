"""The loader's verdicts, against the real kernel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from harness_support import new_kernel_objects, write_sample

from kptrdoc import loader
from kptrdoc.compile import compile_sample


def _object(tmp_path: Path, body: str, name: str = "t.bpf.c") -> Path:
    return compile_sample(write_sample(tmp_path, name, body)).path


def test_loaded_with_statistics(kernel: None, tmp_path: Path) -> None:
    obj = _object(tmp_path, 'SEC("xdp")\nint pass(struct xdp_md *ctx) { return XDP_PASS; }\n')
    result = loader.load_program(obj, "pass")
    assert result.verdict == loader.LOADED
    assert result.errno == 0 and result.reason == ""
    assert result.insns_processed and result.insns_processed >= 2
    assert result.states is not None and result.peak_states is not None
    assert "processed " in result.log
    assert result.libbpf_version.startswith("1.")
    assert result.kernel_release


def _count_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The log level of every load the loader makes from now on."""
    levels: list[int] = []
    attempt = loader._attempt

    def counted(path, program, level, run):
        levels.append(level)
        return attempt(path, program, level, run)

    monkeypatch.setattr(loader, "_attempt", counted)
    return levels


def test_a_program_is_loaded_once_with_the_full_log(
    kernel: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    obj = _object(
        tmp_path,
        'SEC("xdp")\nint pass(struct xdp_md *ctx)\n'
        "{ return ctx->data_end > ctx->data ? XDP_PASS : XDP_DROP; }\n",
    )
    levels = _count_loads(monkeypatch)
    result = loader.load_program(obj, "pass")
    assert result.verdict == loader.LOADED
    assert levels == [loader.LOG_LEVEL_2 | loader.LOG_STATS]
    # level 2: the verifier's state after every instruction, e.g. "1: R1=ctx() ..."
    assert "R1=ctx()" in result.log and "processed " in result.log


def test_rejected_log_holds_the_message(kernel: None, tmp_path: Path) -> None:
    obj = _object(
        tmp_path, 'SEC("xdp")\nint peek(struct xdp_md *ctx)\n{ return *(int *)(long)ctx->data; }\n'
    )
    result = loader.load_program(obj, "peek")
    assert result.verdict == loader.REJECTED
    assert result.errno == 13  # EACCES
    assert "R1 offset is outside of the packet" in result.log
    assert result.reason == "verifier: R1 offset is outside of the packet"


def test_missing_kfunc_fails_before_the_verifier(kernel: None, tmp_path: Path) -> None:
    obj = _object(
        tmp_path,
        """
extern void bpf_kptrdoc_no_such_kfunc(void) __ksym;
SEC("tp_btf/task_newtask")
int BPF_PROG(call_it, struct task_struct *task, u64 clone_flags)
{
	bpf_kptrdoc_no_such_kfunc();
	return 0;
}
""",
    )
    result = loader.load_program(obj, "call_it")
    assert result.verdict == loader.FAILED_BEFORE_VERIFIER
    assert result.log == ""
    assert "bpf_kptrdoc_no_such_kfunc" in result.reason
    assert "not found in kernel or module BTFs" in result.reason


def test_fentry_refused_or_loaded(kernel: None, tmp_path: Path) -> None:
    """This host refuses fentry with an empty log; a kernel that allows it loads it."""
    obj = _object(tmp_path, 'SEC("fentry/do_exit")\nint BPF_PROG(x, long code) { return 0; }\n')
    result = loader.load_program(obj, "x")
    assert result.verdict in (loader.REFUSED_PROGRAM_TYPE, loader.LOADED)
    if result.verdict == loader.REFUSED_PROGRAM_TYPE:
        assert result.log == ""
        assert "not verifiable on this kernel" in result.reason


def test_run_on_fork_counts_runs_and_detaches(kernel: None, tmp_path: Path) -> None:
    obj = _object(
        tmp_path,
        'SEC("tp_btf/task_newtask")\n'
        "int BPF_PROG(seen, struct task_struct *t, u64 f) { return 0; }\n",
    )
    before = loader.kernel_object_ids()
    result = loader.load_program(obj, "seen", run="fork")
    assert result.verdict == loader.LOADED
    assert result.run is not None and result.run.ran, result.run
    assert not any(new_kernel_objects(before).values())


def test_unknown_program_and_trigger_are_clear_errors(kernel: None, tmp_path: Path) -> None:
    obj = _object(tmp_path, 'SEC("xdp")\nint pass(struct xdp_md *ctx) { return XDP_PASS; }\n')
    with pytest.raises(loader.LoaderError, match=r"no program named 'nope' \(programs: pass\)"):
        loader.load_program(obj, "nope")
    with pytest.raises(loader.LoaderError, match="unknown run trigger"):
        loader.load_program(obj, "pass", run="teleport")


def test_cli_json_lists_every_program(kernel: None, tmp_path: Path) -> None:
    obj = _object(
        tmp_path,
        'SEC("xdp")\nint one(struct xdp_md *ctx) { return XDP_PASS; }\n'
        'SEC("xdp")\nint two(struct xdp_md *ctx) '
        "{ return *(int *)(long)ctx->data; }\n",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "kptrdoc.loader", str(obj), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    results = json.loads(proc.stdout)
    assert [(r["program"], r["verdict"]) for r in results] == [
        ("one", "loaded"),
        ("two", "rejected"),
    ]
    keys = {
        "program",
        "verdict",
        "errno",
        "reason",
        "log",
        "insns_processed",
        "states",
        "kernel_release",
        "libbpf_version",
    }
    assert keys <= set(results[0])


def test_cli_bad_object_is_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "not-an-object.o"
    bogus.write_bytes(b"hello")
    proc = subprocess.run(
        [sys.executable, "-m", "kptrdoc.loader", str(bogus), "--json"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bogus) in lines[0], proc.stderr


def test_a_log_bigger_than_the_buffer_keeps_the_verdict(
    kernel: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel answers ENOSPC when the log outgrows the buffer; the verdict must not change."""
    monkeypatch.setattr(loader, "LOG_BUF_SIZE", 256)
    obj = _object(
        tmp_path,
        """
SEC("tp_btf/task_newtask")
int BPF_PROG(branches, struct task_struct *task, u64 clone_flags)
{
	int n = 0;

	if (task->pid & 1) n += 1;
	if (task->pid & 2) n += 2;
	if (task->pid & 4) n += 4;
	return n;
}
SEC("xdp")
int peek(struct xdp_md *ctx) { return *(int *)(long)ctx->data; }
""",
    )
    levels = _count_loads(monkeypatch)
    loaded = loader.load_program(obj, "branches")
    assert loaded.verdict == loader.LOADED and loaded.insns_processed
    assert levels[0] == loader.LOG_LEVEL_2 | loader.LOG_STATS and len(levels) > 1  # retried
    rejected = loader.load_program(obj, "peek")
    assert rejected.verdict == loader.REJECTED
    assert "outside of the packet" in rejected.log
