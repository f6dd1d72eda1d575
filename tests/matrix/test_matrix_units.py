"""Matrix pieces that need no VM: cells, facts, the initramfs format, the CLI's errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kptrdoc.matrix import facts, initramfs
from kptrdoc.matrix import results as res
from kptrdoc.matrix.kernels import Kernel

OLD = Kernel("bookworm", "6.1.0-50-amd64", "6.1.176-1")
MID = Kernel("trixie", "6.12.117+deb13-amd64", "6.12.117-1")
HOST = Kernel("host", "6.18.44-fc", "6.18.44-fc")
NEW = Kernel("sid", "7.2.13+deb14-amd64", "7.2.13-1")
KERNELS = [NEW, OLD, HOST, MID]  # deliberately unordered


def cell(program: str, kernel: Kernel, verdict: str, log: str = "", reason: str = "") -> res.Cell:
    short = res.short_reason(verdict, reason, log)
    return res.Cell("sha", "s.bpf.c", program, kernel.id, verdict, short, reason,
                    result={"log": log})  # fmt: skip


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


def test_minimum_kernel_is_oldest_from_which_all_newer_load():
    expect = facts.Expectation("success")
    rows = [
        facts.Row("s.bpf.c", "p", expect, {
            OLD.id: cell("p", OLD, res.FAILED_BEFORE_VERIFIER, reason="x"),
            MID.id: cell("p", MID, res.LOADED),
            HOST.id: cell("p", HOST, res.REFUSED_PROGRAM_TYPE),  # says nothing: skipped
            NEW.id: cell("p", NEW, res.LOADED),
        }),
    ]  # fmt: skip
    assert facts.minimum_kernel(KERNELS, rows) == MID
    rows[0].cells[MID.id] = cell("p", MID, res.REJECTED, log="R1 bad\n")
    assert facts.minimum_kernel(KERNELS, rows) == NEW
    rows[0].cells[NEW.id] = cell("p", NEW, res.NO_BOOT)
    assert facts.minimum_kernel(KERNELS, rows) is None


def test_minimum_kernel_ignores_an_oldest_kernel_that_did_not_boot():
    expect = facts.Expectation("success")
    row = facts.Row("s.bpf.c", "p", expect, {
        OLD.id: cell("p", OLD, res.NO_BOOT), MID.id: cell("p", MID, res.LOADED),
        HOST.id: cell("p", HOST, res.LOADED), NEW.id: cell("p", NEW, res.LOADED),
    })  # fmt: skip
    compat = facts.compatibility(KERNELS, list(row.cells.values()), {("sha", "p"): expect})
    assert compat.minimum == MID
    assert compat.statement == "needs Linux ≥ 6.12 of the kernels tested"


def test_problems_only_on_kernels_the_macro_works_on():
    ok = facts.Expectation("success")
    bad = facts.Expectation("failure", msgs=("store to referenced kptr",))
    cells = [
        cell("good", OLD, res.REJECTED, log="no\n"),
        cell("good", NEW, res.LOADED),
        cell("neg", OLD, res.LOADED),  # below the minimum: a fact, not a problem
        cell("neg", NEW, res.REJECTED, log="store to referenced kptr disallowed\n"),
    ]
    expect = {("sha", "good"): ok, ("sha", "neg"): bad}
    compat = facts.compatibility([OLD, NEW], cells, expect)
    assert compat.minimum == NEW and compat.problems() == []
    cells[3] = cell("neg", NEW, res.REJECTED, log="other wording\n")
    compat = facts.compatibility([OLD, NEW], cells, expect)
    assert compat.problems() == [
        "s.bpf.c: neg on 7.2 (sid): message differs (other wording)"
    ]  # fmt: skip


def test_a_program_type_refused_everywhere_is_a_problem():
    ok = facts.Expectation("success")
    expect = {("sha", "fentry_prog"): ok}
    # refused on the host, verified on an older kernel: the table shows it, no problem
    cells = [
        cell("fentry_prog", HOST, res.REFUSED_PROGRAM_TYPE),
        cell("fentry_prog", MID, res.LOADED),
    ]
    assert facts.compatibility([MID, HOST], cells, expect).problems() == []
    # refused on every kernel: nothing ever verified it
    cells[1] = cell("fentry_prog", MID, res.REFUSED_PROGRAM_TYPE)
    assert facts.compatibility([MID, HOST], cells, expect).problems() == [
        "s.bpf.c: fentry_prog: refused before verification on every kernel tested, "
        "so no kernel verified it"
    ]


def test_per_kernel_messages_replace_plain_ones_in_their_range():
    expect = facts.Expectation.from_tags([
        "kptrdoc:failure", "kptrdoc:msg=trusted R1", "kptrdoc:msg@<6.13=trusted arg0",
        "other", "kptrdoc:description=d",
    ])  # fmt: skip
    assert expect.verdict == "failure" and expect.description == "d"
    assert expect.msgs_for(OLD) == ("trusted arg0",)
    assert expect.msgs_for(MID) == ("trusted arg0",)
    assert expect.msgs_for(NEW) == ("trusted R1",)
    assert facts.in_range(MID, "6.12") and not facts.in_range(MID, "6.1")
    assert facts.in_range(NEW, ">=7") and not facts.in_range(NEW, "nonsense")
    both = facts.Expectation.from_tags(["kptrdoc:success", "kptrdoc:failure"])
    assert both.verdict is None


def test_a_range_with_an_equals_sign_is_not_split_at_it():
    expect = facts.Expectation.from_tags(
        ["kptrdoc:failure", "kptrdoc:msg=plain", "kptrdoc:msg@>=7=a=b", "kptrdoc:msg@<=6.12=old"]
    )
    assert expect.kernel_msgs == ((">=7", "a=b"), ("<=6.12", "old"))
    assert expect.msgs_for(NEW) == ("a=b",)
    assert expect.msgs_for(HOST) == ("plain",)
    assert expect.msgs_for(MID) == ("old",)


def test_failure_on_rejects_in_its_range_and_must_load_elsewhere():
    expect = facts.Expectation.from_tags(
        ["kptrdoc:failure@<7", "kptrdoc:msg=doesn't return scalar"]
    )
    assert expect.verdict == "failure" and expect.failure_ranges == ("<7",)
    assert [expect.verdict_on(k) for k in (OLD, MID, HOST, NEW)] == [
        "failure", "failure", "failure", "success"
    ]  # fmt: skip
    rejected = "Global function f() doesn't return scalar\n"
    assert facts.check(cell("p", HOST, res.REJECTED, log=rejected), expect, HOST) == facts.OK
    assert facts.check(cell("p", NEW, res.LOADED), expect, NEW) == facts.OK
    # in range: loading is still wrong; out of range: a rejection is wrong
    loaded_host = cell("p", HOST, res.LOADED)
    assert facts.check(loaded_host, expect, HOST) == facts.UNEXPECTED_LOAD
    rejected_new = cell("p", NEW, res.REJECTED, log=rejected)
    assert facts.check(rejected_new, expect, NEW) == facts.UNEXPECTED_REJECT
    before = cell("p", NEW, res.FAILED_BEFORE_VERIFIER, reason="kfunc missing")
    assert facts.check(before, expect, NEW) == facts.INCOMPATIBLE
    ok = facts.Expectation("success")
    cells = [cell("good", k, res.LOADED) for k in (HOST, NEW)] + [
        cell("p", HOST, res.REJECTED, log=rejected), rejected_new
    ]  # fmt: skip
    compat = facts.compatibility([HOST, NEW], cells, {("sha", "good"): ok, ("sha", "p"): expect})
    assert compat.problems() == [
        f"s.bpf.c: p on 7.2 (sid): rejected, expected to load on this kernel ({rejected_new.short})"
    ]


def test_msgs_match_in_order():
    assert facts.msgs_match("a b c", ["a", "c"]) is None
    assert facts.msgs_match("a b c", ["c", "a"]) == "a"


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
        "bookworm, trixie, sid, host"
    ]  # fmt: skip


def test_cli_missing_samples_dir_is_one_line(tmp_path):
    proc = run_cli("--samples", str(tmp_path / "nope"), "--kernels", "host")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"kptrdoc matrix: {tmp_path / 'nope'}: no such samples directory"
    ]  # fmt: skip
    assert "Traceback" not in proc.stderr
