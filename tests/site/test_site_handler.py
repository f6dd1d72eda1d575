"""The ``bpf`` handler on a small site: options select sections; bad input is one line."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

MKDOCS_YML = """\
site_name: handler
theme:
  name: material
  font: false
markdown_extensions:
  - admonition
  - pymdownx.details
  - pymdownx.highlight
  - pymdownx.superfences
  - pymdownx.tabbed:
      alternate_style: true
plugins:
  - mkdocstrings:
      handlers:
        bpf:
          options:
            samples_dir: samples
"""


def make_site(root: Path, page: str, folder: str = "__kptr") -> Path:
    (root / "mkdocs.yml").write_text(MKDOCS_YML)
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text(page)
    shutil.copytree(REPO / "samples" / "__kptr", root / "samples" / folder)
    return root


def test_sections_option_selects_sections(tmp_path: Path, releases, build_mkdocs) -> None:
    page = (
        "# x\n\n::: __kptr\n    handler: bpf\n    options:\n      sections: [title, definition]\n"
    )
    root = make_site(tmp_path, page)
    proc = build_mkdocs(root / "mkdocs.yml", root / "site", root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = (root / "site" / "index.html").read_text()
    assert 'id="definition"' in html and 'btf_type_tag("kptr")' in html
    for absent in ('id="example"', 'id="map-layouts"', 'id="common-mistakes"', "kd-bytes"):
        assert absent not in html, absent


def test_unknown_section_is_an_error(tmp_path: Path, releases, build_mkdocs) -> None:
    page = "# x\n\n::: __kptr\n    handler: bpf\n    options:\n      sections: [definiton]\n"
    root = make_site(tmp_path, page)
    proc = build_mkdocs(root / "mkdocs.yml", root / "site", root)
    assert proc.returncode != 0
    assert "unknown section(s) definiton" in proc.stdout + proc.stderr


def test_missing_sample_folder_is_named(tmp_path: Path, releases, build_mkdocs) -> None:
    root = make_site(tmp_path, "# x\n\n::: __nothing_here\n    handler: bpf\n")
    proc = build_mkdocs(root / "mkdocs.yml", root / "site", root)
    assert proc.returncode != 0
    assert (
        f"{root / 'samples' / '__nothing_here'}: no such sample folder" in proc.stdout + proc.stderr
    )


def test_bad_front_matter_is_named(tmp_path: Path, releases, build_mkdocs) -> None:
    root = make_site(tmp_path, "# x\n\n::: __kptr\n    handler: bpf\n")
    readme = root / "samples" / "__kptr" / "README.md"
    readme.write_text("no front matter here\n")
    proc = build_mkdocs(root / "mkdocs.yml", root / "site", root)
    assert proc.returncode != 0
    assert f"{readme}: expected front matter" in proc.stdout + proc.stderr
