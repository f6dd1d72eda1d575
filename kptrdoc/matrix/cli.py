"""``python -m kptrdoc.matrix``: compile every sample, run the matrix, print the tables."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kptrdoc.errors import KptrdocError
from kptrdoc.matrix import report
from kptrdoc.matrix.kernels import resolve
from kptrdoc.matrix.run import DEFAULT_KERNELS, Matrix, run_matrix


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kptrdoc.matrix",
        description="Load every sample program on several Debian kernels (QEMU) and the host.",
    )
    parser.add_argument(
        "--samples", type=Path, default=Path("samples"), help="samples/<macro>/*.bpf.c root"
    )
    parser.add_argument(
        "--kernels",
        default=",".join(DEFAULT_KERNELS),
        help=f"comma-separated, some of {','.join(DEFAULT_KERNELS)} (default: all)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--timeout", type=float, help="seconds allowed per boot")
    parser.add_argument(
        "--fetch-only", action="store_true", help="download the kernels, build nothing else"
    )
    return parser


def _compile(samples: Path) -> tuple[list[Path], dict[Path, str], dict[Path, str], int]:
    """Compile every sample; one that does not compile is reported and left out."""
    from kptrdoc.compile import compile_sample

    if not samples.is_dir():
        raise KptrdocError(f"{samples}: no such samples directory")
    sources = sorted(samples.glob("*/*.bpf.c"))
    if not sources:
        raise KptrdocError(f"{samples}: no */*.bpf.c samples in it")
    paths: list[Path] = []
    labels: dict[Path, str] = {}
    macros: dict[Path, str] = {}
    broken = 0
    for src in sources:
        try:
            obj = compile_sample(src)
        except KptrdocError as exc:
            print(f"kptrdoc matrix: {exc} (left out)", file=sys.stderr)
            broken += 1
            continue
        paths.append(obj.path)
        labels[obj.path] = str(src)
        macros[obj.path] = src.parent.name
    if not paths:
        raise KptrdocError(f"{samples}: no sample compiles")
    return paths, labels, macros, broken


def run(args: argparse.Namespace) -> int:
    names = [n.strip() for n in args.kernels.split(",") if n.strip()]
    unknown = [n for n in names if n not in DEFAULT_KERNELS]
    if not names or unknown:
        raise KptrdocError(
            f"--kernels {args.kernels!r}: expected some of {', '.join(DEFAULT_KERNELS)}"
        )
    if args.fetch_only:
        for kernel in resolve(names):
            print(f"{kernel.label}: Linux {kernel.release} ({kernel.version})")
        return 0
    paths, labels, macros, broken = _compile(args.samples)
    matrix: Matrix = run_matrix(paths, names, sources=labels, timeout=args.timeout)
    macro_of = {ref.sha256: macros.get(ref.path, ref.source) for ref in matrix.objects}
    for ref in matrix.objects:  # object_refs resolves paths: match on the resolved path too
        for path, macro in macros.items():
            if path.resolve() == ref.path:
                macro_of[ref.sha256] = macro
    reports = report.by_macro(matrix, macro_of)
    if args.json:
        json.dump(report.to_json(matrix, reports), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        for line in report.runs_summary(matrix):
            print(line)
        for item in reports:
            print()
            print(report.table(item))
    failed = any(r.error for r in matrix.runs)
    problems = any(item.compatibility.problems() for item in reports)
    return 1 if failed or problems or broken else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except KptrdocError as exc:
        print(f"kptrdoc matrix: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kptrdoc matrix: interrupted", file=sys.stderr)
        return 130
