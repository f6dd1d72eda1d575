"""The built ``__kptr`` page in a real browser (Debian's Chromium driven by Playwright).

The site is served by http.server on localhost; the page must render with
its SVG visible, its code highlighted, no console error, and the site's
search must find it. Screenshots (light and dark) go to the test's
temporary directory; their paths are printed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("KPTRDOC_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found: apt-get install chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, url: str, scheme: str = "light"):
    """A new page at ``url`` with its console errors and failed requests recorded."""
    page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    page.kd_errors = []
    page.on("console", lambda m: page.kd_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.kd_errors.append(str(e)))
    page.on("requestfailed", lambda r: page.kd_errors.append(f"request failed: {r.url}"))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_kptr_page_renders(browser, site_url: str, scheme: str, tmp_path_factory) -> None:
    page = open_page(browser, f"{site_url}/macros/__kptr/", scheme)
    try:
        assert "__kptr" in page.title()
        assert page.locator("h1").first.inner_text().strip().startswith("__kptr")
        for anchor in ("definition", "example", "map-layouts", "verifier", "common-mistakes"):
            assert page.locator(f"#{anchor}").count() == 1, anchor

        svg = page.locator(".kd-diagram svg").first
        svg.scroll_into_view_if_needed()
        assert svg.is_visible()
        box = svg.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0
        kptr_rect = page.locator('.kd-diagram svg g[data-kind="kptr"] rect').first
        assert kptr_rect.bounding_box()["width"] > 0

        # Pygments tokens and the highlighted lines of the example
        assert page.locator("#example ~ div.highlight .hll, .highlight .hll").count() > 0
        keyword = page.locator(".highlight code .k, .highlight code .kt").first
        assert keyword.count() == 1 and keyword.is_visible()
        colour = keyword.evaluate("e => getComputedStyle(e).color")
        plain = page.locator(".highlight code").first.evaluate("e => getComputedStyle(e).color")
        assert colour != plain, "keywords are not coloured: no syntax highlighting"

        out = tmp_path_factory.mktemp("screenshots") / f"kptr-{scheme}.png"
        page.screenshot(path=str(out), full_page=True)
        page.locator(".kd-diagram").first.evaluate("e => e.scrollIntoView({block: 'center'})")
        page.screenshot(path=str(out.with_name(f"kptr-{scheme}-maps.png")))
        print(f"screenshot: {out}")
        assert out.stat().st_size > 10_000
        assert page.kd_errors == []
    finally:
        page.close()


def test_search_finds_the_page(browser, site_url: str) -> None:
    page = open_page(browser, f"{site_url}/")
    try:
        page.locator("label.md-search__icon, .md-search__input").first.click()
        page.locator("input.md-search__input").press_sequentially("kptr", delay=50)
        result = page.locator('.md-search-result__item a[href*="macros/__kptr/"]').first
        result.wait_for(state="attached", timeout=15_000)
        assert page.locator(".md-search-result__item").count() > 0
        assert page.kd_errors == []
    finally:
        page.close()


def test_no_console_errors_on_other_pages(browser, site_url: str, built_site: Path) -> None:
    for path in ("", "macros/", "contributing/", "reference/kptrdoc.headers/"):
        page = open_page(browser, f"{site_url}/{path}")
        try:
            assert page.kd_errors == [], path
        finally:
            page.close()


CORE_PAGES = ("bpf_core_field_offset", "bpf_core_enum_value", "bpf_core_type_exists",
              "bpf_core_cast", "BPF_CORE_READ", "bpf_core_field_exists",
              "BPF_PROBE_READ", "bpf_core_type_id_kernel", "BPF_CORE_READ_USER",
              "bpf_core_read", "BPF_CORE_READ_BITFIELD")  # fmt: skip


@pytest.mark.parametrize("name", CORE_PAGES)
def test_core_pages_show_values_per_kernel(browser, site_url: str, built_site: Path,
                                          name: str) -> None:  # fmt: skip
    """Each bpf_core_read.h page renders without console errors, with its relocations'
    values on every recorded kernel, and the two floors side by side."""
    page = open_page(browser, f"{site_url}/macros/{name}/")
    try:
        table = page.locator(".kd-core table").first
        table.wait_for(state="visible", timeout=15_000)
        headers = table.locator("thead th").all_inner_texts()
        assert sum(1 for h in headers if "(" in h) >= 4, headers  # 6.1 (bookworm) ...
        assert table.locator("tbody tr").count() >= 1
        assert page.locator("#kernel-floor").count() == 1
        assert page.get_by_text("Measured:").count() >= 1
        assert page.kd_errors == []
    finally:
        page.close()


REGISTER_PAGES = ("PT_REGS_PARM1", "PT_REGS_PARM1_SYSCALL", "PT_REGS_RC", "__PT_REGS_CAST")


@pytest.mark.parametrize("name", REGISTER_PAGES)
def test_register_pages_show_every_architecture(browser, site_url: str, built_site: Path,
                                                name: str) -> None:  # fmt: skip
    """Each register page renders its table: a column per architecture of bpf_tracing.h and
    this machine's build, every read confirmed by offsetof, no console errors."""
    from kptrdoc.variants import ARCHES

    page = open_page(browser, f"{site_url}/macros/{name}/")
    try:
        table = page.locator(".kd-registers table").first
        table.wait_for(state="visible", timeout=15_000)
        headers = table.locator("thead tr").first.locator("th").all_inner_texts()
        assert set(ARCHES) <= set(headers) and any("(example)" in h for h in headers), headers
        assert table.locator("td[data-offset]").count() >= 10
        assert (
            table.locator("td[data-offset] .kd-ok").count()
            == table.locator("td[data-offset]").count()
        )
        assert page.kd_errors == []
    finally:
        page.close()


def test_target_page_shows_one_target_per_build(browser, site_url: str, built_site: Path) -> None:
    page = open_page(browser, f"{site_url}/macros/bpf_target_defined/")
    try:
        row = page.locator("#defined-bpf_target_arm64")
        row.wait_for(state="visible", timeout=15_000)
        assert row.locator("td .kd-ok").count() == 1  # defined by the arm64 build only
        assert page.get_by_text("Must specify a BPF target arch").count() >= 1
        assert page.kd_errors == []
    finally:
        page.close()
