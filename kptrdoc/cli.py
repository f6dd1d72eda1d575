"""The ``kptrdoc`` command line: argument parsing and error reporting only.

Each subcommand lives in the module that owns its job and exposes
``add_arguments(parser)`` and ``run(args) -> int``; this module imports it
only when that subcommand runs, so ``kptrdoc --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from kptrdoc import __version__
from kptrdoc.errors import KptrdocError

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "btf": ("kptrdoc.btf.cli", "read BTF from an object or raw file (dump)"),
    "inspect": (
        "kptrdoc.inspect",
        "summarise a compiled BPF object: programs with their instructions and CO-RE "
        "relocations, maps, globals",
    ),
    "doctor": (
        "kptrdoc.doctor",
        "check the toolchain and the kernel; exit 1 if a piece is missing",
    ),
    "new": ("kptrdoc.scaffold", "scaffold samples/MACRO/ for a new macro page"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s module is imported (all of them when None)."""
    parser = argparse.ArgumentParser(
        prog="kptrdoc",
        description="Reference pages for libbpf's eBPF-side macros, built from compiled "
        "samples that the running kernel's verifier checked.",
    )
    parser.add_argument("--version", action="version", version=f"kptrdoc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if command in (None, name):
            module = importlib.import_module(module_name)
            module.add_arguments(command_parser)
            command_parser.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    command = next((arg for arg in args_list if not arg.startswith("-")), None)
    parser = build_parser(command if command in SUBCOMMANDS else None)
    args = parser.parse_args(args_list)
    try:
        return int(args.run(args) or 0)
    except KptrdocError as exc:
        print(f"kptrdoc: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        sys.stderr.close()
        return 1
    except KeyboardInterrupt:
        print("kptrdoc: interrupted", file=sys.stderr)
        return 130
