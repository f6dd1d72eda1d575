"""``kptrdoc new``: a folder that compiles and loads, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from kptrdoc.cli import main


def test_new_scaffolds_a_sample_that_compiles(tmp_path: Path, releases, capsys) -> None:
    from kptrdoc import headers
    from kptrdoc.compile import compile_sample
    from kptrdoc.handler.readme import read_readme
    from kptrdoc.loader import kernel_access, list_programs, load_program

    assert main(["new", "__percpu_kptr", "--samples-dir", str(tmp_path)]) == 0
    folder = tmp_path / "__percpu_kptr"
    front, prose = read_readme(folder)
    assert front.macro == "__percpu_kptr" and front.header == "bpf_helpers.h"
    assert prose.strip()
    headers.check_since(
        front.macro, front.since, headers.history(front.macro), folder / "README.md"
    )
    (sample,) = folder.glob("*.bpf.c")
    assert "__success" in sample.read_text()
    obj = compile_sample(sample)
    (program,) = list_programs(obj.path)
    if kernel_access():
        pytest.skip(f"compiled; not loaded: {kernel_access()}")
    assert load_program(obj.path, program.name).verdict == "loaded"


def test_new_refuses_a_non_macro(tmp_path: Path, releases, capsys) -> None:
    assert main(["new", "not_a_libbpf_macro", "--samples-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "not_a_libbpf_macro" in err and "not a macro" in err
    assert not (tmp_path / "not_a_libbpf_macro").exists()


def test_new_refuses_an_existing_folder(tmp_path: Path, releases, capsys) -> None:
    (tmp_path / "__kptr").mkdir()
    assert main(["new", "__kptr", "--samples-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert "already exists" in err and len(err.splitlines()) == 1


def test_front_matter_round_trips_for_every_public_macro(tmp_path: Path, releases) -> None:
    """YAML would read ``macro: NULL`` as null and ``true`` as a boolean: every name of the
    public list must come back as itself, with its header and since tag."""
    from kptrdoc import headers
    from kptrdoc.facts import libbpf_since
    from kptrdoc.handler.readme import read_readme
    from kptrdoc.scaffold import scaffold

    macros = headers.public_macros()
    assert len(macros) > 150 and any(m.name == "NULL" for m in macros)
    wrong = []
    for macro in macros:
        folder = scaffold(macro.name, tmp_path / macro.name.lower())
        front, _ = read_readme(folder)
        if (front.macro, front.header) != (macro.name, macro.header):
            wrong.append((macro.name, front.macro, front.header))
        fact = libbpf_since(macro.name)  # the since tag comes from libbpf's history
        if fact is not None and front.since != fact.since:
            wrong.append((macro.name, "since", front.since))
        for name in front.related:
            if not isinstance(name, str):
                wrong.append((macro.name, "related", name))
    assert wrong == []
