"""Helper names from the pinned ``bpf_helper_defs.h``, checked against the UAPI header.

``linux/bpf.h`` lists the helpers in ``__BPF_FUNC_MAPPER`` in id order
(``FN(name)`` in older headers, ``FN(name, id, ...)`` in newer ones): an
independent source for the id -> name table.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kptrdoc.insn import HelperDefsError, parse_helper_names, pinned_helper_names, read_helper_names
from kptrdoc.toolchain import libbpf

UAPI = Path("/usr/include/linux/bpf.h")


def uapi_helpers(text: str) -> dict[int, str]:
    start = text.index("#define __BPF_FUNC_MAPPER(FN")
    body = text[start : text.index("/* */", start)]
    names: dict[int, str] = {}
    for position, m in enumerate(re.finditer(r"FN\((\w+)(?:,\s*(\d+))?", body)):
        names[int(m.group(2)) if m.group(2) else position] = m.group(1)
    return names


@pytest.mark.skipif(not UAPI.exists(), reason="no /usr/include/linux/bpf.h (linux-libc-dev)")
def test_pinned_names_agree_with_uapi() -> None:
    ours = pinned_helper_names()
    theirs = uapi_helpers(UAPI.read_text())
    common = set(ours) & set(theirs)
    assert len(common) >= 200, f"only {len(common)} helper ids in both"
    wrong = {i: (ours[i], theirs[i]) for i in common if ours[i] != f"bpf_{theirs[i]}"}
    assert not wrong
    assert ours[1] == "bpf_map_lookup_elem" and ours[194] == "bpf_kptr_xchg"
    assert 0 not in ours  # "unspec" is no helper


def test_read_from_directory_or_file(tmp_path: Path) -> None:
    bpf_dir = libbpf().include_dir / "bpf"
    assert read_helper_names(bpf_dir) == read_helper_names(bpf_dir / "bpf_helper_defs.h")
    with pytest.raises(HelperDefsError, match="cannot read"):
        read_helper_names(tmp_path / "missing.h")
    empty = tmp_path / "bpf_helper_defs.h"
    empty.write_text("/* nothing */\n")
    with pytest.raises(HelperDefsError, match="no helper declarations"):
        read_helper_names(tmp_path)


def test_declaration_forms() -> None:
    text = """
    static void *(* const bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;
    static long (*const bpf_split)(void *map,
                                   __u64 flags) = (void *)  77 ;
    static long (* bpf_not_const)(void) = (void *) 3;
    """
    assert parse_helper_names(text) == {1: "bpf_map_lookup_elem", 77: "bpf_split"}
