"""``kptrdoc btf dump FILE [--base FILE] [--format raw|c] [--root TYPE]``."""

from __future__ import annotations

import argparse
import sys

from kptrdoc.btf.bpftool_compat import C_DIALECTS, C_NEWEST, LEGACY, NEWEST
from kptrdoc.btf.errors import BTFError
from kptrdoc.btf.load import elf_pointer_size, load_records

DIALECTS = {"newest": NEWEST, "legacy": LEGACY}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="btf_command", metavar="ACTION", required=True)
    dump = sub.add_parser(
        "dump",
        help="print every type of FILE (an ELF object or raw BTF)",
        description="Print the BTF of FILE: 'raw' is bpftool's 'btf dump file' text, "
        "'c' is the vmlinux.h that 'bpftool btf dump file FILE format c' prints, byte for byte.",
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
        "--c-dialect",
        choices=sorted(C_DIALECTS),
        default=C_NEWEST.name,
        help="c format: print as Debian 12's bpftool 7.1 or Debian 13's 7.5 "
        "(sorted types, kfunc prototypes)",
    )
    dump.add_argument(
        "--root",
        metavar="TYPE",
        action="append",
        help="c format: only TYPE (an id or a name) and what it needs, like bpftool's "
        "root_id; repeatable",
    )


def _write(text: str) -> None:
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))


def run(args: argparse.Namespace) -> int:
    if args.root and args.format != "c":
        raise BTFError("--root picks the types of a C dump: add --format c")
    if args.format == "raw":
        from kptrdoc.btf.raw import iter_raw

        records = load_records(args.file, args.base)
        for piece in iter_raw(records, DIALECTS[args.bpftool_dialect]):
            _write(piece)
    else:
        from kptrdoc.btf.cdump import dump_c

        records = load_records(args.file, args.base)
        size = elf_pointer_size(args.file)
        try:
            text = dump_c(records, C_DIALECTS[args.c_dialect], pointer_size=size, roots=args.root)
        except BTFError as exc:
            raise BTFError(f"{args.file}: {exc}") from None
        _write(text)
    sys.stdout.flush()
    return 0
