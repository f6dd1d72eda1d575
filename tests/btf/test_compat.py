"""The bpftool dialects: the documented differences are real and only those."""

from __future__ import annotations

from btfbuild import Builder

from kptrdoc.btf import parse_btf
from kptrdoc.btf.bpftool_compat import DIFFERENCES, LEGACY, NEWEST, dialect_for
from kptrdoc.btf.raw import dump_raw


def test_versions_map_to_dialects():
    assert dialect_for((7, 1)) is LEGACY
    assert dialect_for((7, 5)) is LEGACY
    assert dialect_for((7, 8)) is NEWEST
    assert dialect_for(None) is NEWEST
    assert len(DIFFERENCES) >= 2


def test_dialects_differ_only_above_16_bit_vlen():
    small = Builder()
    small.int_("char", 1, 8, encoding=2)
    small.record(4, "s", 3, [(f"m{i}", 1, 8 * i) for i in range(3)])
    spec = parse_btf(small.build())
    assert dump_raw(spec, LEGACY) == dump_raw(spec, NEWEST)

    big = Builder()
    big.int_("char", 1, 8, encoding=2)
    n = 0x10001
    big.record(4, "s", n, [("", 1, 8 * i) for i in range(n)])
    spec = parse_btf(big.build())
    newest, legacy = dump_raw(spec, NEWEST), dump_raw(spec, LEGACY)
    assert f"vlen={n}" in newest and newest.count("\n\t") == n
    assert "vlen=1\n" in legacy  # 0x10001 & 0xffff
