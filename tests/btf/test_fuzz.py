"""Hypothesis fuzzing of the header, type, string and .BTF.ext parsers and of
everything that walks the result: only BTFError may escape, never another
exception, a hang or unbounded recursion.

``KPTRDOC_FUZZ_EXAMPLES`` sets the number of examples per test (``make fuzz``
raises it); the default keeps the whole file to a few seconds.
"""

from __future__ import annotations

import contextlib
import os
import struct
from functools import cache

import pytest
from btf_support import FIXTURES, compile_c
from btfbuild import LAYOUT, Builder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kptrdoc.btf import BTFError, Struct, Union, parse_btf, parse_btf_ext
from kptrdoc.btf.cformat import render_c
from kptrdoc.btf.layout import record_layout
from kptrdoc.btf.raw import dump_raw
from kptrdoc.elf import parse_object

EXAMPLES = int(os.environ.get("KPTRDOC_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=EXAMPLES <= 100,
)


def exercise(data: bytes) -> None:
    """Parse and walk everything; swallow only BTFError."""
    try:
        spec = parse_btf(data)
    except BTFError:
        return
    for walk in (dump_raw, render_c):
        with contextlib.suppress(BTFError):
            walk(spec)
    for type_id in range(1, spec.type_count):
        for fn in (spec.type, spec.strip, spec.size_of, spec.align_of, spec.tag_chain):
            with contextlib.suppress(BTFError):
                fn(type_id)
        try:
            t = spec.type(type_id)
            if isinstance(t, (Struct, Union)):
                record_layout(spec, type_id)
            spec.decl_tags_of(type_id)
        except BTFError:
            pass
    with contextlib.suppress(BTFError):
        spec.by_name("int")


@cache
def sample_blob() -> bytes:
    """A small but varied valid blob built by the test encoder."""
    b = Builder()
    b.int_("int", 4, 32, encoding=1)
    b.int_("u3", 4, 3)
    b.record(4, "s", 16, [("a", 1, 0), ("b", 2, 32), ("p", 5, 64)])
    b.record(5, "", 4, [("x", 1, 0)])
    b.add(2, "", 0, 3)
    b.add(18, "kptr", 0, 3)
    b.add(17, "tag", 0, 3, b.u32(0))
    b.add(13, "", 2, 1, b.u32(b.s("a"), 1) + b.u32(0, 0))
    b.add(12, "f", 1, 8)
    b.add(6, "e", 2, 4, b.u32(b.s("A"), 1) + b.u32(b.s("B"), 2), kflag=1)
    b.add(19, "e64", 1, 8, b.u32(b.s("C"), 1, 2))
    b.add(3, "", 0, 0, b.u32(1, 1, 4))
    b.add(14, "v", 0, 1, b.u32(1))
    b.add(15, ".data", 1, 0, b.u32(13, 0, 4))
    return b.build(32, LAYOUT)


@pytest.fixture(scope="module")
def object_btf(clang, build_dir) -> tuple[bytes, bytes]:
    """The .BTF and .BTF.ext of a compiled fixture (clang at test time)."""

    obj = parse_object(compile_c(clang, FIXTURES / "progs.c", "bpfel", build_dir).read_bytes())
    assert obj.btf is not None and obj.btf_ext is not None
    return obj.btf, obj.btf_ext


def test_sample_blob_is_valid():
    """The seed of the mutations parses cleanly (so the fuzzing mutates something real)."""
    spec = parse_btf(sample_blob())
    assert spec.type_count == 15
    exercise(sample_blob())


@FUZZ
@given(st.binary(max_size=64))
def test_header_random_bytes(tail):
    exercise(b"\x9f\xeb\x01\x00" + tail)


@FUZZ
@given(
    hdr_len=st.sampled_from([0, 8, 23, 24, 28, 32, 36, 0xFFFFFFFF]),
    offsets=st.lists(st.integers(0, 2**32 - 1), min_size=6, max_size=6),
    order=st.sampled_from(["<", ">"]),
)
def test_header_fields(hdr_len, offsets, order):
    head = struct.pack(order + "HBBI", 0xEB9F, 1, 0, hdr_len) + struct.pack(order + "6I", *offsets)
    exercise(head + sample_blob()[32:])


@FUZZ
@given(st.data())
def test_type_section_mutations(data):
    blob = bytearray(sample_blob())
    start = 32
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(start, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    exercise(bytes(blob))


@FUZZ
@given(words=st.lists(st.integers(0, 2**32 - 1), max_size=40))
def test_type_section_random_words(words):
    b = Builder()
    b.int_("int", 4, 32, encoding=1)
    b.types += struct.pack(f"<{len(words)}I", *words)
    exercise(b.build())


@FUZZ
@given(strings=st.binary(max_size=40))
def test_string_section(strings):
    b = Builder()
    b.int_("int", 4, 32, encoding=1)
    b.record(4, "s", 4, [("a", 1, 0)])
    b.strings = bytearray(strings)
    exercise(b.build())


@FUZZ
@given(data=st.data())
def test_real_object_mutations(data, object_btf):
    btf, _ = object_btf
    blob = bytearray(btf)
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    exercise(bytes(blob))


@FUZZ
@given(data=st.data())
def test_btf_ext_mutations(data, object_btf):
    btf, ext = object_btf
    spec = parse_btf(btf)
    parse_btf_ext(ext, spec)  # the seed is valid
    blob = bytearray(ext)
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    with contextlib.suppress(BTFError):
        parse_btf_ext(bytes(blob[:cut]), spec)


@FUZZ
@given(st.binary(max_size=80))
def test_btf_ext_random(tail):
    spec = parse_btf(sample_blob())
    with contextlib.suppress(BTFError):
        parse_btf_ext(b"\x9f\xeb\x01\x00" + tail, spec)


def test_self_referencing_types_are_bounded():
    """Cycles through typedefs/qualifiers/arrays and anonymous records end in BTFError."""
    b = Builder()
    b.add(8, "loop_a", 0, 2)  # 1: typedef -> 2
    b.add(10, "", 0, 1)  # 2: const -> 1
    b.add(3, "", 0, 0, b.u32(3, 3, 2))  # 3: array of itself
    b.record(4, "", 8, [("x", 4, 0), ("y", 4, 32)])  # 4: anonymous struct containing itself
    b.record(4, "outer", 8, [("in", 4, 0)])  # 5
    b.add(2, "", 0, 6)  # 6: pointer to itself
    spec = parse_btf(b.build())
    for fn in (spec.strip, spec.size_of, spec.align_of, spec.tag_chain):
        for tid in (1, 3, 6):
            with contextlib.suppress(BTFError):
                fn(tid)
    with pytest.raises(BTFError):
        spec.size_of(1)
    with pytest.raises(BTFError):
        spec.tag_chain(6)
    with pytest.raises(BTFError):
        render_c(spec)
    exercise(b.build())
