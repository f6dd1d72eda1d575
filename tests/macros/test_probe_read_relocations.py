"""What the BPF_PROBE_READ page says, checked with llvm-objdump: with vmlinux.h's types,
BPF_PROBE_READ and BPF_CORE_READ compile to the same instructions and the same CO-RE
relocations; a local struct without preserve_access_index gets none."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from kptrdoc.compile import compile_main
from kptrdoc.objects import load_object

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "BPF_PROBE_READ" / "probe_read.bpf.c"


def _objdump(obj: Path, symbol: str) -> list[str]:
    """The instructions of one program as llvm-objdump prints them, without addresses and
    jump targets (the programs differ in length after the shared part)."""
    out = subprocess.run(
        ["llvm-objdump-19", "-d", "--no-show-raw-insn", f"--disassemble-symbols={symbol}",
         str(obj)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    insns = []
    for line in out.splitlines():
        match = re.match(r"\s*\d+:\s+(.*)", line)
        if match:
            text = re.sub(r"goto [+-]0x[0-9a-f]+ <[^>]*>", "goto", match.group(1))
            insns.append(re.sub(r"\s+", " ", text).strip())
    return insns


def test_probe_read_and_core_read_compile_alike() -> None:
    obj = compile_main(SAMPLE).path
    probe = _objdump(obj, "probe_read_parent")
    core = _objdump(obj, "core_read_parent")
    # the two read the parent's tgid the same way, up to the store into their own global
    assert len(core) > 20
    assert probe[: len(core) - 3] == core[: len(core) - 3]
    model = load_object(obj)
    relocs = {p.name: [(c.kind, c.path) for c in p.core_relocations] for p in model.programs}
    assert relocs["core_read_parent"] == [("byte_off", "task_struct.real_parent"),
                                          ("byte_off", "task_struct.tgid")]  # fmt: skip
    assert relocs["probe_read_parent"][:2] == relocs["core_read_parent"]
    assert relocs["probe_read_local"] == []
    assert "r3 += 0x4" in _objdump(obj, "probe_read_local")
