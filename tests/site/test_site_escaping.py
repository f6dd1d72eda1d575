"""Text from samples and verifier logs reaches the page as text, never as markup."""

from __future__ import annotations

from pathlib import Path

import pytest

SCRIPT = "<script>alert(1)</script>"

MKDOCS_YML = """\
site_name: escaping
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

README = """\
---
macro: __kptr
header: bpf_helpers.h
since: v0.8.0
related: [__kptr_untrusted]
---

Prose.
"""

SAMPLE = """\
// SPDX-License-Identifier: GPL-2.0
/* a comment with <script>alert(1)</script> in it */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

struct value {
	struct bpf_cpumask __kptr *mask;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct value);
	__uint(max_entries, 1);
} values SEC(".maps");

SEC("syscall")
__failure __msg("<script>alert(1)</script>")
__description("a description with <script>alert(1)</script>")
int escaped(void *ctx)
{
	int key = 0;

	return bpf_map_lookup_elem(&values, &key) != 0;
}

char LICENSE[] SEC("license") = "GPL";
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, releases, build_mkdocs) -> str:
    root = tmp_path_factory.mktemp("escaping")
    (root / "mkdocs.yml").write_text(MKDOCS_YML)
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text("# Escaping\n\n::: __kptr\n    handler: bpf\n")
    folder = root / "samples" / "__kptr"
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(README)
    (folder / "escaped.bpf.c").write_text(SAMPLE)
    proc = build_mkdocs(root / "mkdocs.yml", root / "site", root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return (root / "site" / "index.html").read_text()


def test_script_from_a_sample_is_text(page: str) -> None:
    assert SCRIPT not in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_page_still_shows_the_sample(page: str) -> None:
    assert "escaped" in page
    assert "a description with &lt;script&gt;" in page


def test_a_wrong_since_stops_the_build(tmp_path: Path, releases, build_mkdocs) -> None:
    (tmp_path / "mkdocs.yml").write_text(MKDOCS_YML)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# x\n\n::: __kptr\n    handler: bpf\n")
    folder = tmp_path / "samples" / "__kptr"
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(README.replace("v0.8.0", "v1.3.0"))
    (folder / "escaped.bpf.c").write_text(SAMPLE)
    proc = build_mkdocs(tmp_path / "mkdocs.yml", tmp_path / "site", tmp_path)
    assert proc.returncode != 0
    assert f"{folder / 'README.md'}: since v1.3.0 is wrong" in proc.stdout + proc.stderr
