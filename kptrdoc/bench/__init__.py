"""Benchmarks against the reference tools, run in one process: ``make bench``.

Each module here exposes ``run(repeat) -> Report``; :mod:`__main__` runs them
and can write their sections into ``docs/performance.md``.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Timing:
    label: str
    command: str
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


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
        lines.append("| what | command | runs | median (s) | min (s) |")
        lines.append("|---|---|---|---|---|")
        for t in self.timings:
            lines.append(
                f"| {t.label} | `{t.command}` | {len(t.seconds)} | {t.median:.3f} "
                f"| {min(t.seconds):.3f} |"
            )
        lines.append("")
        for label, ratio in self.ratios:
            lines.append(f"- {label}: **{ratio:.2f}x**")
        return "\n".join(lines) + "\n"


def time_command(argv: list[str], repeat: int, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``argv`` (stdout to /dev/null), ``repeat`` times after warm-up."""
    for _ in range(warmup):
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
        out.append(time.perf_counter() - start)
    return out


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
