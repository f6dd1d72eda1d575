"""Helpers shared by the object-model tests: compiling fixtures, reading pahole."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def compile_fixture(src: Path, out_dir: Path, extra: list[str] | None = None) -> Path:
    from kptrdoc.toolchain import clang, libbpf, vmlinux_h

    out = out_dir / (src.name.removesuffix(".c") + ".o")
    cmd = [
        str(clang()),
        "-g",
        "-O2",
        "-target",
        "bpf",
        "-D__TARGET_ARCH_x86",
        "-I",
        str(libbpf().include_dir),
        "-I",
        str(vmlinux_h().parent),
        *(extra or []),
        "-c",
        str(src),
        "-o",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"clang failed on {src.name}:\n{proc.stderr}")
    return out


MEMBER = re.compile(r"^\t\S.*?(\w+)(?:\[\d+\])*(?::\d+)?;\s+/\*\s+(\d+)(?::\s*\d+)?\s+(\d+)\s+\*/")
HOLE = re.compile(r"^\t/\* XXX (\d+) bytes? hole")
PADDING = re.compile(r"/\* padding: (\d+) \*/")


def pahole(path, name: str) -> tuple[list[tuple[str, int, int]], list[tuple[str, int]], int]:
    out = subprocess.run(
        ["pahole", "-F", "btf", "-C", name, str(path)], capture_output=True, text=True, check=True
    ).stdout
    members: list[tuple[str, int, int]] = []
    holes: list[tuple[str, int]] = []
    padding = 0
    for line in out.splitlines():
        if m := MEMBER.match(line):
            members.append((m.group(1), int(m.group(2)), int(m.group(3))))
        elif m := HOLE.match(line):
            holes.append((members[-1][0], int(m.group(1))))
        elif m := PADDING.search(line):
            padding = int(m.group(1))
    return members, holes, padding
