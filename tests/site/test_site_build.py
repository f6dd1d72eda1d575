"""The built site: ``mkdocs build --strict`` and what the ``__kptr`` page must show."""

from __future__ import annotations

import html
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def page_text(markup: str) -> str:
    parser = _Text()
    parser.feed(markup)
    return "".join(parser.parts)


def table_rows(markup: str, css: str) -> list[str]:
    """The rows of the handler table whose wrapper has class ``css``."""
    match = re.search(rf'class="md-typeset__table {css}">(.*?)</table>', markup, re.S)
    assert match, f"no {css} table on the page"
    return re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(1), re.S)


def test_pages_exist(built_site) -> None:
    for page in ("index.html", "macros/__kptr/index.html", "macros/index.html",
                 "contributing/index.html", "reference/index.html"):  # fmt: skip
        assert (built_site / page).is_file(), page
    assert list((built_site / "reference").glob("kptrdoc.headers/index.html"))


def test_definition(kptr_page) -> None:
    assert 'btf_type_tag("kptr")' in kptr_page
    assert re.search(r"bpf_helpers\.h:\d+", kptr_page)


def test_history_shows_kptr_ref_in_1_1(kptr_page) -> None:
    rows = table_rows(kptr_page, "kd-history")
    old = [r for r in rows if "<strong>1.1." in r]
    assert old, "no libbpf 1.1 row in the history table"
    assert "__kptr_ref" in old[0]
    newer = [r for r in rows if re.search(r"<strong>1\.[5-9]\.", r)]
    assert newer and all("__kptr_ref" not in r and "__kptr_untrusted" in r for r in newer)


def test_map_layout(kptr_page) -> None:
    assert "cpumask_map" in kptr_page
    assert "BPF_MAP_TYPE_ARRAY" in kptr_page
    assert "65536" in kptr_page
    rows = table_rows(kptr_page, "kd-record")
    cpumask = [r for r in rows if "<code>cpumask</code>" in r]
    assert cpumask, "no cpumask row in the value record table"
    cells = re.findall(r"<td>(.*?)</td>", cpumask[0], re.S)
    assert cells[0] == "0" and cells[1] == "8"
    assert ">kptr<" in cpumask[0]
    assert "<svg" in kptr_page
    assert re.search(r'<svg [^>]*class="kd-bytes"', kptr_page), "no byte diagram"
    assert re.search(
        r'data-offset="0" data-size="8" data-kind="kptr" data-name="cpumask"', kptr_page
    )


def test_compiler_chain(kptr_page) -> None:
    text = page_text(kptr_page)
    assert re.search(
        r"STRUCT cpumask_map_value \[\d+\]\s*→\s*member cpumask\s*→\s*PTR \[\d+\]\s*→\s*"
        r"TYPE_TAG 'kptr' \[\d+\]\s*→\s*STRUCT bpf_cpumask \[\d+\]",
        text,
    ), "the BTF chain of cpumask_map_value.cpumask is not on the page"


def test_verifier_and_mistakes(kptr_page) -> None:
    assert "store to referenced kptr disallowed" in kptr_page
    assert "Unreleased reference" in kptr_page
    assert os.uname().release in kptr_page
    text = page_text(kptr_page)
    assert "instructions processed" in text
    assert re.search(r"libbpf \d+\.\d+\.\d+", text) and re.search(r"clang \d+\.\d+", text)
    assert '<details class="note">' in kptr_page
    assert re.search(r"triggered by fork: it ran \(run count \d+ → \d+\)", text)


def test_example_highlights_the_macro(kptr_page) -> None:
    example = kptr_page.split('id="example"', 1)[1].split('id="what-the-compiler-emits"', 1)[0]
    highlighted = re.findall(r'<span class="hll">(.*?)</span>\n?</span>', example, re.S)
    assert highlighted, "no highlighted line in the example"
    assert any("__kptr" in html.unescape(page_text(h)) for h in highlighted)


def test_example_listing_is_the_sample_as_a_user_writes_it(kptr_page) -> None:
    """No harness annotation in the example's code; its numbers are the sample's lines."""
    example = kptr_page.split('id="example"', 1)[1].split('id="what-the-compiler-emits"', 1)[0]
    listings = re.findall(r'<td class="linenos">(.*?)</td><td class="code">(.*?)</td>', example,
                          re.S)  # fmt: skip
    assert listings
    sample = Path(__file__).resolve().parents[2] / "samples" / "__kptr" / "kptr.bpf.c"
    original = sample.read_text().splitlines()
    for numbers_html, code_html in listings:
        code = html.unescape(page_text(code_html))
        for annotation in ("__success", "__run(", "__description(", "kptrdoc.h"):
            assert annotation not in code, annotation
        numbers = [int(n) for n in re.findall(r">\s*(\d+)</a>", numbers_html)]
        assert numbers == sorted(numbers) and len(numbers) < numbers[-1]  # lines left out
    # the first tab is kptr.bpf.c: each numbered line holds that line of the sample
    numbers_html, code_html = listings[0]
    numbers = [int(n) for n in re.findall(r">\s*(\d+)</a>", numbers_html)]
    lines = code_html.split('<span id="__span-')[1:]  # a span per line
    assert len(lines) == len(numbers)
    for number, line in zip(numbers, lines, strict=True):
        shown = html.unescape(re.sub(r"<[^>]+>", "", "<" + line)).split("\n", 1)[0]
        assert shown == original[number - 1] or len(shown) < len(original[number - 1])


def test_provenance_and_no_problems(kptr_page) -> None:
    text = page_text(kptr_page)
    assert "Provenance" in text and "Page generated" in text
    from kptrdoc.matrix.kernels import host_btf_sha256

    build = host_btf_sha256()[:12]
    assert re.search(
        rf"loaded into Linux \S+, build {build} \(\w+\) through libbpf [\d.]+ on "
        r"\d{4}-\d\d-\d\d",
        text,
    )
    assert "Incomplete evidence" not in text


def test_coverage_page(built_site) -> None:
    markup = (built_site / "macros" / "index.html").read_text()
    text = page_text(markup)
    covered = re.search(r"(\d+) of (\d+) public names are covered: (\d+) of (\d+) public macros",
                        text)  # fmt: skip
    assert covered, text[:500]
    # wave 1: every public macro of bpf_core_read.h has a page or a place on one
    from kptrdoc.headers import public_macros

    # wave 3: every public name is covered, by a page or by an anchor on a shared one: the
    # #defines and libbpf_pin_type, an enum with a page of its own
    total, macros = len(public_macros()), covered.group(3, 4)
    assert covered.group(1, 2) == (str(total + 1), str(total + 1)), covered.group(0)
    assert macros == (str(total), str(total)), covered.group(0)
    assert "<code>libbpf_pin_type</code>" in markup.rsplit("<table>", 1)[-1]  # the last table

    # and wave 2: every one of bpf_tracing.h; and of wave 3, bpf_helpers.h, bpf_endian.h and
    # usdt.bpf.h
    for header, count in (
        ("bpf_helpers.h", 41),
        ("bpf_core_read.h", 32),
        ("bpf_tracing.h", 84),
        ("bpf_endian.h", 18),
        ("usdt.bpf.h", 4),
    ):
        names = [m.name for m in public_macros() if m.header == header]
        assert len(names) == count
        row = next(r for r in re.findall(r"<tr>(.*?)</tr>", markup, re.S)
                   if f"<code>{header}</code>" in r and "<a" not in r)  # fmt: skip
        assert re.findall(r"<td>(\d+)</td>", row) == [str(count), str(count)], header
    # the __kptr row counts its programs as libbpf lists them in the compiled samples
    from pathlib import Path

    from kptrdoc.compile import compile_sample
    from kptrdoc.loader import LOADED, list_programs, load_program

    samples = sorted((Path(__file__).resolve().parents[2] / "samples" / "__kptr").glob("*.bpf.c"))
    objects = [compile_sample(src).path for src in samples]
    programs = [(obj, p.name) for obj in objects for p in list_programs(obj)]
    loads = sum(load_program(obj, name).verdict == LOADED for obj, name in programs)
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", markup, re.S) if "__kptr</code>" in r)
    assert f"{len(programs)} of {len(programs)} ({loads} load)" in page_text(row)


@pytest.mark.parametrize("needle", ["api.github.com", "fonts.googleapis.com"])
def test_no_network_assets(kptr_page, needle) -> None:
    assert needle not in kptr_page


def test_a_broken_sample_is_one_line_naming_file_page_and_clang(
    tmp_path: Path, releases, build_mkdocs
) -> None:
    """A contributor's C syntax error stops the strict build with clang's message, no traceback."""
    import shutil

    root = tmp_path / "repo"
    for part in ("docs", "kptrdoc", "mkdocstrings_handlers"):
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(REPO / "mkdocs.yml", root / "mkdocs.yml")
    for page in ("__kptr", "__uint"):
        shutil.copytree(REPO / "samples" / page, root / "samples" / page)
    shutil.copyfile(REPO / "samples" / "matrix.lock.json", root / "samples" / "matrix.lock.json")
    broken = root / "samples" / "__uint" / "uint.bpf.c"
    lines = broken.read_text().splitlines()
    broken.write_text("\n".join([*lines, "int oops(void) { return no_such_thing }", ""]))
    proc = build_mkdocs(root / "mkdocs.yml", root / "site", root)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Traceback" not in output, output[-3000:]
    assert f"{broken}: does not compile: {broken}:{len(lines) + 1}:" in output
    assert "use of undeclared identifier 'no_such_thing'" in output
    assert "macros/__uint.md" in output
    # without --strict (mkdocs serve), the page itself shows the problem instead
    import subprocess
    import sys

    served = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-d", str(root / "served")],
        cwd=root, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert served.returncode == 0, served.stdout[-2000:] + served.stderr[-2000:]
    assert "Traceback" not in served.stdout + served.stderr
    page = (root / "served" / "macros" / "__uint" / "index.html").read_text()
    assert "Incomplete evidence" in page and "no_such_thing" in page
