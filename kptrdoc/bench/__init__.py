"""Benchmarks against the reference tools, run in one process: ``make bench``.

Each module here exposes ``run(repeat) -> Report``; :mod:`__main__` runs them
and can write their sections into ``docs/performance.md``.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Timing:
    label: str
    command: str
    seconds: list[float]  # wall clock per run
    cpu: list[float] = field(default_factory=list)  # user+sys CPU of the child per run

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")


@dataclass
class Report:
    section: str  # the "## ..." heading in docs/performance.md
    timings: list[Timing] = field(default_factory=list)
    ratios: list[tuple[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"## {self.section}", ""]
        lines.extend(self.notes)
        if self.notes:
            lines.append("")
        lines.append("| what | command | runs | wall median (s) | wall min (s) | CPU median (s) |")
        lines.append("|---|---|---|---|---|---|")
        for t in self.timings:
            lines.append(
                f"| {t.label} | `{t.command}` | {len(t.seconds)} | {t.median:.3f} "
                f"| {min(t.seconds):.3f} | {t.cpu_median:.3f} |"
            )
        lines.append("")
        for label, ratio in self.ratios:
            lines.append(f"- {label}: **{ratio:.2f}x**")
        return "\n".join(lines) + "\n"


def time_command(argv: list[str], repeat: int, warmup: int = 1) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user+sys) seconds of ``argv`` with stdout to /dev/null,
    ``repeat`` times after ``warmup`` runs.

    Python writes and reads its bytecode cache as it does on a user's machine, even
    when the calling shell sets ``PYTHONDONTWRITEBYTECODE`` (which would time the
    compiling of every module on every run).
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for _ in range(warmup):
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, env=env)
    wall, cpu = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, env=env)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def time_interleaved(
    argvs: list[list[str]], repeat: int, warmup: int = 1
) -> list[tuple[list[float], list[float]]]:
    """:func:`time_command` of several commands, run in turns (A, B, A, B ...) so that
    a machine that speeds up or slows down during the run weighs on each alike."""
    for argv in argvs:
        time_command(argv, 0, warmup)
    runs = [time_command(argv, 1, 0) for _ in range(repeat) for argv in argvs]
    out = []
    for i in range(len(argvs)):
        mine = runs[i :: len(argvs)]
        out.append(([w for wall, _ in mine for w in wall], [c for _, cpu in mine for c in cpu]))
    return out


def machine_note() -> str:
    load = os.getloadavg()[0]
    return f"Machine: {os.cpu_count()} CPUs, load average {load:.1f} when the run started."


def write_section(path: Path, report: Report) -> None:
    """Replace (or append) ``report``'s section in the markdown file at ``path``."""
    text = path.read_text() if path.exists() else "# Performance\n"
    body = report.markdown()
    pattern = re.compile(rf"^## {re.escape(report.section)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: body + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + body
    path.write_text(text.rstrip("\n") + "\n")
