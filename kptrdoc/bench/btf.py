"""BTF reader against bpftool: dumping the running kernel's vmlinux BTF."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from kptrdoc.bench import Report, Timing, machine_note, time_interleaved

VMLINUX = Path("/sys/kernel/btf/vmlinux")

ONE_STRUCT = "struct task_struct"
"""The one struct of the lazy-decode figure: the kernel's largest record."""


def run(repeat: int) -> Report:
    report = Report("BTF reader")
    note = machine_note()
    bpftool = shutil.which("bpftool")
    if bpftool is None or not VMLINUX.exists():
        report.notes.append("Not measured: needs bpftool and /sys/kernel/btf/vmlinux.")
        return report
    kptrdoc = [sys.executable, "-m", "kptrdoc", "btf", "dump", str(VMLINUX)]
    vmlinux = "/sys/kernel/btf/vmlinux"
    # each kptrdoc figure is timed in turns with the bpftool figure it is compared with
    raw, theirs, one = time_interleaved(
        [kptrdoc, [bpftool, "btf", "dump", "file", str(VMLINUX)],
         [*kptrdoc, "--format", "c", "--root", ONE_STRUCT]],
        repeat,
    )  # fmt: skip
    ours = Timing("kptrdoc raw dump of vmlinux", f"kptrdoc btf dump {vmlinux} > /dev/null", *raw)
    bpftool_raw = Timing(
        "bpftool raw dump of vmlinux", f"bpftool btf dump file {vmlinux} > /dev/null", *theirs
    )
    one_struct = Timing(
        f"kptrdoc: open vmlinux, print C of {ONE_STRUCT} (with what it needs)",
        f'kptrdoc btf dump {vmlinux} --format c --root "{ONE_STRUCT}" > /dev/null',
        *one,
    )
    report.timings = [ours, bpftool_raw, one_struct]
    report.ratios = [
        ("raw dump, kptrdoc / bpftool, wall medians (goal <= 2, must be <= 4)",
         _r(ours, bpftool_raw)),
        ("raw dump, kptrdoc / bpftool, CPU medians", _r(ours, bpftool_raw, cpu=True)),
        (f"{ONE_STRUCT} C (open + print) / bpftool full raw dump, wall medians (must be < 1)",
         _r(one_struct, bpftool_raw)),
    ]  # fmt: skip
    for release, tool in _c_oracles(report):
        c_ours, c_theirs = time_interleaved(
            [[*kptrdoc, "--format", "c", "--c-dialect", release],
             [tool, "btf", "dump", "file", str(VMLINUX), "format", "c"]],
            repeat,
        )  # fmt: skip
        full_c = Timing(
            f"kptrdoc C dump of vmlinux, bpftool {release} dialect",
            f"kptrdoc btf dump {vmlinux} --format c --c-dialect {release} > /dev/null",
            *c_ours,
        )
        bpftool_c = Timing(
            f"bpftool {release} C dump of vmlinux",
            f"bpftool btf dump file {vmlinux} format c > /dev/null  # {tool}",
            *c_theirs,
        )
        report.timings += [full_c, bpftool_c]
        report.ratios.append(
            (f"C dump of all vmlinux, kptrdoc / bpftool {release}, wall medians "
             "(goal <= 5, must be <= 8)", _r(full_c, bpftool_c))
        )  # fmt: skip
    report.notes.append(
        f"Measured by `make bench` (`python -m kptrdoc.bench`), {repeat} runs each after one "
        "warm-up, output to /dev/null, each kptrdoc command in turns with the bpftool "
        "command it is compared with; the kptrdoc figures include Python start-up. Each C "
        "dump is compared with the bpftool whose output it reproduces byte for byte "
        "(Debian 12's 7.1, Debian 13's 7.5). " + note
    )
    return report


def _c_oracles(report: Report) -> list[tuple[str, str]]:
    """(release, bpftool) for each C dialect: the installed bpftool, and the other
    release unpacked from its .deb."""
    from kptrdoc import toolchain
    from kptrdoc.btf.bpftool_compat import C_DIALECTS

    found = []
    for release in sorted(C_DIALECTS):
        try:
            found.append((release, str(toolchain.bpftool_release(release))))
        except toolchain.ToolchainError as exc:
            report.notes.append(f"bpftool {release} not measured: {exc}")
    return found


def _r(a: Timing, b: Timing, cpu: bool = False) -> float:
    return a.cpu_median / b.cpu_median if cpu else a.median / b.median
