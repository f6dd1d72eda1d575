"""What a download is made of: the spec read from the object model, and its pieces."""

from __future__ import annotations

from pathlib import Path

import pytest

from kptrdoc.handler import numbered_as
from kptrdoc.project.spec import ProjectError, c_string, project

SAMPLE = """\
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "kptrdoc.h"

{storage}int seen = 0;
int nonce = 0;

SEC("syscall")
__success __run("test_run") __run_set("nonce", "nonce") __run_check("seen", "1")
__run_printed("100% {{nonce}} \\"done\\"")
int mark(void *ctx)
{{
	__sync_fetch_and_add(&seen, 1);
	bpf_printk("100%% %d \\"done\\"", nonce);
	return 0;
}}

char LICENSE[] SEC("license") = "GPL";
"""


def _folder(tmp_path: Path, storage: str = "") -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "demo.bpf.c").write_text(SAMPLE.format(storage=storage))
    return folder


def test_the_spec_follows_the_annotations(tmp_path: Path) -> None:
    found = project(_folder(tmp_path), "demo")
    assert found is not None
    (file,) = found.files
    assert (file.stem, file.skeleton, file.programs) == ("demo", "demo_bpf", ("mark",))
    (run,) = file.runs
    assert (run.program, run.trigger, run.packet) == ("mark", "test_run", False)
    assert [(i.variable, i.value, i.member) for i in run.inputs] == [
        ("nonce", "v.nonce", "skel->bss->nonce")
    ]
    assert [(c.variable, c.value, c.member) for c in run.checks] == [
        ("seen", "1LL", "skel->bss->seen")
    ]
    (printed,) = run.printed
    assert printed.fmt == '"100%% %lld \\"done\\""' and printed.args == ("v.nonce",)
    assert "__success" not in file.listing.text and "kptrdoc.h" not in file.listing.text
    # SEC and bpf_printk came with libbpf 0.0.6 and 0.0.6; the loader needs 0.8.0
    assert found.libbpf.release == "0.8.0" and found.bpftool is None


def test_a_static_global_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match=r"demo.bpf.c: mark: __run_check\(\"seen\", \"1\"\): "
                                           r"a static variable, which the skeleton has no "
                                           r"member for"):  # fmt: skip
        project(_folder(tmp_path, "static "), "demo")


def test_a_folder_without_runs_has_no_download(tmp_path: Path) -> None:
    folder = tmp_path / "quiet"
    folder.mkdir()
    (folder / "quiet.bpf.c").write_text(
        '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n#include "kptrdoc.h"\n'
        'SEC("xdp") __success int pass(struct xdp_md *ctx) { return XDP_PASS; }\n'
        'char LICENSE[] SEC("license") = "GPL";\n'
    )
    assert project(folder, "quiet") is None


def test_c_string() -> None:
    assert c_string('a "b" \\ c\n\t\x01') == '"a \\"b\\" \\\\ c\\n\\t\\001"'


def test_numbered_as_shows_the_samples_line_numbers() -> None:
    html = (
        '<span class="normal"><a href="#__codelineno-0-1">1</a></span>\n'
        '<span class="normal"><a href="#__codelineno-0-2">2</a></span>\n'
        '<span class="normal"><a href="#__codelineno-0-3">3</a></span>'
    )
    out = str(numbered_as(html, [4, 9, 10]))
    assert '-0-1"> 4</a>' in out and '-0-2"> 9</a>' in out and '-0-3">10</a>' in out


def test_assume_defined_leaves_a_type_to_the_including_code(tmp_path: Path) -> None:
    from kptrdoc.btf.cformat import CRenderOptions, render_c
    from kptrdoc.compile import compile_sample
    from kptrdoc.objects import load_object

    src = tmp_path / "types.bpf.c"
    src.write_text(
        '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n'
        "struct pair { bool on; enum libbpf_tristate state; };\nstruct pair p;\n"
    )
    obj = load_object(compile_sample(src).path)
    assert obj.btf is not None
    var = next(v for v in obj.globals if v.name == "p")
    assert var.type_id is not None
    every = render_c(obj.btf, [var.type_id], CRenderOptions(header_guard=False))
    assert "typedef _Bool bool;" in every and "enum libbpf_tristate {" in every
    known = frozenset({"bool", "enum libbpf_tristate"})
    fewer = render_c(obj.btf, [var.type_id],
                     CRenderOptions(header_guard=False, assume_defined=known))  # fmt: skip
    assert "typedef _Bool bool;" not in fewer and "enum libbpf_tristate {" not in fewer
    assert "struct pair {" in fewer and "\tbool on;" in fewer


def test_a_download_is_made_once_per_state_of_its_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kptrdoc.project import store

    folder = _folder(tmp_path)
    made = store.download(folder, "demo", "https://example.org/demo/")
    assert made is not None and made.stems == ("demo",) and made.triggers == ("test_run",)

    def refuse(*args: object) -> None:
        raise AssertionError("made again")

    monkeypatch.setattr(store, "_make", refuse)
    again = store.download(folder, "demo", "https://example.org/demo/")
    assert again == made  # from the cache, byte for byte
    (folder / "README.md").write_text("---\nmacro: demo\n---\nNew prose.\n")
    assert store.download(folder, "demo", "https://example.org/demo/") == made
    (folder / "demo.bpf.c").write_text((folder / "demo.bpf.c").read_text() + "/* edited */\n")
    with pytest.raises(AssertionError, match="made again"):
        store.download(folder, "demo", "https://example.org/demo/")


def test_downloads_link_back_to_the_published_site() -> None:
    import re

    from kptrdoc.project.store import SITE_URL

    config = (Path(__file__).resolve().parents[2] / "mkdocs.yml").read_text()
    match = re.search(r"^site_url: (\S+)$", config, re.M)
    assert match and match.group(1) == SITE_URL
