"""The reason for a rejection is the verifier's last message, not a statistics line, on 6.x and 7.x.

7.x appends ``insns processed A+B`` (one count per subprogram) before the
``processed N insns (limit ...)`` line that older kernels print alone. The
7.x log tail below is what Debian sid's 7.2 printed in the kernel matrix for
a ``__arg_nullable`` mistake.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness_support import write_sample

from kptrdoc import loader
from kptrdoc.compile import compile_sample

LAST_MESSAGE = "R1 invalid mem access 'trusted_ptr_or_null_'"
TAIL_6 = f"""\
9: (61) r0 = *(u32 *)(r1 +2812)
{LAST_MESSAGE}
verification time 2081 usec
stack depth 0+0 max 0
processed 12 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0
"""
TAIL_7 = f"""\
9: (61) r0 = *(u32 *)(r1 +2812)
{LAST_MESSAGE}
verification time 2081 usec
stack depth 0+0 max 0
insns processed 11+1
processed 12 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0
"""
# the per-subprogram line alone (should a kernel drop the older line)
TAIL_7_ONLY = f"""\
{LAST_MESSAGE}
verification time 2081 usec
stack depth 0+0+0 max 0
insns processed 9+3+1
"""
INFO = loader.ProgramInfo("nullable_unchecked", "tp_btf/task_newtask")


@pytest.mark.parametrize("log", [TAIL_6, TAIL_7, TAIL_7_ONLY], ids=["6.x", "7.x", "7.x-only"])
def test_reason_skips_every_statistics_line(log: str) -> None:
    verdict, reason = loader._classify(INFO, 13, log, [])
    assert (verdict, reason) == (loader.REJECTED, f"verifier: {LAST_MESSAGE}")


@pytest.mark.parametrize(
    ("log", "stats"),
    [
        (TAIL_6, (12, 1, 1)),
        (TAIL_7, (12, 1, 1)),
        (TAIL_7_ONLY, (13, None, None)),
        ("", (None,) * 3),
    ],
    ids=["6.x", "7.x", "7.x-only", "none"],
)
def test_instructions_processed_on_both_formats(log: str, stats: tuple) -> None:
    assert loader._parse_stats(log) == stats


def test_statistics_lines_are_told_from_messages() -> None:
    for line in ("insns processed 11", "insns processed 14+4+0", "verification time 9 usec"):
        assert loader._is_stats_line(line), line
    for line in (LAST_MESSAGE, "insns processed by R1", "processed 3 insns of 4"):
        assert not loader._is_stats_line(line), line


def test_host_rejection_reason_is_the_verifier_message(kernel: None, tmp_path: Path) -> None:
    src = write_sample(
        tmp_path,
        "r.bpf.c",
        'SEC("xdp")\nint unchecked(struct xdp_md *ctx) { return *(int *)(long)ctx->data; }\n',
    )
    result = loader.load_program(compile_sample(src).path, "unchecked")
    assert result.verdict == loader.REJECTED
    assert result.reason == "verifier: R1 offset is outside of the packet"
    assert not loader._is_stats_line(result.reason.removeprefix("verifier: "))
    assert result.insns_processed and result.insns_processed > 0


LOG_7_3 = """13: (85) call bpf_map_lookup_elem#1
R1 type=map_ptr_or_null expected=map_ptr

Verification failed: Call Type Safety: Invalid call argument

Reason:
  The first argument (R1) to bpf_map_lookup_elem does not satisfy the verifier contract.

At:
  inner_map_unchecked @ mistakes.bpf.c:39:10
  >>> 39 |         count = bpf_map_lookup_elem(inner, &pid);

Suggestion:
  Pass a value with one of the accepted pointer or scalar types for this call.

verification time 2517 usec
stack depth max 0
subprog 0 (inner_map_unchecked) main insns_self 13 insns_total 13 stack 8
processed 13 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
"""


def test_the_verifier_message_comes_before_7_3s_structured_report() -> None:
    # measured on Debian's 7.3.4 (trixie-backports): a report follows the message
    assert loader.verifier_message(LOG_7_3) == "R1 type=map_ptr_or_null expected=map_ptr"
    assert loader._is_stats_line(
        "subprog 0 (inner_map_unchecked) main insns_self 13 insns_total 13 stack 8"
    )
    assert loader._is_stats_line("subprog 1 (count_into) global insns_self 1 insns_total 1 stack 0")
    assert not loader._is_stats_line("subprog 0 is not allowed here")
