"""Bad input to ``kptrdoc btf dump``: exit 1, one line on stderr naming the file, no traceback."""

from __future__ import annotations

import pytest
from btf_support import FIXTURES, compile_c, kptrdoc
from btfbuild import Builder


def valid_blob() -> bytes:
    b = Builder()
    b.int_("int", 4, 32, encoding=1)
    b.record(4, "s", 8, [("a", 1, 0), ("b", 1, 32)])
    return b.build()


def cases(obj: bytes) -> dict[str, bytes]:
    blob = valid_blob()
    return {
        "empty": b"",
        "garbage": b"hello, world\n" * 10,
        "magic-only": blob[:2],
        "short-header": blob[:20],
        "truncated-types": blob[:30],
        "truncated-strings": blob[:-3],
        "bad-version": blob[:2] + b"\x02" + blob[3:],
        "bad-hdr-len": blob[:4] + (1000).to_bytes(4, "little") + blob[8:],
        "huge-vlen": blob[: 24 + 16 + 4] + (0x04FFFFFF).to_bytes(4, "little") + blob[24 + 16 + 8 :],
        "elf-truncated": obj[:200],
        "elf-half": obj[: len(obj) // 2],
    }


@pytest.fixture(scope="module")
def good_object(clang, build_dir):
    return compile_c(clang, FIXTURES / "kinds.c", "bpfel", build_dir).read_bytes()


@pytest.mark.parametrize(
    "case",
    [
        "empty",
        "garbage",
        "magic-only",
        "short-header",
        "truncated-types",
        "truncated-strings",
        "bad-version",
        "bad-hdr-len",
        "huge-vlen",
        "elf-truncated",
        "elf-half",
    ],
)
@pytest.mark.parametrize("fmt", ["raw", "c"])
def test_bad_input(case, fmt, good_object, tmp_path):
    path = tmp_path / f"{case}.bin"
    path.write_bytes(cases(good_object)[case])
    run = kptrdoc("btf", "dump", str(path), "--format", fmt)
    assert run.returncode == 1, (run.stdout[:200], run.stderr)
    assert "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"kptrdoc: {path}"), lines[0]


def test_missing_file(tmp_path):
    run = kptrdoc("btf", "dump", str(tmp_path / "nope.o"))
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f"kptrdoc: {tmp_path / 'nope.o'}: cannot read: No such file or directory"
    ]


def test_bad_base(tmp_path):
    (tmp_path / "split.btf").write_bytes(valid_blob())
    (tmp_path / "base.btf").write_bytes(b"junk")
    run = kptrdoc("btf", "dump", str(tmp_path / "split.btf"), "--base", str(tmp_path / "base.btf"))
    assert run.returncode == 1 and len(run.stderr.splitlines()) == 1
    assert "base.btf" in run.stderr


def test_valid_blob_dumps(tmp_path):
    """The corruptions above start from a blob that is fine (so they test the corruption)."""
    (tmp_path / "ok.btf").write_bytes(valid_blob())
    run = kptrdoc("btf", "dump", str(tmp_path / "ok.btf"))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(b"[1] INT 'int'")
