"""What the compiler-helper pages of bpf_helpers.h say about the instructions, checked with
llvm-objdump on the compiled samples: barrier() keeps a store, barrier_var() keeps a
computation, likely()/unlikely() swap the layout, __noinline leaves a subprogram and a call,
__always_inline none."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from kptrdoc.compile import compile_main

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _programs(sample: str) -> dict[str, list[str]]:
    """Each function's instructions as llvm-objdump prints them, each relocation's symbol
    appended to the instruction it applies to (``r1 = 0x0 ll <common_path>``)."""
    obj = compile_main(SAMPLES / sample).path
    out = subprocess.run(
        ["llvm-objdump-19", "-dr", "--no-show-raw-insn", str(obj)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in out.splitlines():
        if match := re.match(r"^[0-9a-f]+ <(\w+)>:$", line):
            current = found.setdefault(match[1], [])
        elif current is not None and (match := re.search(r"R_BPF_\w+\s+(\S+)", line)):
            current[-1] += f" <{match[1]}>"
        elif current is not None and (match := re.match(r"^\s+\d+:\s+(.*)$", line)):
            current.append(match[1].strip())
    return found


def test_barrier_keeps_the_first_store_and_barrier_var_the_computation() -> None:
    progs = _programs("barrier/barriers.bpf.c")
    stores = {name: sum(1 for i in insns if re.match(r"\*\(u64 \*\)\(r\d \+ 0x0\) = r", i))
              for name, insns in progs.items()}  # fmt: skip
    assert stores["with_barrier"] == 2 and stores["without_barrier"] == 1
    with_var, without_var = progs["with_barrier_var"], progs["without_barrier_var"]
    assert any(re.match(r"r\d (<<=|\*=) 0x", i) for i in with_var), with_var
    assert not any(re.match(r"r\d (<<=|\*=) 0x", i) for i in without_var), without_var
    assert any(i.endswith("= 0xe") for i in without_var) and not any(
        i.endswith("= 0xe") for i in with_var
    )


def _ends_in_goto(insns: list[str], symbol: str) -> bool:
    """Whether the path that stores to ``symbol`` leaves by a ``goto`` (rather than
    running into ``exit``): the instruction after the store."""
    at = next(n for n, i in enumerate(insns) if i.endswith(f"<{symbol}>"))
    store = next(n for n in range(at, len(insns)) if re.match(r"\*\(u64 \*\)", insns[n]))
    return insns[store + 1].startswith("goto")


def test_likely_and_unlikely_swap_which_path_jumps() -> None:
    progs = _programs("likely/branches.bpf.c")
    positive, not_positive = progs["expect_positive"], progs["expect_not_positive"]
    assert not _ends_in_goto(positive, "common_path") and _ends_in_goto(positive, "rare_path")
    assert _ends_in_goto(not_positive, "common_path")
    assert not _ends_in_goto(not_positive, "rare_path")


def test_noinline_is_a_subprogram_called_and_always_inline_is_not() -> None:
    progs = _programs("__noinline/calls.bpf.c")
    assert "add_called" in progs and "add_inlined" not in progs
    calls = [i for i in progs["sums"] if i.startswith("call ")]
    assert len(calls) == 1 and calls[0].endswith("<.text>"), calls
