"""The listing a page shows and a download ships: the sample without the harness's
annotations. Checked with clang, llvm-objdump and bpftool: it compiles without
``kptrdoc.h`` to the same instructions, with no ``kptrdoc:`` declaration tag left."""

from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kptrdoc import toolchain
from kptrdoc.compile import compile_flags, compile_main
from kptrdoc.project.listing import UserListing, user_listing
from kptrdoc.variants import main_variant

REPO = Path(__file__).resolve().parents[2]
SAMPLES = sorted(
    p for p in (REPO / "samples").glob("*/*.bpf.c")
    if main_variant(p, toolchain.target_arch()) is not None
)  # fmt: skip


def _flags(src: Path) -> list[str]:
    variant = main_variant(src, toolchain.target_arch())
    assert variant is not None
    return compile_flags(src, variant)


def _without_harness(flags: list[str]) -> list[str]:
    """The flags with kptrdoc's include directory left out: kptrdoc.h cannot be found."""
    harness = str(toolchain.kptrdoc_include_dir())
    i = flags.index(harness)
    assert flags[i - 1] == "-I", "kptrdoc's include directory is not among the flags"
    return flags[: i - 1] + flags[i + 1 :]


def _disassembly(obj: Path) -> list[str]:
    """Instructions and relocations; BTF type ids are left out where a CO-RE relocation
    names one or loads one (dropping the annotations' tags renumbers the object's types;
    the type's name stays)."""
    out = subprocess.run(
        ["llvm-objdump-19", "-d", "-r", "--no-show-raw-insn", str(obj)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = [
        re.sub(r"(CO-RE <[^>]+>) \[\d+\]", r"\1", line)
        for line in out.splitlines()
        if "file format" not in line
    ]
    for i, line in enumerate(lines):  # a type-id relocation's immediate is a local BTF id
        if i and re.search(r"CO-RE <(local|target)_type_id>", line):
            lines[i - 1] = re.sub(r"= 0x[0-9a-f]+ ll", "= <type id> ll", lines[i - 1])
    return lines


def _decl_tags(obj: Path) -> list[str]:
    out = subprocess.run(
        ["bpftool", "btf", "dump", "file", str(obj)], capture_output=True, text=True, check=True
    ).stdout
    return [line for line in out.splitlines() if "DECL_TAG" in line]


def _check(src: Path, work: Path) -> str:
    """'' when the listing of ``src`` compiles alone to the instructions of ``src``."""
    flags = _flags(src)
    listing = user_listing(src, flags)
    copy = work / src.parent.name / src.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(listing.text)
    obj = copy.with_suffix(".o")
    proc = subprocess.run(
        [str(toolchain.clang()), *_without_harness(flags), "-I", str(src.parent), "-c",
         str(copy), "-o", str(obj)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        return f"{src}: the listing does not compile alone: {proc.stderr.strip()[:400]}"
    original = compile_main(src).path
    if _disassembly(obj) != _disassembly(original):
        return f"{src}: the listing compiles to other instructions than the sample"
    tags = [t for t in _decl_tags(obj) if "'kptrdoc:" in t]
    if tags:
        return f"{src}: harness tags left: {tags[:2]}"
    had = [t for t in _decl_tags(original) if "'kptrdoc:" in t]
    if had and not listing.cut:
        return f"{src}: the sample has annotations, none was cut"
    return ""


def test_every_listing_compiles_alone_to_the_same_instructions(tmp_path: Path) -> None:
    assert len(SAMPLES) > 100
    with ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0))) as pool:
        problems = [p for p in pool.map(lambda s: _check(s, tmp_path), SAMPLES) if p]
    assert not problems, "\n".join(problems)


def test_kept_lines_are_the_samples_lines() -> None:
    for src in SAMPLES:
        listing = user_listing(src, _flags(src))
        original = src.read_text().splitlines()
        shown = listing.text.splitlines()
        assert len(shown) == len(listing.lines)
        assert list(listing.lines) == sorted(set(listing.lines)), src
        for number, text in zip(listing.lines, shown, strict=True):
            line = original[number - 1]
            # a kept line is the sample's line, or that line with annotations cut out
            assert text == line or (listing.cut and len(text) < len(line)), (src, number)
        assert "kptrdoc.h" not in listing.text, src
        assert "// kptrdoc:" not in listing.text, src


MIXED = """\
// kptrdoc: build cpu=v4
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

int hits;

SEC("syscall") __success __run("test_run")
__description("an annotation on two lines, "
\t      "and one on the line of SEC") int counted(void *ctx)
{
\thits++;\t/* __success in a comment stays */
\treturn 0;
}

char LICENSE[] SEC("license") = "GPL";
"""


def _listing_of(text: str, tmp_path: Path) -> UserListing:
    src = tmp_path / "mixed.bpf.c"
    src.write_text(text)
    return user_listing(src, _flags(src))


def test_annotations_on_shared_and_continued_lines(tmp_path: Path) -> None:
    listing = _listing_of(MIXED, tmp_path)
    assert listing.text == (
        '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n\nint hits;\n\n'
        'SEC("syscall")\nint counted(void *ctx)\n{\n'
        "\thits++;\t/* __success in a comment stays */\n\treturn 0;\n}\n\n"
        'char LICENSE[] SEC("license") = "GPL";\n'
    )
    assert listing.lines == (2, 3, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16)
    assert listing.cut == ("__success", "__run", "__description")
    assert listing.line_index(10) == 7 and listing.line_index(9) is None


def test_a_sample_without_annotations_is_unchanged(tmp_path: Path) -> None:
    plain = MIXED.replace('#include "kptrdoc.h"\n', "").replace(
        ' __success __run("test_run")\n__description("an annotation on two lines, "\n'
        '\t      "and one on the line of SEC")',
        "\n",
    )
    listing = _listing_of(plain.replace("// kptrdoc: build cpu=v4\n", ""), tmp_path)
    assert listing.text == plain.replace("// kptrdoc: build cpu=v4\n", "")
    assert listing.cut == ()


@pytest.mark.parametrize("broken", ["int x = ;\n", "#include <no/such.h>\n"])
def test_a_sample_that_does_not_compile_is_still_cut(tmp_path: Path, broken: str) -> None:
    listing = _listing_of(MIXED.replace("int hits;\n", "int hits;\n" + broken), tmp_path)
    assert "__success" not in listing.text.replace("/* __success", "")
