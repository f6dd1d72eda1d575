"""Checked runs against the real kernel: each trigger, the values read back, nothing left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from runs_support import (
    NO_STREAM_KFUNC,
    RUNS,
    STREAMS,
    TRIGGERED,
    leftovers,
    object_names,
    write_sample,
)

from kptrdoc import loader
from kptrdoc.compile import compile_sample
from kptrdoc.expectations import (
    Checked,
    Outcome,
    Status,
    check,
    object_variables,
    outcome,
)
from kptrdoc.kernel_range import host_version
from kptrdoc.objects import load_object


@pytest.fixture(scope="module")
def runs_obj(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_sample(write_sample(tmp_path_factory.mktemp("runs"), "runs.bpf.c", RUNS)).path


def _judge(obj: Path, program: str) -> tuple[loader.LoadResult, Outcome, Checked]:
    """What the pytest plugin does with one program: the one rule, on this kernel."""
    expect = load_object(obj).program(program).expect
    assert expect.problem(object_variables(load_object(obj))) == ""
    resolved = expect.resolve(host_version())
    result = loader.load_program(obj, program, run=resolved.run)
    run = result.run
    assert run is not None
    got = outcome(result.verdict, result.errno, run.error, run.ran, wrong=run.wrong)
    return result, got, check(resolved, got, result.log, recorded=True, wrong=run.wrong)


def _values(result: loader.LoadResult) -> dict[str, tuple[int | None, int | None]]:
    assert result.run is not None
    return {f"{c.variable}={c.value}": (c.expected, c.got) for c in result.run.checks}


def test_fork_reads_the_parent_tgid_and_the_child(kernel: None, runs_obj: Path) -> None:
    result, got, checked = _judge(runs_obj, "fork_parent")
    assert (got, checked.status) == (Outcome.RAN, Status.AS_EXPECTED), result.run
    run = result.run
    assert run is not None and run.ran
    assert run.values["tgid"] == os.getpid() and run.values["ppid"] == os.getppid()
    child = run.values["child_pid"]
    assert child not in (0, os.getpid())
    assert _values(result) == {
        "parent_tgid=tgid": (os.getpid(), os.getpid()),
        "child_seen=child_pid": (child, child),
    }
    written = [(i.variable, i.written, i.section) for i in run.inputs]
    assert written == [("target_tgid", os.getpid(), ".bss")]


def test_close_reads_the_fd(kernel: None, runs_obj: Path) -> None:
    result, got, checked = _judge(runs_obj, "close_fd")
    assert (got, checked.status) == (Outcome.RAN, Status.AS_EXPECTED), result.run
    assert result.run is not None
    fd = result.run.values["fd"]
    assert fd > 2 and result.run.values["arg0"] == fd
    assert _values(result) == {"closed_fd=fd": (fd, fd), "closed_fd=arg0": (fd, fd)}
    # closed_fd starts at -1 in .data: the program wrote it
    assert {c.section for c in result.run.checks} == {".data"}


def test_getpgid_reads_the_syscall_argument(kernel: None, runs_obj: Path) -> None:
    result, got, checked = _judge(runs_obj, "getpgid_arg")
    assert (got, checked.status) == (Outcome.RAN, Status.AS_EXPECTED), result.run
    assert result.run is not None
    assert result.run.values["arg0"] == os.getppid()
    assert _values(result) == {"pgid_arg=arg0": (os.getppid(), os.getppid())}


def test_xdp_test_run_reads_the_return_value(kernel: None, runs_obj: Path) -> None:
    result, got, checked = _judge(runs_obj, "xdp_verdict")
    assert (got, checked.status) == (Outcome.RAN, Status.AS_EXPECTED), result.run
    assert result.run is not None
    assert result.run.values["retval"] == 2  # XDP_PASS
    assert result.run.values["pkt_len"] == len(loader.test_packet()) == 50
    assert result.run.run_cnt_after == result.run.run_cnt_before + 1
    assert _values(result) == {
        "last_verdict=retval": (2, 2),
        "last_verdict=2": (2, 2),
        "pkt_seen=pkt_len": (50, 50),
    }


def test_syscall_program_return_value_is_signed(kernel: None, runs_obj: Path) -> None:
    result, got, checked = _judge(runs_obj, "syscall_prog")
    assert (got, checked.status) == (Outcome.RAN, Status.AS_EXPECTED), result.run
    assert result.run is not None and "pkt_len" not in result.run.values
    assert _values(result) == {"syscall_ret=retval": (-7, -7), "syscall_ret=-7": (-7, -7)}


def test_uprobe_reads_the_arguments_and_the_return_value(kernel: None, runs_obj: Path) -> None:
    entry, got, checked = _judge(runs_obj, "uprobe_entry")
    assert (got, checked.status) == (Outcome.RAN, Status.AS_EXPECTED), entry.run
    assert entry.run is not None
    target = entry.run.values["tgid"]
    assert target != os.getpid() and entry.run.values["ppid"] == os.getpid()
    assert _values(entry) == {"uprobe_b=arg1": (2002, 2002), "uprobe_tgid=tgid": (target, target)}
    exit_, got, checked = _judge(runs_obj, "uprobe_return")
    assert (got, checked.status) == (Outcome.RAN, Status.AS_EXPECTED), exit_.run
    assert _values(exit_) == {"uprobe_ret=retval": (21021, 21021)}


def test_a_wrong_value_fails_with_both_values(kernel: None, runs_obj: Path) -> None:
    result, got, checked = _judge(runs_obj, "fork_wrong")
    assert result.run is not None and result.run.ran and not result.run.error
    assert got is Outcome.RAN_WRONG and got.label == "ran, but user space read a wrong value"
    assert checked.status is Status.WRONG_VALUE and checked.status.fails
    child, tgid = result.run.values["child_pid"], os.getpid()
    assert checked.detail == (
        f'__run_check("parent_tgid", "child_pid"): user space read parent_tgid = {tgid}, '
        f"expected {child} (child_pid)"
    )


def test_tracepoint_needs_tracefs(kernel: None, runs_obj: Path) -> None:
    """tp/ programs attach through tracefs: without it, the attach is refused (xfail),
    never a pass and never a wrong value."""
    result, got, checked = _judge(runs_obj, "close_tracepoint")
    if Path("/sys/kernel/tracing/events/syscalls").is_dir():
        assert (got, checked.status) == (Outcome.RAN, Status.AS_EXPECTED), result.run
    else:
        assert got is Outcome.ATTACH_REFUSED and checked.status is Status.UNVERIFIED
        assert result.run is not None and result.run.checks == []


def test_nothing_is_left_in_the_kernel(kernel: None, runs_obj: Path) -> None:
    before = loader.kernel_object_ids()
    for program, trigger in TRIGGERED:
        result = loader.load_program(runs_obj, program, run=trigger)
        assert result.verdict == loader.LOADED, result.reason
    assert leftovers(before, object_names(runs_obj)) == {}
    # the uprobe's target processes were waited for: no child of ours is left
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_a_global_the_object_lacks_is_a_clear_error(kernel: None, tmp_path: Path) -> None:
    """The loader does not trust problem(): a check of an unknown global, a value the
    trigger does not record, a __run_set that cannot be written are said by name."""
    obj = compile_sample(
        write_sample(
            tmp_path,
            "bad.bpf.c",
            """
int seen;
const volatile int frozen = 1;
SEC("xdp") __success __run("test_run") __run_check("nowhere", "retval")
__run_check("seen", "child_pid")
int checks(struct xdp_md *ctx) { seen = 1; return XDP_PASS; }

SEC("xdp") __success __run("test_run") __run_set("frozen", "5")
int sets(struct xdp_md *ctx) { return frozen; }
""",
        )
    ).path
    result = loader.load_program(obj, "checks", run="test_run")
    assert result.run is not None and result.run.ran
    errors = {c.variable: c.error for c in result.run.checks}
    assert errors == {
        "nowhere": "no global variable 'nowhere' in the object's BTF",
        "seen": "the trigger did not record 'child_pid'",
    }
    assert '__run_check("nowhere", "retval"): no global variable \'nowhere\'' in result.run.wrong
    sets = loader.load_program(obj, "sets", run="test_run")
    assert sets.run is not None and not sets.run.ran
    assert sets.run.error.startswith('__run_set("frozen", "5"): cannot write .rodata')
    assert outcome(sets.verdict, sets.errno, sets.run.error, sets.run.ran) is Outcome.DID_NOT_RUN


def test_json_keeps_the_old_keys_and_adds_the_values(kernel: None, runs_obj: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kptrdoc.loader", str(runs_obj), "close_fd", "--run", "close",
         "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    (result,) = json.loads(proc.stdout)
    run = result["run"]
    assert {"trigger", "run_cnt_before", "run_cnt_after", "error"} <= set(run)
    assert run["trigger"] == "close" and run["error"] == ""
    assert run["run_cnt_after"] > run["run_cnt_before"]
    assert set(run["values"]) == {"pid", "tgid", "ppid", "fd", "nr", "arg0", "nonce"}
    assert run["printed"] == []  # no __run_printed
    assert [i["variable"] for i in run["inputs"]] == ["target_tgid", "want_nr"]
    fd = run["values"]["fd"]
    assert run["checks"][0] == {
        "variable": "closed_fd", "value": "fd", "expected": fd, "got": fd, "ok": True,
        "section": ".data", "offset": run["checks"][0]["offset"], "size": 4, "error": "",
    }  # fmt: skip


def test_the_matrix_guest_runs_the_checks_with_the_standard_library_only(
    kernel: None, runs_obj: Path, tmp_path: Path
) -> None:
    """kptrdoc.matrix.guest, as a guest runs it (python -S: no site-packages), checks
    the values from the object's own annotations: triggers.json names only the trigger."""
    (tmp_path / "0.o").write_bytes(runs_obj.read_bytes())
    wanted = {"close_fd": "close", "fork_wrong": "fork", "xdp_verdict": "test_run"}
    (tmp_path / "triggers.json").write_text(json.dumps({"0": wanted}))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(Path(loader.__file__).resolve().parents[1]),
        "KPTRDOC_LIBBPF_SO": str(loader.libbpf_so()),
        "KPTRDOC_CACHE": os.environ.get("KPTRDOC_CACHE", str(tmp_path / "cache")),
    }
    proc = subprocess.run(
        [sys.executable, "-S", "-m", "kptrdoc.matrix.guest", str(tmp_path), "1"],
        capture_output=True, text=True, env=env, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "0.err").read_text().strip() == ""
    results = {r["program"]: r for r in json.loads((tmp_path / "0.json").read_text())}
    assert all(c["ok"] for c in results["close_fd"]["run"]["checks"])
    assert all(c["ok"] for c in results["xdp_verdict"]["run"]["checks"])
    from kptrdoc.expectations import wrong_values

    wrong = wrong_values(results["fork_wrong"]["run"]["checks"])
    assert wrong.startswith('__run_check("parent_tgid", "child_pid"): user space read parent_tgid')
    assert results["fork_parent"]["run"] is None  # not asked to run


PRINTS = """\
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

int nonce = 0;

SEC("syscall")
__success __run("test_run") __run_set("nonce", "nonce")
__run_printed("kptrdoc-test {nonce} said 7")
int says_seven(void *ctx)
{
	bpf_printk("kptrdoc-test %d said %d", nonce, 7);
	return 0;
}

SEC("syscall")
__success __run("test_run") __run_set("nonce", "nonce")
__run_printed("kptrdoc-test {nonce} said 8")
int says_seven_not_eight(void *ctx)
{
	bpf_printk("kptrdoc-test %d said %d", nonce, 7);
	return 0;
}
"""


def test_printed_text_is_found_by_its_nonce_and_a_wrong_one_fails(
    kernel: None, tmp_path: Path
) -> None:
    """``__run_printed``: the trace buffer holds the line with this run's nonce; a text the
    program did not print is a wrong value, with the text it looked for."""
    obj = compile_sample(write_sample(tmp_path, "prints.bpf.c", PRINTS)).path
    result, got, checked = _judge(obj, "says_seven")
    assert (got, checked.status) == (Outcome.RAN, Status.AS_EXPECTED), result.run
    assert result.run is not None
    (printed,) = result.run.printed
    nonce = result.run.values["nonce"]
    assert printed.found and printed.text == f"kptrdoc-test {nonce} said 7"
    assert "bpf_trace_printk" in printed.line  # the trace buffer's own line
    result, got, _ = _judge(obj, "says_seven_not_eight")
    assert got == Outcome.RAN_WRONG
    assert result.run is not None and "said 8' is not in the trace buffer" in result.run.wrong
    assert result.run.values["nonce"] != nonce  # a new one for each run


def test_printed_placeholders_must_be_run_values() -> None:
    from kptrdoc.expectations import parse_tags, printed_text

    bad = parse_tags(["kptrdoc:success", "kptrdoc:run=test_run", "kptrdoc:run_printed={fd} x"])
    assert "does not record 'fd'" in bad.problem()
    unknown = parse_tags(["kptrdoc:success", "kptrdoc:run=fork", "kptrdoc:run_printed={x}"])
    assert "unknown value {x}" in unknown.problem()
    assert printed_text("a {nonce} b {pid}", {"nonce": 5, "pid": 9}) == "a 5 b 9"
    assert printed_text("{child_pid}", {"pid": 9}) is None


def test_printed_text_is_found_in_the_programs_stream(kernel: None, tmp_path: Path) -> None:
    """``__run_printed`` also reads the program's BPF streams (``bpf_stream_printk``), by
    its fd: the line is found there, not in the shared trace buffer, and a text the
    program did not stream is a wrong value."""
    obj = compile_sample(write_sample(tmp_path, "streams.bpf.c", STREAMS)).path
    result, got, checked = _judge(obj, "streams_seven")
    assert result.run is not None
    (streamed,) = result.run.checks
    if streamed.got == NO_STREAM_KFUNC:
        pytest.skip("this kernel has no bpf_stream_vprintk kfunc in either form")
    if streamed.got != 0:  # seen: -ENOMEM from 6.18.44-fc's bpf_stream_vprintk_impl
        pytest.skip(f"this kernel's stream kfunc failed ({streamed.got}); the guests check it")
    assert (got, checked.status) == (Outcome.RAN, Status.AS_EXPECTED), result.run
    (printed,) = result.run.printed
    nonce = result.run.values["nonce"]
    assert printed.found and printed.line == f"kptrdoc-test {nonce} streamed 7"
    trace = next(p for p in loader.TRACE_BUFFERS if p.exists()).read_text(errors="replace")
    assert printed.text not in trace  # it came from the stream, not the trace buffer
    result, got, _ = _judge(obj, "streams_seven_not_eight")
    assert got == Outcome.RAN_WRONG
    assert result.run is not None and "streamed 8' is not in the trace buffer" in result.run.wrong
