"""kptrdoc.headers against the real libbpf headers that ``make setup`` fetched."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from kptrdoc import headers
from kptrdoc.headers import HeaderError


def grep_line(path: Path, pattern: str) -> int:
    """The first line ``grep -n`` finds for ``pattern`` (an extended regex)."""
    out = subprocess.run(
        ["grep", "-n", "-E", "-m1", pattern, str(path)], capture_output=True, text=True, check=True
    ).stdout
    return int(out.split(":", 1)[0])


def test_kptr_definition_in_pinned(pinned) -> None:
    found = headers.find_definition("__kptr", pinned.include_dir, pinned.version)
    helpers = pinned.bpf_dir / "bpf_helpers.h"
    assert found.header == "bpf_helpers.h"
    assert found.line == grep_line(helpers, r"^#define __kptr ")
    assert found.text == '#define __kptr __attribute__((btf_type_tag("kptr")))'
    assert found.location == f"bpf_helpers.h:{found.line}"
    assert "__kptr_untrusted" in found.siblings


def test_multiline_macro_with_comment(pinned) -> None:
    found = headers.find_definition("BPF_PROG", pinned.include_dir, pinned.version)
    tracing = pinned.bpf_dir / "bpf_tracing.h"
    assert found.header == "bpf_tracing.h"
    assert found.line == grep_line(tracing, r"^#define BPF_PROG\(")
    lines = found.text.splitlines()
    assert len(lines) == found.end_line - found.line + 1 > 1
    assert all(line.rstrip().endswith("\\") for line in lines[:-1])
    assert not lines[-1].rstrip().endswith("\\")
    assert found.comment.lstrip().startswith("/*") and found.comment.rstrip().endswith("*/")
    assert found.comment_line + len(found.comment.splitlines()) == found.line


def test_non_macro_names(pinned) -> None:
    enum = headers.find_definition("enum libbpf_pin_type", pinned.include_dir)
    assert enum.kind == "enum"
    assert enum.line == grep_line(pinned.bpf_dir / "bpf_helpers.h", r"^enum libbpf_pin_type")
    assert "LIBBPF_PIN_BY_NAME" in enum.text and enum.text.rstrip().endswith("};")
    assert headers.find_definition("libbpf_pin_type", pinned.include_dir).kind == "enum"
    func = headers.find_definition("bpf_tail_call_static", pinned.include_dir)
    assert func.kind == "function" and func.text.rstrip().endswith("}")


def test_unknown_name(pinned) -> None:
    assert headers.find_definitions("no_such_macro_here", pinned.include_dir) == []
    with pytest.raises(HeaderError, match="no_such_macro_here"):
        headers.find_definition("no_such_macro_here", pinned.include_dir, pinned.version)


def test_missing_include_dir(tmp_path: Path) -> None:
    with pytest.raises(HeaderError, match=re.escape(str(tmp_path))):
        headers.find_definitions("__kptr", tmp_path)


def test_kptr_history(releases, old_1_1) -> None:
    hist = headers.history("__kptr", releases)
    by_version = {e.version: e for e in hist.entries}
    old = by_version[old_1_1.version]
    assert old.present and old.status == "present"
    assert "__kptr_ref" in old.siblings and "__kptr_ref" in old.family
    assert "__kptr_untrusted" not in old.siblings
    assert (
        old.location
        == f"bpf_helpers.h:{grep_line(old_1_1.bpf_dir / 'bpf_helpers.h', r'^#define __kptr ')}"
    )
    for entry in hist.entries:
        if entry.version.startswith(("1.5.", "1.6.", "1.7.")):
            assert entry.present
            assert "__kptr_untrusted" in entry.siblings
            assert "__kptr_ref" not in entry.siblings
            assert "__kptr_ref" not in entry.family
    newer = [e for e in hist.entries if e.version != old_1_1.version]
    assert any("__kptr_ref" in e.siblings_removed for e in newer)
    assert any("__kptr_untrusted" in e.siblings_added for e in newer)


def test_removed_macro_history(releases, old_1_1) -> None:
    hist = headers.history("__kptr_ref", releases)
    assert hist.entries[0].present
    assert [e.status for e in hist.entries[1:]][:1] == ["removed"]
    assert not hist.entries[-1].present


def test_check_since(releases, old_1_1, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    kptr = headers.history("__kptr", releases)
    headers.check_since("__kptr", "v0.8.0", kptr, readme)
    with pytest.raises(HeaderError, match=r"README\.md: since v1\.3 is wrong.*1\.1\.\d already"):
        headers.check_since("__kptr", "v1.3", kptr, readme)
    percpu = headers.history("__percpu_kptr", releases)
    headers.check_since("__percpu_kptr", "1.3", percpu, readme)
    with pytest.raises(HeaderError, match=r"README\.md: since 0\.8 is wrong.*does not define"):
        headers.check_since("__percpu_kptr", "0.8", percpu, readme)
    with pytest.raises(HeaderError, match=r"README\.md: since: 'soon' is not a libbpf version"):
        headers.check_since("__kptr", "soon", kptr, readme)


def test_public_macros(pinned) -> None:
    macros = headers.public_macros(pinned.include_dir)
    names = {m.name for m in macros}
    assert {"__kptr", "SEC", "BPF_PROG", "BPF_CORE_READ", "bpf_htons"} <= names
    assert not [n for n in names if n.startswith("___")]
    assert "__BPF_HELPERS__" not in names
    kptr = next(m for m in macros if m.name == "__kptr")
    assert kptr.header == "bpf_helpers.h" and not kptr.function_like
    assert next(m for m in macros if m.name == "SEC").function_like
