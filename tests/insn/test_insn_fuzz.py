"""Hypothesis: any bytes decode without an exception other than InsnError, format, and
encode back to themselves.

``KPTRDOC_FUZZ_EXAMPLES`` sets the number of examples per test (default 200).
"""

from __future__ import annotations

import os
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kptrdoc.insn import InsnError, Kind, decode, encode, format_insn, format_line

EXAMPLES = int(os.environ.get("KPTRDOC_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=EXAMPLES <= 200,
)
ORDERS = ("little", "big")


def check(data: bytes, base_index: int = 0) -> None:
    for order in ORDERS:
        try:
            insns = decode(data, order, base_index)  # type: ignore[arg-type]
        except InsnError as exc:
            assert len(data) % 8, "InsnError for a length that is a multiple of 8"
            assert exc.offset == len(data) - len(data) % 8
            continue
        assert len(data) % 8 == 0, "no InsnError for a length that is not a multiple of 8"
        expected = base_index
        for insn in insns:
            assert insn.index == expected
            expected += insn.size
            assert insn.size in (1, 2)
            assert insn.valid == (insn.kind is not Kind.INVALID) == (insn.reason == "")
            assert (insn.imm64 is not None) == (insn.size == 2) == (insn.kind is Kind.LD_IMM64)
            text = format_insn(insn, helpers={1: "bpf_map_lookup_elem"}, symbols={insn.index: "s"})
            assert text and text.strip() == text
            assert text.startswith("invalid") != insn.valid
            assert format_insn(insn)
            assert format_line(insn).startswith(f"{insn.index}: ({insn.code:02x}) ")
        assert expected - base_index == len(data) // 8
        assert encode(insns, order) == data  # type: ignore[arg-type]


@FUZZ
@given(st.binary(max_size=256), st.integers(min_value=0, max_value=1 << 20))
def test_random_bytes(data: bytes, base_index: int) -> None:
    check(data, base_index)


SELECTOR_IMMS = (0, 1, 16, 32, 64, 0x01, 0x40, 0x41, 0x50, 0x51, 0xA0, 0xA1, 0xE1, 0xF1,
                 0x100, 0x110, 1 << 16, -1)  # fmt: skip

# Slots near the valid encodings: any opcode, registers mostly in range, the
# selector values (off 0/1/8/16/32, swap widths, atomic imm, pseudo srcs).
_slot = st.builds(
    lambda code, dst, src, off, imm: (code, dst, src, off, imm),
    st.integers(0, 255),
    st.one_of(st.integers(0, 10), st.integers(0, 15)),
    st.one_of(st.integers(0, 6), st.integers(0, 15)),
    st.one_of(st.sampled_from([0, 1, 8, 16, 32, -1]), st.integers(-(1 << 15), (1 << 15) - 1)),
    st.one_of(
        st.sampled_from(SELECTOR_IMMS),
        st.integers(-(1 << 31), (1 << 31) - 1),
    ),
)


@FUZZ
@given(st.lists(_slot, max_size=32), st.sampled_from(ORDERS), st.booleans())
def test_structured_slots(slots: list, order: str, cut: bool) -> None:
    fmt = "<BBhi" if order == "little" else ">BBhi"
    parts = []
    for code, dst, src, off, imm in slots:
        regs = src << 4 | dst if order == "little" else dst << 4 | src
        parts.append(struct.pack(fmt, code, regs, off, imm))
    data = b"".join(parts)
    if cut and data:
        data = data[:-3]
    check(data)
