"""Matrix pieces that need no VM: cells, facts, the initramfs format, the CLI's errors."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from kptrdoc.expectations import Outcome, Status, check, outcome, parse_tags
from kptrdoc.matrix import facts, initramfs
from kptrdoc.matrix import results as res
from kptrdoc.matrix.kernels import Kernel
from kptrdoc.matrix.record import (
    Record,
    RecordedCell,
    RecordedKernel,
    RecordedProgram,
    RecordError,
    diff,
)

OLD = Kernel("bookworm", "6.1.0-50-amd64", "6.1.176-1")
MID = Kernel("trixie", "6.12.117+deb13-amd64", "6.12.117-1")
HOST = Kernel("host", "6.18.44-fc", "6.18.44-fc")
NEW = Kernel("sid", "7.2.13+deb14-amd64", "7.2.13-1")
KERNELS = [NEW, OLD, HOST, MID]  # deliberately unordered


def cell(program: str, kernel: Kernel, verdict: str, log: str = "", reason: str = "") -> res.Cell:
    short = res.short_reason(verdict, reason, log)
    return res.Cell("sha", "s.bpf.c", program, kernel.id, verdict, short, reason,
                    result={"log": log, "verdict": verdict})  # fmt: skip


def test_kernel_order_labels_and_ids():
    assert [k.name for k in sorted(KERNELS, key=lambda k: k.upstream)] == [
        "bookworm", "trixie", "host", "sid"
    ]  # fmt: skip
    assert OLD.label == "6.1 (bookworm)" and OLD.id == "bookworm/6.1.176-1"
    assert HOST.is_host and not NEW.is_host


@pytest.mark.parametrize(
    ("verdict", "reason", "log", "short"),
    [
        (res.LOADED, "", "processed 3 insns", res.CHECK),
        (res.REJECTED, "verifier: insns processed 11",
         "11: (7b) *(u64 *)(r6 +0) = r0\nstore to referenced kptr disallowed\n"
         "verification time 1603 usec\nstack depth 8 max 0\ninsns processed 11\n"
         "processed 11 insns (limit 1000000) max_states_per_insn 0 total_states 1\n",
         "store to referenced kptr disallowed"),
        (res.FAILED_BEFORE_VERIFIER,
         "extern (func ksym) 'bpf_cpumask_copy': not found in kernel or module BTFs", "",
         "kfunc bpf_cpumask_copy missing"),
        (res.FAILED_BEFORE_VERIFIER, "map 'slots': failed to create: Invalid argument", "",
         "map slots cannot be created"),
        (res.REFUSED_PROGRAM_TYPE, "not verifiable", "",
         "program type refused before verification"),
    ],
)  # fmt: skip
def test_short_reason(verdict, reason, log, short):
    assert res.short_reason(verdict, reason, log) == short


def _record(tmp_path: Path, rows: dict[str, dict[str, tuple[str, str]]]) -> Record:
    """A record of OLD, MID and NEW; ``rows``: program -> kernel id -> (outcome, log)."""
    kernels = tuple(
        RecordedKernel(k.name, k.version, k.release, f"{i:064x}", ()) for i, k in
        enumerate((OLD, MID, NEW), start=1)
    )  # fmt: skip
    programs = {}
    for program, cells in rows.items():
        expect = "success" if program.startswith("good") else "failure"
        programs[program] = RecordedProgram(expect, {
            kid: RecordedCell(Outcome(o), log=tuple(log.splitlines())) for kid, (o, log) in
            cells.items()
        })  # fmt: skip
    return Record(tmp_path / "matrix.lock.json", kernels=kernels, samples={"m/s.bpf.c": programs})


def test_the_floor_is_the_oldest_recorded_kernel_from_which_every_example_loads(tmp_path):
    record = _record(tmp_path, {
        "good": {OLD.id: ("missing-feature", ""), MID.id: ("loaded", ""), NEW.id: ("ran", "")},
        "good2": {OLD.id: ("loaded", ""), MID.id: ("loaded", ""), NEW.id: ("loaded", "")},
    })  # fmt: skip
    floor = record.floor("m")
    assert floor is not None and floor.suite == "trixie"
    assert record.below_floor("m", (6, 1, 176)) and not record.below_floor("m", (6, 18, 44))
    record = _record(tmp_path, {
        "good": {OLD.id: ("loaded", ""), MID.id: ("rejected", "x"), NEW.id: ("loaded", "")},
    })  # fmt: skip
    assert record.floor("m").suite == "sid"  # a gap: only from the newest on


def test_check_follows_the_one_rule():
    fail = parse_tags(["kptrdoc:failure", "kptrdoc:msg=store to referenced kptr"])
    ok = parse_tags(["kptrdoc:success", "kptrdoc:run=fork"])
    on = fail.resolve((7, 2))
    log = "11: ...\nstore to referenced kptr disallowed\n"
    assert check(on, Outcome.REJECTED, log, recorded=True).status is Status.AS_EXPECTED
    assert check(on, Outcome.REJECTED, "other", recorded=True).status is Status.MSG_DIFFERS
    assert check(on, Outcome.REJECTED, "other", recorded=False).status is Status.DRIFT
    assert check(on, Outcome.LOADED, "", recorded=False).status is Status.FLIPPED
    assert check(on, Outcome.LOADED, "", recorded=True, below_floor=True).status is (
        Status.UNVERIFIED
    )
    run = ok.resolve((7, 2))
    assert check(run, Outcome.RAN, recorded=True).status is Status.AS_EXPECTED
    assert check(run, Outcome.LOADED, recorded=True).status is Status.DID_NOT_RUN
    assert check(run, Outcome.REJECTED, "x", recorded=False).status is Status.FLIPPED
    for refused in (Outcome.REFUSED_BY_POLICY, Outcome.ATTACH_REFUSED, Outcome.NOT_APPLICABLE):
        assert check(run, refused, recorded=True).status is Status.UNVERIFIED
    assert check(run, Outcome.MISSING_FEATURE, recorded=True).status is (Status.MISSING_ABOVE_FLOOR)
    assert check(run, Outcome.MISSING_FEATURE, recorded=True, below_floor=True).status is (
        Status.UNVERIFIED
    )
    assert Status.DRIFT.fails is False and Status.FLIPPED.fails and Status.MSG_DIFFERS.fails


@pytest.mark.parametrize(
    ("verdict", "errno", "run_error", "ran", "expected"),
    [
        ("loaded", 0, "", None, Outcome.LOADED),
        ("loaded", 0, "", True, Outcome.RAN),
        ("loaded", 0, "", False, Outcome.DID_NOT_RUN),
        ("loaded", 0, "attach failed: No such file or directory", False, Outcome.ATTACH_REFUSED),
        ("rejected", 13, "", None, Outcome.REJECTED),
        ("refused-program-type", 1, "", None, Outcome.REFUSED_BY_POLICY),
        ("refused-program-type", 22, "", None, Outcome.MISSING_FEATURE),
        ("failed-before-verifier", 2, "", None, Outcome.MISSING_FEATURE),
        ("loader-error", 0, "", None, Outcome.NO_VERDICT),
    ],
)
def test_one_outcome_per_loader_result(verdict, errno, run_error, ran, expected):
    assert outcome(verdict, errno, run_error, ran) is expected


def test_a_live_cell_is_checked_against_the_record_and_the_annotations(tmp_path):
    log = "store to referenced kptr disallowed"
    record = _record(tmp_path, {
        "good": {OLD.id: ("missing-feature", ""), MID.id: ("loaded", ""), NEW.id: ("loaded", "")},
        "neg": {OLD.id: ("loaded", ""), MID.id: ("rejected", log), NEW.id: ("rejected", log)},
    })  # fmt: skip
    pinned = {k.id: replace(k, btf_sha256=f"{i:064x}") for i, k in
              enumerate((OLD, MID, NEW), start=1)}  # fmt: skip
    checker = facts.Checker(record)
    neg = parse_tags(["kptrdoc:failure", "kptrdoc:msg=store to referenced kptr"])
    row = facts.Row("m/s.bpf.c", "neg", neg, {})
    new = pinned[NEW.id]
    assert checker.recorded_build(new) and not checker.recorded_build(HOST)
    good = checker.cell(row, new, cell("neg", new, res.REJECTED, log=log + "\n"))
    assert good.checked.ok and not good.fails
    # the same wording change: a problem on the recorded build, drift on the host
    worded = checker.cell(row, new, cell("neg", new, res.REJECTED, log="other\n"))
    assert worded.checked.status is Status.MSG_DIFFERS and worded.fails
    host = checker.cell(row, HOST, cell("neg", HOST, res.REJECTED, log="other\n"))
    assert host.checked.status is Status.DRIFT and not host.fails
    # the record says rejected: a load on the pinned kernel is a flip and not as recorded
    flipped = checker.cell(row, new, cell("neg", new, res.LOADED))
    assert flipped.checked.status is Status.FLIPPED
    assert flipped.recorded.startswith("not as recorded: the record says rejected, now loaded")
    # below the floor (6.1) nothing counts against the sample
    old = checker.cell(row, pinned[OLD.id], cell("neg", pinned[OLD.id], res.LOADED))
    assert old.checked.status is Status.UNVERIFIED and not old.fails
    missing = facts.Row("m/s.bpf.c", "unrecorded", neg, {})
    assert checker.cell(missing, new, cell("unrecorded", new, res.REJECTED, log=log)).recorded


def test_a_program_no_kernel_verified_is_a_problem(tmp_path):
    record = _record(tmp_path, {"good": {NEW.id: ("refused-by-policy", "")}})
    ok = parse_tags(["kptrdoc:success"])
    host_cell = res.Cell("sha", "s", "good", HOST.id, res.REFUSED_PROGRAM_TYPE, "", "",
                         result={"errno": 1})  # fmt: skip
    row = facts.Row("m/s.bpf.c", "good", ok, {HOST.id: host_cell})
    assert facts.Checker(record).problems([row], [HOST]) == [
        "m/s.bpf.c: good: met its annotation on no kernel (it must verify as annotated on at "
        "least one)"
    ]
    record = _record(tmp_path, {"good": {NEW.id: ("loaded", "")}})
    assert facts.Checker(record).problems([row], [HOST]) == []


def test_the_record_diff_says_what_each_kernel_now_says(tmp_path):
    old = _record(tmp_path, {"neg": {NEW.id: ("rejected", "R1 type=map_value_or_null")}})
    moved = RecordedKernel("sid", "7.3.4-1", "7.3.4-amd64", "f" * 64, ())
    new = Record(old.path, kernels=(*old.kernels[:2], moved), samples={"m/s.bpf.c": {
        "neg": RecordedProgram("failure", {moved.id: RecordedCell(
            Outcome.REJECTED, "R1 type=map_ptr_or_null")}),
        "added": RecordedProgram("success", {}),
    }})  # fmt: skip
    old = replace(old, samples={"m/s.bpf.c": {"neg": RecordedProgram("failure", {
        NEW.id: RecordedCell(Outcome.REJECTED, "R1 type=map_value_or_null")})}})  # fmt: skip
    assert diff(old, new) == [
        "kernel moved: sid 7.2.13-1 -> 7.3.4-1",
        "m/s.bpf.c: added: new",
        'm/s.bpf.c: neg: 7.3 now says "R1 type=map_ptr_or_null" where 7.2 said '
        '"R1 type=map_value_or_null"',
    ]
    new.save()
    assert Record.load(new.path) == new  # what is written reads back the same


def test_a_broken_record_is_one_line(tmp_path):
    path = tmp_path / "matrix.lock.json"
    path.write_text("{")
    with pytest.raises(RecordError, match=r"matrix.lock.json: not JSON"):
        Record.load(path)
    path.write_text('{"format": 1, "kernels": [{"suite": "x"}], "samples": {}}')
    with pytest.raises(RecordError, match=r"not a matrix record of format 1"):
        Record.load(path)
    assert Record.load(tmp_path / "absent.json").empty


def test_initramfs_cpio_lists_init_busybox_and_console(tmp_path):
    image = initramfs._Cpio()
    image.directory("bin")
    image.file("bin/busybox", b"x" * 5, 0o755)
    image.char_device("dev/console", 5, 1)
    image.file("init", initramfs.INIT_SCRIPT.encode(), 0o755)
    data = image.finish()
    assert len(data) % 512 == 0
    path = tmp_path / "i.cpio"
    path.write_bytes(data)
    listing = subprocess.run(
        [str(initramfs.busybox()), "cpio", "-t"], stdin=path.open("rb"),
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert listing == ["bin", "bin/busybox", "dev/console", "init"]


def test_module_closure_loads_dependencies_first(kernels):
    trixie = next(k for k in kernels if k.name == "trixie")
    names = [name for name, _ in initramfs.module_closure(trixie.modules)]
    assert "9p.ko" in names and "9pnet_virtio.ko" in names
    assert names.index("9pnet.ko") < names.index("9pnet_virtio.ko") < names.index("9p.ko")
    assert names.index("netfs.ko") < names.index("9p.ko")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kptrdoc.matrix", *args], capture_output=True, text=True,
        cwd=Path(__file__).resolve().parents[2], check=False, timeout=60,
    )  # fmt: skip


def test_cli_unknown_kernel_is_one_line():
    proc = run_cli("--kernels", "bookworm,potato")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "kptrdoc matrix: --kernels 'bookworm,potato': expected some of "
        "bookworm, trixie, trixie-backports, sid, host"
    ]  # fmt: skip


def test_cli_missing_samples_dir_is_one_line(tmp_path):
    proc = run_cli("--samples", str(tmp_path / "nope"), "--kernels", "host")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"kptrdoc matrix: {tmp_path / 'nope'}: no such sample, sample folder or samples root"
    ]  # fmt: skip
    assert "Traceback" not in proc.stderr


def test_re_recording_a_folder_drops_the_samples_whose_file_is_gone(tmp_path: Path) -> None:
    from kptrdoc.matrix.record import Record, RecordedProgram, Toolchain, merged

    (tmp_path / "page").mkdir()
    (tmp_path / "page" / "kept.bpf.c").write_text("")
    old = Record(tmp_path / "matrix.lock.json", Toolchain(), (), {
        "page/kept.bpf.c": {"p": RecordedProgram("success")},
        "page/removed.bpf.c": {"q": RecordedProgram("failure")},
    })  # fmt: skip
    new = merged(old, (), Toolchain(), {"page/new.bpf.c": {"r": RecordedProgram("success")}},
                 keep_others=True)  # fmt: skip
    assert set(new.samples) == {"page/kept.bpf.c", "page/new.bpf.c"}
    assert set(merged(old, (), Toolchain(), {}, keep_others=False).samples) == set()
