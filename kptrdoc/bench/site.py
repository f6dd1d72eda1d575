"""The site build: warm ``mkdocs build`` against the same pages written out as plain files.

The warm build runs everything (gen-files, the ``bpf`` handler reading its
caches, mkdocstrings-python for the API reference). The plain build gets the
very pages the warm build produced — the generated Markdown exported by a
hook, each macro page replaced by the HTML the handler rendered for it — as
ordinary files, with gen-files off and no ``bpf`` handler in use. The ratio
of the two medians is what the handler and page generation cost on a build
where nothing changed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from kptrdoc.bench import Report, Timing, machine_note, time_command

ROOT = Path(__file__).resolve().parents[2]
EXPORT_HOOK = Path(__file__).with_name("export_hook.py")
ARTICLE = re.compile(r'<article class="md-content__inner md-typeset">(?P<body>.*?)</article>', re.S)
EDIT_BUTTON = re.compile(r'<a href="[^"]*" title="Edit this page"[^>]*>.*?</a>', re.S)


def _config(work: Path, name: str, docs_dir: Path, gen_files: bool, hooks: list[Path]) -> Path:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.SafeLoader)
    config["docs_dir"] = str(docs_dir)
    config["theme"]["custom_dir"] = str(docs_dir / "overrides")
    config["watch"] = []
    # relative paths in mkdocs.yml are relative to it: pin them to the repository
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "mkdocstrings" in plugin:
            handlers = plugin["mkdocstrings"]["handlers"]
            handlers["bpf"].setdefault("options", {})["samples_dir"] = str(ROOT / "samples")
            handlers["python"]["paths"] = [str(ROOT)]
    plugins = []
    for plugin in config["plugins"]:
        key = next(iter(plugin)) if isinstance(plugin, dict) else plugin
        if key == "gen-files":
            if not gen_files:
                continue
            plugin = {"gen-files": {"scripts": [str(ROOT / "docs" / "gen_pages.py")]}}
        plugins.append(plugin)
    config["plugins"] = plugins
    config["hooks"] = [str(ROOT / hook) for hook in config.get("hooks", [])]
    config["hooks"] += [str(hook) for hook in hooks]
    path = work / f"{name}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _mkdocs(config: Path, site: Path) -> list[str]:
    return [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(config),
            "-d", str(site)]  # fmt: skip


def _plain_docs(work: Path, exported: Path, site: Path) -> Path:
    """docs/ plus every generated page as a file; macro pages as their rendered HTML."""
    plain = work / "plain-docs"
    shutil.copytree(ROOT / "docs", plain, ignore=shutil.ignore_patterns("gen_pages.py"))
    shutil.copytree(exported, plain, dirs_exist_ok=True)
    for page in sorted((plain / "macros").glob("*.md")):
        if page.name == "index.md":
            continue
        html = (site / "macros" / page.stem / "index.html").read_text()
        match = ARTICLE.search(html)
        if match is None:
            raise RuntimeError(f"{page.stem}: no article in the built page")
        front = page.read_text().split("---", 2)
        title = front[1].strip() if len(front) == 3 else f"title: {page.stem!r}"
        body = EDIT_BUTTON.sub("", match.group("body"))
        page.write_text(f"---\n{title}\n---\n\n{body}\n")
    return plain


def run(repeat: int) -> Report:
    report = Report("Site build")
    report.notes.append(machine_note())
    repeat = max(3, repeat // 2)
    with tempfile.TemporaryDirectory(prefix="kptrdoc-bench-site-") as tmp:
        work = Path(tmp)
        exported = work / "exported"
        warm_config = _config(work, "warm", ROOT / "docs", True, [])
        export_config = _config(work, "export", ROOT / "docs", True, [EXPORT_HOOK])
        # one build fills every cache and exports the generated pages
        subprocess.run(
            _mkdocs(export_config, work / "site-export"),
            check=True,
            cwd=ROOT,
            env={**os.environ, "KPTRDOC_EXPORT_GENERATED": str(exported)},
        )
        plain_docs = _plain_docs(work, exported, work / "site-export")
        plain_config = _config(work, "plain", plain_docs, False, [])
        warm = Timing(
            "warm mkdocs build (gen-files + bpf handler, everything cached)",
            "mkdocs build --strict",
            *time_command(_mkdocs(warm_config, work / "site-warm"), repeat),
        )
        plain = Timing(
            "the same pages as plain Markdown/HTML files, gen-files and bpf handler off",
            "mkdocs build --strict -f plain.yml",
            *time_command(_mkdocs(plain_config, work / "site-plain"), repeat),
        )
    report.timings = [warm, plain]
    report.ratios = [
        ("warm build / plain build, wall medians (target <= 1.5)", warm.median / plain.median),
        ("warm build / plain build, CPU medians", warm.cpu_median / plain.cpu_median),
    ]
    report.notes.append(
        "Both builds include the Python API reference (mkdocstrings-python) and the "
        "search index; the plain build's macro pages are the HTML the handler rendered "
        "in the warm build, exported by `kptrdoc/bench/export_hook.py`."
    )
    return report
