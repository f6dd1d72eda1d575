"""``kptrdoc btf dump FILE [--base FILE] [--format raw|c]``."""

from __future__ import annotations

import argparse
import sys

from kptrdoc.btf.bpftool_compat import LEGACY, NEWEST
from kptrdoc.btf.load import load_btf, load_records

DIALECTS = {"newest": NEWEST, "legacy": LEGACY}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="btf_command", metavar="ACTION", required=True)
    dump = sub.add_parser(
        "dump",
        help="print every type of FILE (an ELF object or raw BTF)",
        description="Print the BTF of FILE: 'raw' is bpftool's 'btf dump file' text, "
        "'c' is compilable C declarations of the types.",
    )
    dump.add_argument("file", metavar="FILE", help="ELF object with .BTF, or raw BTF")
    dump.add_argument("--base", metavar="FILE", help="base BTF for split BTF (e.g. vmlinux)")
    dump.add_argument("--format", choices=("raw", "c"), default="raw")
    dump.add_argument(
        "--bpftool-dialect",
        choices=sorted(DIALECTS),
        default="newest",
        help="raw format: print as the newest bpftool (24-bit vlen) or as 7.1-7.7 (16-bit)",
    )
    dump.add_argument(
        "--kptr-macros",
        action="store_true",
        help="c format: print known type tags as libbpf macros (__kptr, __rcu ...)",
    )


def _write(text: str) -> None:
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))


def run(args: argparse.Namespace) -> int:
    if args.format == "raw":
        from kptrdoc.btf.raw import iter_raw

        records = load_records(args.file, args.base)
        for piece in iter_raw(records, DIALECTS[args.bpftool_dialect]):
            _write(piece)
    else:
        from kptrdoc.btf.cformat import CRenderOptions, render_c

        spec = load_btf(args.file, args.base)
        _write(render_c(spec, options=CRenderOptions(tag_macros=args.kptr_macros)))
    sys.stdout.flush()
    return 0
