"""Generate the site's pages with mkdocs-gen-files (nothing is written into docs/).

- ``macros/<macro>.md`` for every ``samples/<macro>/`` folder: the title,
  the ``bpf`` handler's first sections, the README's prose, the remaining
  sections;
- ``macros/index.md``: which public macros have a page (coverage);
- ``reference/<module>.md``: the Python API of each ``kptrdoc`` module,
  rendered by mkdocstrings-python;
- ``SUMMARY.md``: the navigation for mkdocs-literate-nav, macros grouped by
  the header that defines them.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from pathlib import Path

import mkdocs_gen_files
from mkdocs.exceptions import PluginError

from kptrdoc.errors import KptrdocError
from kptrdoc.handler import SECTIONS
from kptrdoc.handler.coverage import collect_in_parallel
from kptrdoc.handler.coverage import page_row as page_evidence
from kptrdoc.handler.readme import read_readme

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
PACKAGE = ROOT / "kptrdoc"
HEAD_SECTIONS = ("title", "definition")
"""Sections shown before the README's prose (the rest follow it)."""
OTHER_HEADER = "other"
log = logging.getLogger("mkdocs.plugins.kptrdoc")


def macro_folders() -> list[Path]:
    """Sample folders that make a page: a directory holding a README.md."""
    if not SAMPLES.is_dir():
        return []
    folders = []
    for path in sorted(SAMPLES.iterdir()):
        if not path.is_dir() or path.name.startswith("."):
            continue
        if (path / "README.md").is_file():
            folders.append(path)
        elif list(path.glob("*.bpf.c")):
            log.info("%s: no README.md yet, so no page", path)
    return folders


def shift_headings(prose: str, top: int = 3) -> str:
    """Shift the prose's Markdown headings so its highest level becomes ``top`` (h3 under Usage)."""
    lines = prose.splitlines()
    fence = None
    levels = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            fence = None if fence == stripped[:3] else (fence or stripped[:3])
        elif fence is None and re.match(r"#{1,6} ", line):
            levels.append(len(line) - len(line.lstrip("#")))
    if not levels:
        return prose
    shift = top - min(levels)
    out, fence = [], None
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            fence = None if fence == stripped[:3] else (fence or stripped[:3])
        elif fence is None and re.match(r"#{1,6} ", line):
            level = len(line) - len(line.lstrip("#"))
            line = "#" * min(max(level + shift, 1), 6) + line[level:]
        out.append(line)
    return "\n".join(out)


def _block(identifier: str, sections: list[str]) -> str:
    listed = ", ".join(sections)
    return f"::: {identifier}\n    handler: bpf\n    options:\n      sections: [{listed}]\n"


def macro_page(folder: Path, download: str = "") -> tuple[str, str]:
    """The Markdown of one macro page and the header it belongs to; ``download``: the
    "Run it yourself" section of the page's download, placed after the example."""
    front, prose = read_readme(folder)
    title = front.title or front.macro
    rest = [s for s in SECTIONS if s not in HEAD_SECTIONS]
    first, after = rest[: rest.index("example") + 1], rest[rest.index("example") + 1 :]
    parts = [
        "---",
        f"title: {title!r}",
        "---",
        "",
        f"# `{front.macro}`",
        "",
        _block(folder.name, list(HEAD_SECTIONS)),
        "## Usage",
        "",
        shift_headings(prose.strip()),
        "",
        _block(folder.name, first),
    ]
    if download:
        parts += [download, ""]
    parts.append(_block(folder.name, after))
    return "\n".join(parts), front.header or OTHER_HEADER


def download_section(folder: Path) -> tuple[str, bytes | None]:
    """The page's download (:mod:`kptrdoc.project`) and the section that links it; ("",
    None) when no example of the folder runs."""
    from kptrdoc.project.store import page_download

    try:
        found = page_download(folder)
    except KptrdocError as exc:  # the page says what is wrong with the sample itself
        log.warning(f"{folder.name}: no download: {exc}")
        return "", None
    if found is None:
        return "", None
    bpftool = (
        f" and a `bpftool` built with libbpf {found.bpftool} or newer" if found.bpftool else ""
    )
    lines = [
        "## Run it yourself",
        "",
        f"[`{folder.name}.tar.gz`](../downloads/{folder.name}.tar.gz) is this example as a "
        "project: the program as above, a `Makefile` that builds it with `clang-19` and "
        "`bpftool gen skeleton`, and a loader on the skeleton that "
        f"{_trigger_words(found.triggers)}, then prints what the program recorded and "
        f"checks it. It needs libbpf {found.libbpf} or newer{bpftool}; its README says why "
        "and how.",
        "",
        "```sh",
        f"tar xzf {folder.name}.tar.gz && cd {folder.name}",
        "make                       # or: make LIBBPF=/prefix/of/libbpf",
        *(f"sudo ./{stem}" for stem in found.stems),
        "```",
    ]
    return "\n".join(lines), found.archive


def _trigger_words(triggers: tuple[str, ...]) -> str:
    from kptrdoc.project.render import TRIGGER_TEXT

    words = [TRIGGER_TEXT[t] for t in triggers]
    return "attaches each program, " + " or ".join(words)


def coverage_page(pages: dict[str, str]) -> str:
    """Every public macro of the headers, whether it has a page, and what its samples proved."""
    from kptrdoc.headers import PUBLIC_RULE, public_macros

    lines = ["# Macros", ""]
    try:
        macros = public_macros()
    except KptrdocError as exc:
        return "\n".join([*lines, f"The pinned libbpf headers are not available: {exc}", ""])
    also: dict[str, str] = {}  # a name another page covers -> that page's folder
    for folder in pages:
        for name in read_readme(SAMPLES / folder)[0].also:
            also.setdefault(name, folder)
    own = sum(1 for m in macros if m.name in pages)
    shared = sum(1 for m in macros if m.name not in pages and m.name in also)
    others = sorted(set(pages) - {m.name for m in macros})
    names = len(macros) + len(others)
    lines += [
        f"{own + shared + len(others)} of {names} public names are covered: "
        f"{own + shared} of {len(macros)} public macros, {own} by a page of their own and "
        f"{shared} on the page of a related macro, and {len(others)} "
        f"{'name' if len(others) == 1 else 'names'} of the headers that "
        f"{'is' if len(others) == 1 else 'are'} not a `#define`, with "
        f"{'its' if len(others) == 1 else 'their'} own page (listed last). "
        f"Public macros are {PUBLIC_RULE}.",
        "",
        "| header | covered | public macros |",
        "|---|---|---|",
    ]
    for header in sorted({m.header for m in macros}):
        names = [m.name for m in macros if m.header == header]
        covered = sum(1 for n in names if n in pages or n in also)
        lines.append(f"| `{header}` | {covered} | {len(names)} |")
    lines += [
        "",
        "*Programs as expected* counts the sample programs whose verdict on the build "
        "machine's kernel matched their annotation (and how many of them load); "
        "*minimum kernel* is the measured floor: the oldest kernel of the matrix record "
        "from which every example loads (`make matrix`).",
        "",
        "| macro | header | line | page | programs as expected | minimum kernel |",
        "|---|---|---|---|---|---|",
    ]
    evidence = {name: page_evidence(SAMPLES / name) for name in pages}
    for m in macros:
        page = f"[page]({m.name}.md)" if m.name in pages else ""
        proven, minimum = evidence.get(m.name, ("", ""))
        if not page and m.name in also:
            anchor = "".join(c if c.isalnum() or c in "_-" else "-" for c in m.name)
            page = f"[on {also[m.name]}]({also[m.name]}.md#{anchor})"
            proven, minimum = evidence.get(also[m.name], ("", ""))
        name = m.name + ("()" if m.function_like else "")
        lines.append(f"| `{name}` | `{m.header}` | {m.line} | {page} | {proven} | {minimum} |")
    if others:
        lines += [
            "",
            "Pages for names that are not `#define`s (an enum, the map-definition keywords):",
            "",
            "| name | page | programs as expected | minimum kernel |",
            "|---|---|---|---|",
        ]
        for name in others:
            proven, minimum = evidence[name]
            lines.append(f"| `{name}` | [page]({name}.md) | {proven} | {minimum} |")
    return "\n".join(lines) + "\n"


def other_docs() -> list[tuple[str, str]]:
    """Hand-written pages besides the home and contributing pages (e.g. performance.md)."""
    found = []
    for path in sorted((ROOT / "docs").glob("*.md")):
        if path.name in ("index.md", "contributing.md", "SUMMARY.md"):
            continue
        title = path.stem.replace("_", " ").capitalize()
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                title = line[2:].strip()
                break
        found.append((path.name, title))
    return found


def reference_modules() -> list[str]:
    """Dotted names of the kptrdoc modules to document (no ``__main__``, no private ones)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__main__" or "templates" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        elif parts[-1].startswith("_"):
            continue
        names.append(".".join(parts))
    return sorted(names)


def main() -> None:
    from kptrdoc.compile import compile_all

    # every sample compiled, every page collected, on all cores first: the build then
    # finds objects and evidence cached
    compile_all(sorted(SAMPLES.glob("*/*.bpf.c")))
    collect_in_parallel(macro_folders())
    pages: dict[str, str] = {}
    by_header: dict[str, list[str]] = defaultdict(list)
    for folder in macro_folders():
        section, data = download_section(folder)
        try:
            text, header = macro_page(folder, section)
        except KptrdocError as exc:
            raise PluginError(str(exc)) from None
        if data is not None:
            with mkdocs_gen_files.open(f"downloads/{folder.name}.tar.gz", "wb") as handle:
                handle.write(data)
        target = f"macros/{folder.name}.md"
        with mkdocs_gen_files.open(target, "w") as handle:
            handle.write(text)
        mkdocs_gen_files.set_edit_path(target, f"../samples/{folder.name}/README.md")
        pages[folder.name] = target
        by_header[header].append(folder.name)

    with mkdocs_gen_files.open("macros/index.md", "w") as handle:
        handle.write(coverage_page(pages))

    modules = reference_modules()
    for module in modules:
        with mkdocs_gen_files.open(f"reference/{module}.md", "w") as handle:
            handle.write(f"::: {module}\n")
        source = module.replace(".", "/")
        source += "/__init__.py" if (ROOT / source).is_dir() else ".py"
        mkdocs_gen_files.set_edit_path(f"reference/{module}.md", f"../{source}")

    nav = ["* [Home](index.md)", "* [Macros](macros/index.md)"]
    for header in sorted(by_header, key=lambda h: (h == OTHER_HEADER, h)):
        nav.append(f"    * {header}")
        for name in sorted(by_header[header], key=lambda n: n.lstrip("_").lower()):
            nav.append(f"        * [{name}](macros/{name}.md)")
    nav.append("* [Contributing](contributing.md)")
    for extra in other_docs():
        nav.append(f"* [{extra[1]}]({extra[0]})")
    nav.append("* [Python API](reference/index.md)")
    for module in modules:
        nav.append(f"    * [{module}](reference/{module}.md)")
    with mkdocs_gen_files.open("SUMMARY.md", "w") as handle:
        handle.write("\n".join(nav) + "\n")

    lines = ["# Python API", "", "The modules of the `kptrdoc` package, from their docstrings.", ""]
    lines += [f"- [`{m}`]({m}.md)" for m in modules]
    with mkdocs_gen_files.open("reference/index.md", "w") as handle:
        handle.write("\n".join(lines) + "\n")


main()
