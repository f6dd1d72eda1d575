"""The *builds* evidence (``kptrdoc/handler/builds.py``): per line that uses a byte-order
macro, the instructions of each build, checked against llvm-objdump's disassembly of the
same builds: a swap on little-endian, none on big-endian, ``bswap`` with cpu v4."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from kptrdoc.compile import compile_sample
from kptrdoc.handler.builds import Builds, build_name
from kptrdoc.handler.collect import usage_lines
from kptrdoc.handler.evidence import SampleContext, Usage
from kptrdoc.variants import read_variants

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SWAP = re.compile(r"\b(be16|be32|be64|le16|le32|le64|bswap16|bswap32|bswap64)\b")
CASES = {
    "bpf_ntohs/ntohs.bpf.c": ("bpf_ntohs",),
    "bpf_htons/ports.bpf.c": ("bpf_htons",),
    "bpf_htonl/addresses.bpf.c": ("bpf_htonl", "bpf_ntohl"),
    "bpf_cpu_to_be64/be64.bpf.c": ("bpf_cpu_to_be64", "bpf_be64_to_cpu"),
}


def _objdump_swaps(obj: Path) -> list[str]:
    out = subprocess.run(
        ["llvm-objdump-19", "-d", "--no-show-raw-insn", str(obj)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return sorted(SWAP.findall(out))


@pytest.mark.parametrize("sample", sorted(CASES))
def test_swaps_per_build_are_what_llvm_objdump_disassembles(sample: str) -> None:
    path = SAMPLES / sample
    names = CASES[sample]
    lines = frozenset(usage_lines(path, list(names)))
    context = SampleContext(path, path.read_text(), None, Usage(names[0], names, lines))
    (evidence,) = Builds().collect(context)
    assert not context.problems
    variants = [v for v in read_variants(path) if v.error is None and v.arch is None]
    assert list(evidence.builds) == [build_name(v) for v in variants]
    for column, variant in enumerate(variants):
        ours = sorted(s for row in evidence.lines for insn in row.cells[column]
                      for s in SWAP.findall(insn))  # fmt: skip
        truth = _objdump_swaps(compile_sample(path, variant).path)
        assert ours == truth, (variant.label, ours, truth)
        if variant.target == "bpfeb":
            assert ours == []  # network order is the CPU's: nothing to swap
        elif variant.cpu == "v4":
            assert ours and all(s.startswith("bswap") for s in ours)
        else:
            assert ours and all(s.startswith("be") for s in ours)
