"""The pytest plugin is no rubber stamp: wrong expectations fail, with a readable report."""

from __future__ import annotations

from pathlib import Path

from harness_support import REPO, run_pytest, write_sample

GOOD_AND_BAD = """
SEC("xdp") __success
int accepted(struct xdp_md *ctx) { return XDP_PASS; }

/* reads packet data without a bounds check: the verifier rejects it */
SEC("xdp") __success
int claims_success(struct xdp_md *ctx) { return *(int *)(long)ctx->data; }

SEC("xdp") __failure __msg("outside of the packet")
int rejected_as_expected(struct xdp_md *ctx) { return *(int *)(long)ctx->data; }

SEC("xdp") __failure __msg("no verifier ever says this")
int message_missing(struct xdp_md *ctx) { return *(int *)(long)ctx->data; }

SEC("xdp") __failure __msg("R1 offset is outside of the packet") __msg("invalid access to packet")
int messages_out_of_order(struct xdp_md *ctx) { return *(int *)(long)ctx->data; }

SEC("xdp") __failure
int claims_failure(struct xdp_md *ctx) { return XDP_PASS; }

SEC("xdp")
int unannotated(struct xdp_md *ctx) { return XDP_PASS; }

SEC("xdp") __success __failure
int both(struct xdp_md *ctx) { return XDP_PASS; }
"""


def test_outcomes_follow_the_expectations(kernel: None, tmp_path: Path) -> None:
    write_sample(tmp_path, "cases.bpf.c", GOOD_AND_BAD)
    run = run_pytest("--strict-messages", str(tmp_path), cwd=tmp_path)
    assert run.outcomes == {
        "cases.bpf.c::accepted": "PASSED",
        "cases.bpf.c::claims_success": "FAILED",
        "cases.bpf.c::rejected_as_expected": "PASSED",
        "cases.bpf.c::message_missing": "FAILED",
        "cases.bpf.c::messages_out_of_order": "FAILED",
        "cases.bpf.c::claims_failure": "FAILED",
        "cases.bpf.c::unannotated": "ERROR",
        "cases.bpf.c::both": "ERROR",
    }, run.output
    assert run.returncode == 1
    # the report: the expectation, the verdict and the log tail, no Python traceback
    assert "expected: __success" in run.output
    assert "got:      rejected" in run.output
    assert "R1 offset is outside of the packet" in run.output
    assert '__msg("no verifier ever says this") is not in the verifier log' in run.output
    assert "no __success or __failure annotation" in run.output
    assert "Traceback" not in run.output and "kptrdoc/pytest_plugin.py:" not in run.output


def _record_holding(
    folder: Path, btf_sha256: str, outcomes: dict[str, dict[str, str]] | None = None
) -> None:
    """A matrix record in ``folder`` whose one kernel is the build with this BTF hash;
    ``outcomes``: sample -> program -> what that kernel did."""
    from kptrdoc.expectations import Outcome
    from kptrdoc.matrix.record import Record, RecordedCell, RecordedKernel, RecordedProgram

    kernel = RecordedKernel("host-like", "6.18.44-1", "6.18.44", btf_sha256, ())
    samples = {
        sample: {
            name: RecordedProgram("success", {kernel.id: RecordedCell(Outcome(got))})
            for name, got in programs.items()
        }
        for sample, programs in (outcomes or {}).items()
    }
    Record(folder / "matrix.lock.json", kernels=(kernel,), samples=samples).save()


MESSAGES = """
SEC("xdp") __failure __msg("outside of the packet")
int worded_as_here(struct xdp_md *ctx) { return *(int *)(long)ctx->data; }

SEC("xdp") __failure __msg("no verifier ever says this")
int worded_elsewhere(struct xdp_md *ctx) { return *(int *)(long)ctx->data; }

SEC("xdp") __failure __msg("no verifier ever says this")
int loads_anyway(struct xdp_md *ctx) { return XDP_PASS; }
"""


def test_a_message_is_drift_on_an_unrecorded_build_and_strict_on_a_recorded_one(
    kernel: None, tmp_path: Path
) -> None:
    from kptrdoc.matrix.kernels import host_btf_sha256

    write_sample(tmp_path, "msgs.bpf.c", MESSAGES)
    expected = {
        "msgs.bpf.c::worded_as_here": "PASSED",
        "msgs.bpf.c::worded_elsewhere": "PASSED",
        "msgs.bpf.c::loads_anyway": "FAILED",  # a flipped verdict fails everywhere
    }
    run = run_pytest(str(tmp_path), cwd=tmp_path)  # no record: this build is unseen
    assert run.outcomes == expected, run.output
    assert "kptrdoc: message drift (1)" in run.output
    assert 'msgs.bpf.c::worded_elsewhere: __msg("no verifier ever says this")' in run.output
    assert "it says: R1 offset is outside of the packet" in run.output

    strict = run_pytest("--strict-messages", str(tmp_path), cwd=tmp_path)
    assert strict.outcomes == {**expected, "msgs.bpf.c::worded_elsewhere": "FAILED"}, strict.output

    _record_holding(tmp_path, "0" * 64)  # a record of another build: still drift
    assert run_pytest(str(tmp_path), cwd=tmp_path).outcomes == expected

    _record_holding(tmp_path, host_btf_sha256())  # the record holds this very build
    recorded = run_pytest(str(tmp_path), cwd=tmp_path)
    assert recorded.outcomes == {**expected, "msgs.bpf.c::worded_elsewhere": "FAILED"}, (
        recorded.output
    )
    assert "on a kernel build the record holds" in recorded.output


def test_compile_error_shows_clang_file_and_line(tmp_path: Path) -> None:
    sample = write_sample(
        tmp_path,
        "broken.bpf.c",
        """
SEC("xdp") __success
int oops(struct xdp_md *ctx)
{
	return no_such_identifier;
}
""",
    )
    line = sample.read_text().splitlines().index("\treturn no_such_identifier;") + 1
    run = run_pytest(str(tmp_path), cwd=tmp_path)
    assert run.outcomes == {"broken.bpf.c::<compile>": "FAILED"}, run.output
    assert f"broken.bpf.c:{line}:" in run.output
    assert "use of undeclared identifier 'no_such_identifier'" in run.output
    assert "Traceback" not in run.output


def test_refused_program_type_is_xfail_never_pass(kernel: None, tmp_path: Path) -> None:
    from kptrdoc import loader
    from kptrdoc.compile import compile_sample

    sample = write_sample(
        tmp_path,
        "fentry.bpf.c",
        """
SEC("fentry/do_exit") __success
int BPF_PROG(on_do_exit, long code) { return 0; }
""",
    )
    verdict = loader.load_program(compile_sample(sample).path, "on_do_exit").verdict
    run = run_pytest(str(tmp_path), cwd=tmp_path, env={"CI": ""})
    if verdict != loader.REFUSED_PROGRAM_TYPE:
        assert run.outcomes == {"fentry.bpf.c::on_do_exit": "PASSED"}, run.output
        return
    # this host: fentry is refused before verification
    assert run.outcomes == {"fentry.bpf.c::on_do_exit": "XFAIL"}, run.output
    assert "refused by this kernel's policy (EPERM)" in run.output
    # under CI that needs a recorded kernel on which the program met its annotation
    ci = run_pytest(str(tmp_path), cwd=tmp_path, env={"CI": "true"})
    assert ci.outcomes == {"fentry.bpf.c::on_do_exit": "FAILED"}, ci.output
    assert "met its annotation on no recorded kernel" in ci.output
    _record_holding(tmp_path, "0" * 64, {"fentry.bpf.c": {"on_do_exit": "loaded"}})
    ci = run_pytest(str(tmp_path), cwd=tmp_path, env={"CI": "true"})
    assert ci.outcomes == {"fentry.bpf.c::on_do_exit": "XFAIL"}, ci.output


def test_another_tree_is_collected_and_passes_under_xdist(kernel: None, tmp_path: Path) -> None:
    """Outside the repo, without flags: kptrdoc.h, vmlinux.h and libbpf headers are found."""
    other = tmp_path / "elsewhere" / "deep"
    other.mkdir(parents=True)
    write_sample(
        other,
        "mine.bpf.c",
        """
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, long);
	__uint(max_entries, 1);
} counter SEC(".maps");

SEC("tp_btf/task_newtask") __success __run("fork")
int BPF_PROG(count_tasks, struct task_struct *task, u64 clone_flags)
{
	int key = 0;
	long *value = bpf_map_lookup_elem(&counter, &key);

	if (value)
		__sync_fetch_and_add(value, 1);
	return 0;
}

SEC("raw_tp/sched_process_exit") __success
int on_exit(void *ctx) { return 0; }
""",
    )
    run = run_pytest(str(tmp_path), "-n", "2", cwd=tmp_path)
    assert run.outcomes == {
        "elsewhere/deep/mine.bpf.c::count_tasks": "PASSED",
        "elsewhere/deep/mine.bpf.c::on_exit": "PASSED",
    }, run.output
    assert run.returncode == 0


def test_without_bpf_permission_items_skip_or_fail_under_ci(tmp_path: Path) -> None:
    """Drop every capability (really, with setpriv): skip with the reason; CI=true fails."""
    import shutil

    setpriv = shutil.which("setpriv")
    if setpriv is None:
        import pytest

        pytest.skip("setpriv (util-linux) is not installed")
    write_sample(
        tmp_path, "ok.bpf.c", 'SEC("xdp") __success\nint ok(struct xdp_md *c) { return 2; }\n'
    )
    drop = [setpriv, "--inh-caps=-all", "--bounding-set=-all"]
    env = {"CI": "false"}
    skipped = _run_dropped(drop, tmp_path, env)
    assert "SKIPPED" in skipped and "not permitted" in skipped, skipped
    failed = _run_dropped(drop, tmp_path, {"CI": "true"})
    assert "ERROR ok.bpf.c::ok" in failed and "not skipped" in failed, failed
    flagged = _run_dropped(drop, tmp_path, env, "--kptrdoc-require-kernel")
    assert "ERROR ok.bpf.c::ok" in flagged and "not skipped" in flagged, flagged


def _run_dropped(prefix: list[str], cwd: Path, env: dict[str, str], *args: str) -> str:
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args, str(cwd)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )
    return proc.stdout + proc.stderr


def test_a_flipped_kptr_annotation_fails_on_the_host(kernel: None, tmp_path: Path) -> None:
    """As a contributor would break it: __failure turned into __success in a copy of the page."""
    import shutil

    samples = tmp_path / "samples"
    shutil.copytree(REPO / "samples" / "__kptr", samples / "__kptr")
    shutil.copyfile(REPO / "samples" / "matrix.lock.json", samples / "matrix.lock.json")
    mistakes = samples / "__kptr" / "mistakes.bpf.c"
    text = mistakes.read_text()
    flipped = text.replace('__failure __msg("store to referenced kptr disallowed")', "__success", 1)
    assert flipped != text
    mistakes.write_text(flipped)
    run = run_pytest(str(samples / "__kptr"), cwd=tmp_path)
    assert run.outcomes["samples/__kptr/mistakes.bpf.c::kptr_plain_store"] == "FAILED", run.output
    assert "rejected by the verifier, expected to load" in run.output
    others = {k: v for k, v in run.outcomes.items() if not k.endswith("::kptr_plain_store")}
    assert others and set(others.values()) == {"PASSED"}, run.output
