"""``python -m kptrdoc.matrix``: every sample on the recorded kernels, checked against the record.

Without options it boots the kernels the record pins (and runs the host),
loads every program of every sample, and checks each result against the
sample's annotations and against the record. It prints, per kernel, how many
programs are as recorded, drifted or not applicable, then every problem.
``--record`` picks the newest kernel of each suite instead, runs everything
and rewrites the record, printing what changed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from kptrdoc.errors import KptrdocError
from kptrdoc.matrix import facts, report
from kptrdoc.matrix.kernels import HOST, SUITES, Kernel, btf_file, resolve
from kptrdoc.matrix.record import (
    RECORD_NAME,
    Record,
    RecordedCell,
    RecordedKernel,
    RecordedProgram,
    Toolchain,
    clip_log,
    diff,
    expect_label,
    find_record,
    merged,
)
from kptrdoc.matrix.run import DEFAULT_KERNELS, Matrix, run_matrix


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kptrdoc.matrix",
        description="Load every sample program on the recorded Debian kernels (QEMU) and the "
        "host, and check the results against the annotations and the committed record.",
    )
    parser.add_argument(
        "--samples",
        default="samples",
        help="comma-separated samples roots, sample folders or .bpf.c files (default: samples)",
    )
    parser.add_argument(
        "--kernels",
        help=f"comma-separated, some of {','.join(DEFAULT_KERNELS)} "
        "(default: the recorded suites and the host)",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="pick the newest kernel of every suite, run, and rewrite the record "
        "(prints a per-sample diff)",
    )
    parser.add_argument(
        "--record-file",
        type=Path,
        help=f"the record (default: the first {RECORD_NAME} above the samples)",
    )
    parser.add_argument(
        "--strict-messages",
        action="store_true",
        help="a __msg that a kernel build outside the record words differently fails too",
    )
    parser.add_argument("--tables", action="store_true", help="print one table per sample folder")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--timeout", type=float, help="seconds allowed per boot")
    parser.add_argument(
        "--fetch-only", action="store_true", help="download the kernels, build nothing else"
    )
    return parser


def sample_sources(spec: str) -> list[Path]:
    """The ``*.bpf.c`` files named by ``--samples``: roots, folders or files."""
    found: list[Path] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        path = Path(item)
        if path.is_file() and path.name.endswith(".bpf.c"):
            found.append(path)
        elif path.is_dir():
            inside = sorted(path.glob("*.bpf.c")) or sorted(path.glob("*/*.bpf.c"))
            if not inside:
                raise KptrdocError(f"{path}: no *.bpf.c samples in it or in its folders")
            found += inside
        else:
            raise KptrdocError(f"{path}: no such sample, sample folder or samples root")
    if not found:
        raise KptrdocError("--samples names nothing")
    return list(dict.fromkeys(found))


def _compile(sources: list[Path]) -> tuple[list[Path], dict[Path, Path], int]:
    """Compile every sample (on all cores); one that does not compile is reported and left out."""
    from kptrdoc.compile import compile_all

    paths: list[Path] = []
    source_of: dict[Path, Path] = {}
    broken = 0
    for src, result in compile_all(sources).items():
        if isinstance(result, KptrdocError):
            print(f"kptrdoc matrix: {result} (left out)", file=sys.stderr)
            broken += 1
            continue
        paths.append(result.path)
        source_of[result.path] = src
    if not paths:
        raise KptrdocError("no sample compiles")
    return paths, source_of, broken


def _record_path(args: argparse.Namespace, sources: list[Path]) -> Path:
    if args.record_file:
        return args.record_file
    found = find_record(sources[0].parent)
    if found is not None:
        return found
    roots = [Path(s.strip()) for s in args.samples.split(",") if s.strip()]
    root = roots[0] if roots and roots[0].is_dir() else sources[0].parent.parent
    return root / RECORD_NAME


def _kernel_names(args: argparse.Namespace, record: Record) -> list[str]:
    if args.kernels and args.record:
        raise KptrdocError("--record runs every suite: leave out --kernels")
    if args.kernels:
        names = [n.strip() for n in args.kernels.split(",") if n.strip()]
        unknown = [n for n in names if n not in DEFAULT_KERNELS]
        if not names or unknown:
            raise KptrdocError(
                f"--kernels {args.kernels!r}: expected some of {', '.join(DEFAULT_KERNELS)}"
            )
        return names
    if args.record or record.empty:
        return list(SUITES) if args.record else [*SUITES, HOST]
    return [*(k.suite for k in record.kernels), HOST]


def run(args: argparse.Namespace) -> int:
    sources = sample_sources(args.samples)
    record_path = _record_path(args, sources)
    record = Record.load(record_path)
    names = _kernel_names(args, record)
    pins = None if args.record else record.pins()
    if args.fetch_only:
        for kernel in resolve([n for n in names if n != HOST], pins):
            print(
                f"{kernel.label}: Linux {kernel.release} ({kernel.version}, build {kernel.build})"
            )
        return 0
    if record.empty and not args.record:
        raise KptrdocError(
            f"{record_path}: no record of the matrix yet: make one with "
            "'python -m kptrdoc.matrix --record'"
        )
    kernels: list[str | Kernel] = list(names)
    newest: Kernel | None = None
    if args.record:
        # the newest kernel of each suite; vmlinux.h is made from the newest of them
        resolved = resolve([n for n in names if n != HOST])
        newest = max(resolved, key=lambda k: k.upstream)
        os.environ["KPTRDOC_VMLINUX_BTF"] = str(btf_file(newest))
        kernels = list(resolved)
    paths, source_of, broken = _compile(sources)
    keys = {obj: record.key(src) for obj, src in source_of.items()}
    matrix: Matrix = run_matrix(paths, kernels, sources=keys, timeout=args.timeout, pins=pins)
    sample_of = {ref.sha256: keys.get(ref.path, ref.source) for ref in matrix.objects}
    for ref in matrix.objects:
        for path, key in keys.items():
            if path.resolve() == ref.path:
                sample_of[ref.sha256] = key
    rows = report.rows(matrix, sample_of)
    failed = [r for r in matrix.runs if r.error]
    if args.record:
        if failed:
            for line in report.runs_summary(matrix):
                print(line)
            raise KptrdocError("a kernel did not run: the record is left as it was")
        assert newest is not None
        record = _rewrite(record, matrix, rows, sources, newest)
    checker = facts.Checker(
        record, strict=args.strict_messages, pinned_toolchain=_pinned_toolchain(record)
    )
    problems = checker.problems(rows, matrix.kernels)
    if args.json:
        json.dump(report.to_json(matrix, rows, checker), sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        for line in report.runs_summary(matrix):
            print(line)
        for count in checker.counts(rows, matrix.kernels):
            print(count.line())
        if args.tables:
            for table in report.tables(matrix, rows, checker):
                print()
                print(table)
        for line in report.drift(matrix, rows, checker):
            print(f"drift: {line}")
        for line in problems:
            print(f"PROBLEM: {line}")
    return 1 if failed or problems or broken else 0


def _pinned_toolchain(record: Record) -> bool:
    from kptrdoc import toolchain

    try:
        libbpf = toolchain.libbpf().version
    except KptrdocError:
        return False
    return libbpf == toolchain.PINNED_LIBBPF and (
        not record.toolchain.libbpf or record.toolchain.libbpf == libbpf
    )


def _rewrite(
    record: Record, matrix: Matrix, rows: list[facts.Row], sources: list[Path], newest: Kernel
) -> Record:
    """Write the record from this run; print what changed."""
    from kptrdoc import toolchain

    kernels: list[Kernel] = []
    for kernel in sorted(matrix.kernels, key=lambda k: k.upstream):
        if kernel.is_host:
            continue
        if any(k.upstream[:2] == kernel.upstream[:2] for k in kernels):
            print(
                f"kptrdoc matrix: {kernel.label} has the release of another suite's kernel: "
                "left out of the record (one kernel per major.minor)"
            )
            continue
        kernels.append(kernel)
    recorded_ids = {k.id for k in kernels}
    updates: dict[str, dict[str, RecordedProgram]] = {}
    for row in rows:
        cells = {}
        for kernel_id, cell in row.cells.items():
            if kernel_id not in recorded_ids:
                continue
            got = facts.cell_outcome(cell)
            log = str(cell.result.get("log") or "") if got.value == "rejected" else ""
            message = "" if got.loaded else cell.short
            cells[kernel_id] = RecordedCell(
                got, message, clip_log(log) if log else (), cell.result.get("insns_processed")
            )
        updates.setdefault(row.sample, {})[row.program] = RecordedProgram(
            expect_label(row.expect), cells
        )
    everything = {record.key(s) for s in record.path.parent.glob("*/*.bpf.c")}
    subset = not everything <= {record.key(s) for s in sources}
    new_kernels = tuple(RecordedKernel.of(k) for k in kernels)
    if subset and {k.id for k in new_kernels} != {k.id for k in record.kernels}:
        raise KptrdocError(
            "the kernels changed since the record was made: re-record every sample "
            "(without --samples) so the record holds one set of kernels"
        )
    tool = Toolchain(
        clang=toolchain.clang_version(),
        libbpf=toolchain.libbpf().version,
        vmlinux_btf=newest.btf_sha256,
    )
    new = merged(record, new_kernels, tool, updates, keep_others=subset)
    changes = diff(record, new)
    new.save()
    print(f"kptrdoc matrix: wrote {new.path}")
    for line in changes or ["no change"]:
        print(f"  {line}")
    return new


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
