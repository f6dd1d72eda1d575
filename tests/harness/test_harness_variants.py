"""Build variants: cpu, byte order, architecture and expected compiler errors, per sample."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from harness_support import run_pytest, write_sample

from kptrdoc.compile import compile_sample
from kptrdoc.variants import Variant, VariantError, read_variants

VARIANTS = """
// kptrdoc: build
// kptrdoc: build cpu=v3
// kptrdoc: build target=bpfeb
// kptrdoc: build arch=arm64
// kptrdoc: build cpu=v2 error="use of undeclared identifier 'only_on_v2'"
#if __BPF_CPU_VERSION__ == 2
int broken = only_on_v2;
#endif

SEC("xdp") __success
int pass(struct xdp_md *ctx)
{
	unsigned int len = ctx->data_end - ctx->data;

	return len > 64 ? XDP_PASS : XDP_DROP;
}
"""


def test_markers_are_read_in_order(tmp_path: Path) -> None:
    src = write_sample(tmp_path, "v.bpf.c", VARIANTS)
    assert read_variants(src) == (
        Variant(),
        Variant(cpu="v3"),
        Variant(target="bpfeb"),
        Variant(arch="arm64"),
        Variant(cpu="v2", error="use of undeclared identifier 'only_on_v2'"),
    )
    plain = write_sample(
        tmp_path, "p.bpf.c", 'SEC("xdp") __success\nint p(void *c) { return 2; }\n'
    )
    assert read_variants(plain) == (Variant(),)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("// kptrdoc: build cpu=v9", "cpu=v9: expected one of v1, v2, v3, v4"),
        ("// kptrdoc: build colour=red", "'colour=red': expected cpu=, target=, arch= or error="),
        ("// kptrdoc: build arch=vax", "arch=vax: expected one of x86, arm64"),
        ("// kptrdoc: compile-me", "unknown kptrdoc line"),
        ('// kptrdoc: build error="unterminated', "No closing quotation"),
    ],
)
def test_a_bad_marker_is_one_line_naming_file_and_line(tmp_path: Path, line: str, says: str):
    src = tmp_path / "bad.bpf.c"
    src.write_text(f"// first\n{line}\n")
    with pytest.raises(VariantError) as exc:
        read_variants(src)
    assert str(exc.value).startswith(f"{src}:2: ") and says in str(exc.value)


def test_each_variant_is_what_it_says(tmp_path: Path) -> None:
    """Checked with the tools: readelf's byte order, llvm-objdump's 32-bit jumps."""
    src = write_sample(tmp_path, "v.bpf.c", VARIANTS)
    eb = compile_sample(src, Variant(target="bpfeb")).path
    header = subprocess.run(["readelf", "-h", str(eb)], capture_output=True, text=True).stdout
    assert "big endian" in header
    v3 = compile_sample(src, Variant(cpu="v3")).path
    v1 = compile_sample(src, Variant(cpu="v1")).path
    listing = {
        name: subprocess.run(
            ["llvm-objdump-19", "-d", str(path)], capture_output=True, text=True
        ).stdout
        for name, path in (("v3", v3), ("v1", v1))
    }
    assert "if w" in listing["v3"] and "if w" not in listing["v1"]


def test_pytest_runs_every_variant(kernel: None, tmp_path: Path) -> None:
    write_sample(tmp_path, "v.bpf.c", VARIANTS)
    run = run_pytest(str(tmp_path), cwd=tmp_path)
    assert run.outcomes == {
        "v.bpf.c::pass": "PASSED",
        "v.bpf.c::pass[cpu=v3]": "PASSED",
        "v.bpf.c::<build:target=bpfeb>": "PASSED",
        "v.bpf.c::<build:arch=arm64>": "PASSED",
        "v.bpf.c::<compile:cpu=v2>": "PASSED",
    }, run.output
    wrong = VARIANTS.replace("only_on_v2'\"", "something_else'\"")
    write_sample(tmp_path, "v.bpf.c", wrong)
    run = run_pytest(str(tmp_path), cwd=tmp_path)
    assert run.outcomes["v.bpf.c::<compile:cpu=v2>"] == "FAILED", run.output
    assert "clang failed, but not with \"use of undeclared identifier 'something_else'\"" in (
        run.output
    )
