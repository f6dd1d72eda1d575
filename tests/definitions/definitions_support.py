"""Independent truth for the definition tests: what ``clang -E -dM`` says a macro is."""

from __future__ import annotations

import platform
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

HEADERS = ("bpf_helpers.h", "bpf_tracing.h", "bpf_core_read.h", "bpf_endian.h", "usdt.bpf.h")


def _host_asm() -> list[str]:
    for folder in sorted(Path("/usr/include").glob(f"{platform.machine()}-linux-*")):
        if (folder / "asm").is_dir():
            return ["-idirafter", str(folder)]
    return []


def final_macros(
    flags: Sequence[str], tmp: Path, vmlinux: bool = True, headers: Sequence[str] = HEADERS
) -> dict[str, str]:
    """Every macro clang has at the end of a unit that includes vmlinux.h and the five
    headers, as ``-dM`` prints it: name -> ``NAME(params) body`` (one line)."""
    unit = tmp / "unit.c"
    lines = ["#include <vmlinux.h>"] if vmlinux else []
    unit.write_text("\n".join([*lines, *(f"#include <bpf/{h}>" for h in headers)]) + "\n")
    cmd = ["clang-19", *flags, *_host_asm(), "-E", "-dM", str(unit)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    macros = {}
    for line in out.splitlines():
        match = re.match(r"#define ([A-Za-z_]\w*)(.*)$", line)
        if match:
            macros[match.group(1)] = match.group(1) + match.group(2)
    return macros


def squeeze(text: str) -> str:
    """A definition without ``#define``, comments, continuations and any whitespace."""
    text = text.replace("\\\n", " ")
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^\s*#\s*define\s+", "", text)
    return re.sub(r"\s+", "", text)
