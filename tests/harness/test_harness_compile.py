"""Sample compilation: the cache key covers source, headers, compiler and flags."""

from __future__ import annotations

import concurrent.futures
import os
from pathlib import Path

import pytest
from harness_support import REPO, write_sample

from kptrdoc.compile import CompileError, compile_sample
from kptrdoc.objects import load_object


def test_second_compile_is_cached_and_header_change_recompiles(tmp_path: Path) -> None:
    header = tmp_path / "local.h"
    header.write_text("#define ANSWER 2\n")
    src = write_sample(
        tmp_path,
        "h.bpf.c",
        '#include "local.h"\nSEC("xdp") __success\nint h(struct xdp_md *c) { return ANSWER; }\n',
    )
    first = compile_sample(src)
    assert not first.cached and first.path.exists()
    assert header.resolve() in first.dependencies
    assert any(d.name == "kptrdoc.h" for d in first.dependencies)
    assert any(d.name == "vmlinux.h" for d in first.dependencies)
    second = compile_sample(src)
    assert second.cached and second.path == first.path
    header.write_text("#define ANSWER 1\n")  # only the header changes
    third = compile_sample(src)
    assert not third.cached and third.key != first.key


def test_concurrent_compiles_agree(tmp_path: Path) -> None:
    src = write_sample(
        tmp_path,
        "c.bpf.c",
        f'SEC("xdp") __success\nint c(struct xdp_md *x) {{ return {os.getpid() % 3}; }}\n',
    )
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: compile_sample(src), range(4)))
    assert len({r.path for r in results}) == 1
    assert results[0].path.read_bytes()[:4] == b"\x7fELF"


def test_compile_error_carries_clang_diagnostics(tmp_path: Path) -> None:
    src = write_sample(tmp_path, "e.bpf.c", "int broken(void) { return x; }\n")
    with pytest.raises(CompileError) as info:
        compile_sample(src)
    line = src.read_text().splitlines().index("int broken(void) { return x; }") + 1
    assert f"e.bpf.c:{line}:" in info.value.diagnostics
    assert str(src) in str(info.value) and "\n" not in str(info.value)


def test_two_clones_compile_to_the_same_bytes(tmp_path: Path) -> None:
    """The same samples, in two checkouts whose paths differ in length, give identical objects
    that name neither checkout nor the cache."""
    import shutil

    from kptrdoc import toolchain

    clones = [tmp_path / "a", tmp_path / "a-much-longer-checkout-name" / "nested"]
    for clone in clones:
        for page in ("__kptr", "__arg_trusted", "__ulong"):
            shutil.copytree(REPO / "samples" / page, clone / "samples" / page)
        shutil.copyfile(
            REPO / "samples" / "matrix.lock.json", clone / "samples" / "matrix.lock.json"
        )
    for sample in sorted((clones[0] / "samples").glob("*/*.bpf.c")):
        rel = sample.relative_to(clones[0])
        first, second = (compile_sample(clone / rel) for clone in clones)
        data = first.path.read_bytes()
        assert data == second.path.read_bytes(), f"{rel}: the objects differ between clones"
        for place in (str(tmp_path), str(toolchain.cache_dir()), str(REPO), "/tmp/kptrdoc-cc-"):
            assert place.encode() not in data, f"{rel}: the object names {place}"
        # line info still carries each source line's text (what the verifier log prints)
        source = (clones[0] / rel).read_text().splitlines()
        lines = [ln for p in load_object(first.path).programs for ln in p.lines]
        assert lines, f"{rel}: no line info"
        ours = [ln for ln in lines if ln.file.endswith(sample.name)]
        assert ours and all(ln.text == source[ln.line - 1] for ln in ours), rel
