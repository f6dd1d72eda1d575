"""``kptrdoc new MACRO``: scaffold ``samples/MACRO/`` for a new macro page.

The folder gets a ``README.md`` whose front matter is filled from the
headers (macro, header, since as far as our releases tell, related names of
the same stem) and a sample that compiles and loads as it is, carrying
``__success``, ready to be turned into a real example of the macro.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from kptrdoc import headers, toolchain
from kptrdoc.errors import KptrdocError
from kptrdoc.facts import libbpf_since

NAME = re.compile(r"^(?:(?:enum|struct|union)\s+)?[A-Za-z_]\w*$")

README = """\
---
macro: {macro_yaml}
header: {header}
since: {since}  # {since_note}
related: [{related}]
---

`{macro}` ... (say in a sentence or two what it is for; the definition,
the example, the BTF it produces and the verifier's verdict are added to the
page from the samples in this folder).

Describe how to use it, what the verifier checks, and the mistakes the
`__failure` samples show.
"""

SAMPLE = """\
// SPDX-License-Identifier: GPL-2.0
/*
 * {macro}: TODO say what this sample shows. The lines that use {macro}
 * are highlighted on the page.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kptrdoc.h"

SEC("syscall")
__success
__description("TODO: what this program shows about {macro}")
int {function}(void *ctx)
{{
	/* TODO: use {macro} here */
	return 0;
}}

char LICENSE[] SEC("license") = "GPL";
"""


class ScaffoldError(KptrdocError):
    """The macro is unknown or its folder exists already."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("macro", help="the macro's name as the libbpf headers define it")
    parser.add_argument(
        "--samples-dir",
        type=Path,
        default=Path("samples"),
        help="where sample folders live (default: ./samples)",
    )


def _since(hist: headers.History, name: str = "") -> tuple[str, str]:
    """The ``since`` value: from libbpf's git history when the facts file dates the name
    (with the commit as the note), else what the headers we have agree with."""
    fact = libbpf_since(name) if name else None
    if fact is not None:
        return fact.since, f"{fact.commit[:12]} {fact.subject} ({fact.date})"
    entries = list(hist.entries)
    first = next((i for i, e in enumerate(entries) if e.present), None)
    if first is None:
        return "", "no libbpf headers here define it"
    version = entries[first].version
    if first == 0:
        return (
            f"v{version}",
            f"at the latest: libbpf {version}, the oldest headers here, already has it; "
            "put the release that introduced it",
        )
    before = entries[first - 1].version
    return (
        f"v{version}",
        f"at the latest: libbpf {before} lacks it, {version} has it; "
        "put the release that introduced it",
    )


def _yaml(text: str) -> str:
    """A YAML scalar that reads back as this very string: ``NULL``, ``true`` or ``1.0``
    unquoted would be null, a boolean or a number. A JSON string is YAML."""
    return json.dumps(text)


def _function_name(name: str) -> str:
    bare = re.sub(r"\W", "_", name.split()[-1]).strip("_").lower() or "macro"
    return f"example_{bare}"[:60]


def scaffold(macro: str, samples_dir: Path) -> Path:
    """Create ``samples_dir/<macro>/``; return the folder."""
    macro = " ".join(macro.split())
    if not NAME.match(macro):
        raise ScaffoldError(f"{macro!r} is not a C identifier")
    pinned = toolchain.libbpf()
    found = headers.find_definitions(macro, pinned.include_dir, pinned.version)
    if not found:
        raise ScaffoldError(
            f"{macro}: not a macro of libbpf {pinned.version}'s eBPF-side headers "
            f"({', '.join(headers.HEADER_FILES)})"
        )
    folder = samples_dir / macro.split()[-1]
    if folder.exists():
        raise ScaffoldError(f"{folder}: already exists; edit it instead")
    hist = headers.history(macro)
    since, note = _since(hist, macro)
    family = list(hist.entries[-1].family) if hist.entries else []
    if not family:  # no name shares its stem: its neighbours in the header instead
        family = [n for n in found[0].siblings if n != macro]
    definition = found[0]
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(
        README.format(
            macro=macro,
            macro_yaml=_yaml(macro),
            header=_yaml(definition.header),
            since=_yaml(since or ""),
            since_note=note,
            related=", ".join(_yaml(name) for name in family[:4]),
        )
    )
    sample = folder / f"{macro.split()[-1].lstrip('_') or 'macro'}.bpf.c"
    sample.write_text(SAMPLE.format(macro=macro, function=_function_name(macro)))
    return folder


def run(args: argparse.Namespace) -> int:
    folder = scaffold(args.macro, args.samples_dir)
    print(f"created {folder}/README.md and {folder}/{next(folder.glob('*.bpf.c')).name}")
    print(f"next: edit them, then run 'pytest {folder}' and 'make serve'")
    return 0
