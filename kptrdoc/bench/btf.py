"""BTF reader against bpftool: dumping the running kernel's vmlinux BTF."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from kptrdoc.bench import Report, Timing, machine_note, time_command

VMLINUX = Path("/sys/kernel/btf/vmlinux")

TASK_STRUCT_SCRIPT = (
    "import sys; from kptrdoc.btf import load_btf, Struct, render_c; "
    "s = load_btf('/sys/kernel/btf/vmlinux'); "
    "sys.stdout.write(render_c(s, [s.by_name('task_struct', Struct)[0].id]))"
)


def run(repeat: int) -> Report:
    report = Report("BTF reader")
    note = machine_note()
    bpftool = shutil.which("bpftool")
    if bpftool is None or not VMLINUX.exists():
        report.notes.append("Not measured: needs bpftool and /sys/kernel/btf/vmlinux.")
        return report
    kptrdoc = [sys.executable, "-m", "kptrdoc"]
    ours = Timing(
        "kptrdoc raw dump of vmlinux",
        "kptrdoc btf dump /sys/kernel/btf/vmlinux > /dev/null",
        *time_command([*kptrdoc, "btf", "dump", str(VMLINUX)], repeat),
    )
    theirs = Timing(
        "bpftool raw dump of vmlinux",
        "bpftool btf dump file /sys/kernel/btf/vmlinux > /dev/null",
        *time_command([bpftool, "btf", "dump", "file", str(VMLINUX)], repeat),
    )
    task = Timing(
        "kptrdoc: open vmlinux, print C of struct task_struct (with its dependencies)",
        f'python -c "{TASK_STRUCT_SCRIPT}"',
        *time_command([sys.executable, "-c", TASK_STRUCT_SCRIPT], repeat),
    )
    full_c = Timing(
        "kptrdoc C dump of vmlinux",
        "kptrdoc btf dump /sys/kernel/btf/vmlinux --format c > /dev/null",
        *time_command(
            [*kptrdoc, "btf", "dump", str(VMLINUX), "--format", "c"], max(3, repeat // 2)
        ),
    )
    bpftool_c = Timing(
        "bpftool C dump of vmlinux",
        "bpftool btf dump file /sys/kernel/btf/vmlinux format c > /dev/null",
        *time_command(
            [bpftool, "btf", "dump", "file", str(VMLINUX), "format", "c"], max(3, repeat // 2)
        ),
    )
    report.timings = [ours, theirs, task, full_c, bpftool_c]
    report.ratios = [
        ("raw dump, kptrdoc / bpftool, wall medians (goal <= 2, must be <= 4)", _r(ours, theirs)),
        ("raw dump, kptrdoc / bpftool, CPU medians", _r(ours, theirs, cpu=True)),
        ("task_struct C (open + print) / bpftool full raw dump, wall medians", _r(task, theirs)),
        ("C dump of all vmlinux, kptrdoc / bpftool, wall medians", _r(full_c, bpftool_c)),
    ]
    report.notes.append(
        f"Measured by `make bench` (`python -m kptrdoc.bench`), {repeat} runs each after one "
        "warm-up, output to /dev/null; the kptrdoc figures include Python start-up. " + note
    )
    return report


def _r(a: Timing, b: Timing, cpu: bool = False) -> float:
    return a.cpu_median / b.cpu_median if cpu else a.median / b.median
