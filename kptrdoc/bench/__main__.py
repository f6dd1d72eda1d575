"""``python -m kptrdoc.bench [--repeat N] [--write docs/performance.md]``."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from kptrdoc.bench import write_section

BENCHMARKS = ("kptrdoc.bench.btf", "kptrdoc.bench.site", "kptrdoc.bench.loop")
"""Modules with ``run(repeat) -> Report``; add yours here."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kptrdoc.bench")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--write", metavar="FILE", help="update this markdown file's sections")
    parser.add_argument("--only", metavar="NAME", help="run only benchmarks whose module ends so")
    args = parser.parse_args(argv)
    for name in BENCHMARKS:
        if args.only and not name.endswith(args.only):
            continue
        report = importlib.import_module(name).run(args.repeat)
        sys.stdout.write(report.markdown() + "\n")
        if args.write:
            write_section(Path(args.write), report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
