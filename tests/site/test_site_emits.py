""" "What the compiler emits" against bpftool and readelf on the same compiled objects.

The page reads the objects with kptrdoc's own BTF and ELF readers; here
``bpftool btf dump file`` and ``llvm-readelf -s`` (or ``readelf -s``) read them
independently, and every decl tag argument, ``.ksyms``/``.kconfig`` entry and
weak or hidden symbol on the page must be what they print.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kptrdoc.handler.chains import definition_emits
from kptrdoc.handler.model import ChainStep

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------------
# The page: one Chain per kd-chain block of the section
# --------------------------------------------------------------------------


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    text = " ".join("".join(parser.parts).split())
    return re.sub(r"\s*→\s*", " → ", text)


@dataclass
class Chain:
    kind: str
    where: str
    sample: str
    steps: str
    """The steps as text: ``DATASEC '.ksyms' [12] → FUNC f [10] linkage=extern → ...``."""
    symbol: dict[str, str] = field(default_factory=dict)


def _section(built_site: Path, macro: str) -> str:
    page = (built_site / "macros" / macro / "index.html").read_text(encoding="utf-8")
    body = page.split('id="what-the-compiler-emits"', 1)[1]
    return body.split("<h2", 1)[0]


def chains(built_site: Path, macro: str) -> list[Chain]:
    found = []
    blocks = re.findall(r'<div class="kd-chain" (.*?)</div>', _section(built_site, macro), re.S)
    for block in blocks:
        kind = re.match(r'data-kind="([^"]*)"', block)
        where = re.search(r'kd-chain-where"><code>(.*?)</code> in <code>(.*?)</code>', block)
        steps = re.search(r'<p class="kd-chain-steps">(.*?)</p>', block, re.S)
        assert kind and where and steps, block
        symbol = dict(re.findall(r'data-(symbol|binding|visibility)="([^"]*)"', block))
        found.append(
            Chain(
                kind.group(1), _text(where.group(1)), where.group(2), _text(steps.group(1)), symbol
            )
        )
    return found


# --------------------------------------------------------------------------
# The independent truth: bpftool and readelf on the compiled sample
# --------------------------------------------------------------------------


@cache
def _object(sample: str) -> Path:
    from kptrdoc.compile import compile_sample

    return compile_sample(SAMPLES / sample).path


@dataclass
class BtfDump:
    lines: dict[int, str]
    """``[id] KIND 'name' ...`` by type id."""
    members: dict[int, list[str]]
    """The indented lines that follow a type (params, DATASEC entries)."""

    def datasec(self, name: str) -> tuple[int, list[tuple[int, str, str]]]:
        """A DATASEC's id and its ``(type_id, KIND, name)`` entries."""
        for tid, line in self.lines.items():
            if line.startswith(f"DATASEC '{name}'"):
                entries = [
                    re.search(r"type_id=(\d+) .*\((\w+) '([^']*)'\)", m) for m in self.members[tid]
                ]
                return tid, [(int(e.group(1)), e.group(2), e.group(3)) for e in entries if e]
        return 0, []

    def linkage(self, tid: int) -> str:
        found = re.search(r"linkage=(\w+)", self.lines[tid])
        return found.group(1) if found else ""

    def named(self, kind: str, name: str) -> int:
        return next(t for t, line in self.lines.items() if line.startswith(f"{kind} '{name}'"))


@cache
def bpftool_dump(sample: str) -> BtfDump:
    if shutil.which("bpftool") is None:
        _skip_or_fail("bpftool is not installed: no independent BTF dump")
    out = subprocess.run(
        ["bpftool", "btf", "dump", "file", str(_object(sample))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines: dict[int, str] = {}
    members: dict[int, list[str]] = {}
    current = 0
    for line in out.splitlines():
        head = re.match(r"\[(\d+)\] (.*)", line)
        if head:
            current = int(head.group(1))
            lines[current], members[current] = head.group(2), []
        elif line.startswith("\t") and current:
            members[current].append(line.strip())
    return BtfDump(lines, members)


@cache
def readelf_symbols(sample: str) -> dict[str, tuple[str, str, str]]:
    """``name → (binding, visibility, Ndx)`` as ``readelf -s`` prints them."""
    tool = shutil.which("llvm-readelf-19") or shutil.which("readelf")
    if tool is None:
        _skip_or_fail("neither llvm-readelf-19 nor readelf is installed")
    out = subprocess.run(
        [tool, "-s", str(_object(sample))], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in out.splitlines():
        cols = line.split()
        if len(cols) == 8 and cols[0].rstrip(":").isdigit():
            found[cols[7]] = (cols[4], cols[5], cols[6])
    return found


def _samples(macro: str) -> list[str]:
    return [f"{macro}/{p.name}" for p in sorted((SAMPLES / macro).glob("*.bpf.c"))]


def _of(found: list[Chain], sample: str) -> list[Chain]:
    return [c for c in found if c.sample == Path(sample).name]


# --------------------------------------------------------------------------
# Without a build: what a definition says it emits, the labels
# --------------------------------------------------------------------------


def test_definition_emits() -> None:
    assert definition_emits("#define __weak __attribute__((weak))").weak
    hidden = definition_emits('#define __hidden __attribute__((visibility("hidden")))')
    assert hidden.hidden and not hidden.weak
    ksym = definition_emits('#define __ksym __attribute__((section(".ksyms")))')
    assert ksym.sections == (".ksyms",) and not ksym.weak
    assert definition_emits("#define SEC(name) __attribute__((section(name), used))").sections == ()
    arg = definition_emits('#define __arg_ctx __attribute__((btf_decl_tag("arg:ctx")))')
    assert arg.decl_tags == ("arg:ctx",) and not (arg.sections or arg.weak or arg.hidden)


def test_step_labels() -> None:
    step = ChainStep("DECL_TAG", "arg:nonnull", 20, "component_idx=0")
    assert (step.head, step.trailer) == ("DECL_TAG 'arg:nonnull'", "component_idx=0")
    assert ChainStep("param", "val", None, "0").label == "param 0 'val'"
    assert ChainStep("DATASEC", ".ksyms", 3).label == "DATASEC '.ksyms'"
    assert ChainStep("FUNC", "f", 4, "linkage=extern").label == "FUNC f linkage=extern"


# --------------------------------------------------------------------------
# The built pages against bpftool and readelf
# --------------------------------------------------------------------------


DECL_TAG_STEP = re.compile(
    r"DECL_TAG '([^']+)' \[(\d+)\] component_idx=(\d+) → FUNC (\w+) \[(\d+)\] → "
    r"FUNC_PROTO \[(\d+)\] → param (\d+) '(\w+)'"
)


@pytest.mark.parametrize("macro", ["__arg_nonnull", "__arg_ctx"])
def test_arg_tags_name_the_parameter(built_site: Path, macro: str) -> None:
    found = chains(built_site, macro)
    for sample in _samples(macro):
        dump = bpftool_dump(sample)
        shown = [DECL_TAG_STEP.match(c.steps) for c in _of(found, sample)]
        assert shown and all(shown), f"{sample}: no argument chain on the page"
        truth = {
            tid: line
            for tid, line in dump.lines.items()
            if line.startswith("DECL_TAG 'arg:") and "component_idx=-1" not in line
        }
        assert {int(m.group(2)) for m in shown if m} == set(truth), sample
        for m in shown:
            assert m is not None
            tag, tid, idx, func, fid, proto, pidx, pname = m.groups()
            assert truth[int(tid)] == f"DECL_TAG '{tag}' type_id={fid} component_idx={idx}"
            assert dump.lines[int(fid)].startswith(f"FUNC '{func}' type_id={proto} ")
            assert idx == pidx
            assert dump.members[int(proto)][int(idx)].startswith(f"'{pname}' type_id=")


ENTRY = re.compile(r"DATASEC '([^']+)' \[(\d+)\] → (FUNC|VAR) (\w+) \[(\d+)\] linkage=(\w+)")


@pytest.mark.parametrize(
    ("macro", "section"),
    [("__ksym", ".ksyms"), ("__kconfig", ".kconfig")],
)
def test_section_entries(built_site: Path, macro: str, section: str) -> None:
    found = chains(built_site, macro)
    assert found and {c.kind for c in found} == {"section"}, f"no {section} entry on the page"
    for sample in _samples(macro):
        dump = bpftool_dump(sample)
        symbols = readelf_symbols(sample)
        sec_id, entries = dump.datasec(section)
        shown = [(ENTRY.match(c.steps), c) for c in _of(found, sample)]
        assert all(m for m, _ in shown), [c.steps for _, c in shown]
        assert sorted((int(m.group(5)), m.group(3), m.group(4)) for m, _ in shown if m) == sorted(
            entries
        ), f"{sample}: the page's {section} entries are not bpftool's"
        for m, chain in shown:
            assert m is not None
            assert (m.group(1), int(m.group(2))) == (section, sec_id)
            assert m.group(6) == dump.linkage(int(m.group(5))) == "extern"
            binding, visibility, ndx = symbols[m.group(4)]
            assert ndx == "UND"
            assert chain.symbol == {
                "symbol": m.group(4),
                "binding": binding,
                "visibility": visibility,
            }


def test_weak_kconfig_entry_is_weak(built_site: Path) -> None:
    """``__kconfig __weak`` in the sample: the page shows WEAK as readelf does."""
    weak = [c for c in chains(built_site, "__kconfig") if c.symbol.get("binding") == "WEAK"]
    assert weak, "no __kconfig __weak extern on the page"
    for chain in weak:
        assert readelf_symbols(f"__kconfig/{chain.sample}")[chain.where][0] == "WEAK"


SYMBOL_STEP = re.compile(
    r"(?:DATASEC '([^']+)' \[(\d+)\] → )?(FUNC|VAR) (\w+) \[(\d+)\] linkage=(\w+)"
)


@pytest.mark.parametrize(
    ("macro", "column", "value"),
    [("__weak", 0, "WEAK"), ("__hidden", 1, "HIDDEN"), ("bpf_ksym_exists", 0, "WEAK")],
)
def test_symbols(built_site: Path, macro: str, column: int, value: str) -> None:
    found = chains(built_site, macro)
    assert found and {c.kind for c in found} == {"symbol"}, f"no {value} symbol on the page"
    for sample in _samples(macro):
        dump = bpftool_dump(sample)
        symbols = readelf_symbols(sample)
        marked = {name for name, row in symbols.items() if row[column] == value}
        shown = _of(found, sample)
        assert {c.where for c in shown} == marked, f"{sample}: not readelf's {value} symbols"
        for chain in shown:
            m = SYMBOL_STEP.match(chain.steps)
            assert m, chain.steps
            kind, name, tid, linkage = m.group(3), m.group(4), int(m.group(5)), m.group(6)
            assert dump.named(kind, name) == tid
            assert linkage == dump.linkage(tid)
            binding, visibility, ndx = symbols[name]
            assert chain.symbol == {"symbol": name, "binding": binding, "visibility": visibility}
            # defined symbols keep BTF linkage global: the mark is only in the ELF symbol
            assert linkage == ("extern" if ndx == "UND" else "global")
            if m.group(1):
                sec_id, entries = dump.datasec(m.group(1))
                assert int(m.group(2)) == sec_id and (tid, kind, name) in entries


def test_linkage_note(built_site: Path) -> None:
    for macro in ("__weak", "__hidden"):
        text = _text(_section(built_site, macro))
        assert "BTF linkage is global for a __weak definition and for a __hidden one" in text
        assert "hidden globals into static ones" in text


def test_no_symbol_view_on_tag_pages(built_site: Path) -> None:
    for macro in ("__kptr", "__uint", "__arg_nonnull"):
        assert {c.kind for c in chains(built_site, macro)} <= {"tag", "member"}, macro
