"""The section templates rendered from a hand-made page model (no mkdocs, no kernel)."""

from __future__ import annotations

import html

import pytest
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape

from kptrdoc.facts import KernelFact
from kptrdoc.floors import DerivedFloor, FloorItem
from kptrdoc.handler import SECTIONS, TEMPLATES_DIR, _anchor, _text
from kptrdoc.handler.evidence import ChainEvidence
from kptrdoc.handler.model import (
    ChainStep,
    DefinitionView,
    FieldRow,
    FrontMatter,
    HistoryRow,
    KernelCell,
    KernelColumn,
    KernelMatrix,
    KernelRow,
    MacroPage,
    MapView,
    ProgramView,
    Provenance,
    RelatedLink,
    SampleView,
    TagUse,
    VerifierRun,
)
from kptrdoc.handler.sources import log_lines_with
from kptrdoc.objects.uses import KernelUse, UseKind

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def env() -> Environment:
    env = Environment(
        autoescape=True,
        loader=FileSystemLoader(TEMPLATES_DIR / "material"),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["heading"] = lambda content, level, **kw: Markup(
        f'<h{level} id="{escape(kw.get("id", ""))}">{content}</h{level}>'
    )
    env.filters["highlight"] = lambda src, **kw: (
        Markup("<pre><code>") + escape(src) + Markup("</code></pre>")
    )
    env.filters["text"] = _text
    env.filters["anchor"] = _anchor
    env.filters["kd_log_lines"] = log_lines_with
    return env


def model() -> MacroPage:
    run = VerifierRun("rejected", "6.18.0", "1.7.0", "19.1.7", 11, f"0: r1\n{EVIL} here\n")
    ok = VerifierRun(
        "loaded", "6.18.0", "1.7.0", "19.1.7", 41, "log", run_trigger="fork", run_counts=(0, 1)
    )
    sample = SampleView(
        "s.bpf.c",
        "m/s.bpf.c",
        f"/* {EVIL} */\nint x;\n",
        hl_lines=[2],
        programs=[
            ProgramView(
                "good", "tp_btf/x", "s.bpf.c", "success", "fine", source="int x;", verifier=ok
            ),
            ProgramView(
                "bad",
                "tp_btf/x",
                "s.bpf.c",
                "failure",
                f"desc {EVIL}",
                [EVIL],
                source="int y;",
                verifier=run,
            ),
        ],
    )
    return MacroPage(
        identifier="m",
        front=FrontMatter("m", "bpf_helpers.h", "v1.0.0", ["other"]),
        definition=DefinitionView(
            "m", "macro", "bpf_helpers.h", 7, 7, '#define m x("y")', "", "1.7.0"
        ),
        history=[
            HistoryRow(
                "1.1.2",
                "bookworm",
                "present",
                "bpf_helpers.h:5",
                '#define m x("y")',
                line=5,
                family=["m_ref"],
            )
        ],
        samples=[sample],
        tag_uses=[TagUse("v.f", "kptr", [ChainStep("TYPE_TAG", "kptr", 9)], "s.bpf.c")],
        evidence=[
            ChainEvidence(
                "s.bpf.c", (TagUse("v.f", "kptr", [ChainStep("TYPE_TAG", "kptr", 9)], "s.bpf.c"),)
            )
        ],
        maps=[
            MapView(
                "mp",
                "BPF_MAP_TYPE_ARRAY",
                4,
                8,
                1,
                0,
                "int",
                "struct v",
                fields=[FieldRow(0, 8, "f", "struct x __kptr *", "kptr")],
                svg='<svg class="kd-bytes"></svg>',
                sample="s.bpf.c",
            )
        ],
        matrix=KernelMatrix(
            statement="needs Linux ≥ 6.12 of the kernels tested",
            minimum="6.12",
            kernels=[
                KernelColumn("bookworm/6.1", "6.1", "6.1.0-50"),
                KernelColumn("trixie/6.12", "6.12", "6.12.1"),
            ],
            rows=[
                KernelRow(
                    "s.bpf.c",
                    "good",
                    "success",
                    {
                        "bookworm/6.1": KernelCell(
                            "failed-before-verifier", "kfunc missing", status="not on this kernel"
                        ),
                        "trixie/6.12": KernelCell("loaded", "✓", status="as expected"),
                    },
                )
            ],
            missing=["bpf_cpumask_create"],
        ),
        related=[RelatedLink("other", "../other/"), RelatedLink("helper", None, False, "why")],
        provenance=Provenance("2026-01-01 00:00 UTC", "6.18.0", "1.7.0", "19.1.7", "x86_64"),
    )


def render(env: Environment, page: MacroPage, sections=SECTIONS) -> str:
    options = {"heading_level": 2, "show_log": True, "sections": list(sections)}
    return env.get_template("page.html.jinja").render(
        page=page, options=options, sections=list(sections)
    )


def test_every_section_renders(env: Environment) -> None:
    out = render(env, model())
    anchors = ["definition", "history", "example", "what-the-compiler-emits", "map-layouts"]
    anchors += ["verifier", "kernels", "common-mistakes", "kernel-functions", "related"]
    for anchor in anchors:
        assert f'id="{anchor}"' in out, anchor
    assert "Provenance" in out


def test_nothing_from_samples_or_logs_is_markup(env: Environment) -> None:
    out = render(env, model())
    assert "<script>" not in out
    assert html.escape(EVIL, quote=False) in out


def _derived() -> DerivedFloor:
    tag = KernelFact("btf_tag:kptr", "6.4", "03b77e17aeb2" + "0" * 28,
                     "bpf: Rename __kptr_ref -> __kptr and __kptr -> __kptr_untrusted",
                     "git tag --contains", macros=("__kptr",))  # fmt: skip
    kfunc = KernelFact("kfunc:bpf_cpumask_create", "6.3", "516f4d3397c9" + "0" * 28,
                       "bpf: Enable cpumasks to be queried and used as kptrs", "git")  # fmt: skip
    items = (
        FloorItem(KernelUse(UseKind.BTF_TAG, "kptr"), ("s.bpf.c: good",), tag, tag, own=True),
        FloorItem(KernelUse(UseKind.KFUNC, "bpf_cpumask_create"), ("g",), kfunc, kfunc),
    )
    uncited = (FloorItem(KernelUse(UseKind.HELPER, "bpf_new_thing"), ("g",), None, None),)
    return DerivedFloor("__kptr", items, uncited)


def test_kernel_matrix_table(env: Environment) -> None:
    page = model()
    assert page.matrix is not None
    page.matrix.derived = _derived()
    out = render(env, page, ["kernels"])
    # the cited floor and the measurement, side by side, never merged
    assert "<strong>Needs Linux ≥ 6.4</strong> (cited, derived from what the objects use)" in out
    assert "type tag <code>kptr</code>: Linux 6.4, <code" in out and "03b77e17aeb2</code>" in out
    assert "the macro&#39;s own" in out or "the macro's own" in out
    assert "kfunc <code>bpf_cpumask_create</code>: Linux 6.3" in out  # in the list of uses
    assert "has no kernel floor of its own" not in out
    assert "<code>helper:bpf_new_thing</code>" in out  # uncited, and said so
    assert "<strong>Measured:</strong> needs Linux ≥ 6.12 of the kernels tested" in out
    assert "6.1.0-50" in out and "kfunc missing" in out and "not on this kernel" in out
    assert "<code>bpf_cpumask_create</code>" in out


def test_a_floor_that_is_not_the_macros_own_says_so(env: Environment) -> None:
    page = model()
    assert page.matrix is not None
    derived = _derived()
    page.matrix.derived = DerivedFloor("__kptr", derived.items[1:])
    out = render(env, page, ["kernels"])
    assert "<strong>Needs Linux ≥ 6.3</strong>" in out
    assert "has no kernel floor of its own here" in out


def test_title_names_the_minimum_kernel(env: Environment) -> None:
    page = model()
    assert page.matrix is not None
    page.matrix.derived = _derived()
    out = render(env, page, ["title"])
    assert "needs Linux ≥ 6.4" in out and "loads from Linux 6.12 (measured)" in out
    assert "bpf_helpers.h:7" in out and "since libbpf v1.0.0" in out


def test_matrix_not_run(env: Environment) -> None:
    page = model()
    page.matrix = KernelMatrix("the kernel matrix has not run for these samples ('make matrix')")
    out = render(env, page, ["kernels"])
    assert "has not run" in out and "<table>" not in out
    # the cited floor does not depend on a measurement: it shows without one
    page.matrix.derived = _derived()
    out = render(env, page, ["kernels"])
    assert "<strong>Needs Linux ≥ 6.4</strong>" in out and "has not run" in out


def test_example_says_it_ran(env: Environment) -> None:
    out = render(env, model(), ["example"])
    assert "triggered by <code>fork</code>: it ran (run count 0 → 1)" in out


def test_related_links(env: Environment) -> None:
    out = render(env, model(), ["related"])
    assert '<a href="../other/"><code>other</code></a>' in out
    assert "<code>helper</code>" in out and "(why)" in out


def test_sections_option(env: Environment) -> None:
    out = render(env, model(), ["definition"])
    assert 'id="definition"' in out and 'id="example"' not in out


def test_several_example_samples_get_content_tabs(env: Environment) -> None:
    page = model()
    second = SampleView("t.bpf.c", "m/t.bpf.c", "int z;\n", programs=[page.samples[0].programs[0]])
    page.samples.append(second)
    out = render(env, page, ["example"])
    assert 'class="tabbed-set tabbed-alternate"' in out
    assert ">s.bpf.c</label>" in out and ">t.bpf.c</label>" in out


def test_emits_symbol_and_section_views_escape(env: Environment) -> None:
    from kptrdoc.handler.model import SymbolView

    page = model()
    symbol = SymbolView(EVIL, "WEAK", "DEFAULT", "UND", "extern")
    steps = [
        ChainStep("DATASEC", EVIL, 3),
        ChainStep("FUNC", EVIL, 2, f"linkage={EVIL}"),
        ChainStep("param", EVIL, None, "0"),
    ]
    page.tag_uses = [
        TagUse(EVIL, "", steps, "s.bpf.c", view="section", symbol=symbol),
        TagUse(EVIL, "", steps, "s.bpf.c", view="symbol", symbol=symbol),
    ]
    page.symbol_marks = [EVIL]
    out = render(env, page, ["emits"])
    assert "<script>" not in out
    assert 'data-kind="section"' in out and 'data-kind="symbol"' in out
    assert "binding <code>WEAK</code>" in out
    assert '[2]</span> <code class="kd-step-detail">linkage=' in out
