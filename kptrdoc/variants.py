"""Build variants: how a sample asks to be compiled, and what it expects of the compiler.

A sample is built once with the default flags unless it says otherwise, on
lines of its own anywhere in the file::

    // kptrdoc: build cpu=v4
    // kptrdoc: build target=bpfeb
    // kptrdoc: build arch=arm64
    // kptrdoc: build arch=x86 error="no member named '__unsupported__'"

Each ``build`` line is one variant (the settings of one line combine). The
first variant is the one loaded into kernels and shown as the example; the
others are compiled (and read back) for their evidence. ``error="..."``
marks a variant whose point is a compiler error: the compile must fail and
clang's diagnostics must contain the text. A failed compile leaves no
object, so this expectation is read from the source, not from BTF.

- ``cpu``: ``v1`` .. ``v4`` (clang's ``-mcpu``; its default is v1);
- ``target``: ``bpf`` (the host's byte order), ``bpfel`` or ``bpfeb``;
- ``arch``: the ``__TARGET_ARCH_*`` of ``bpf_tracing.h`` (``x86``, ``arm64``,
  ``s390``, ``riscv``, ``powerpc``, ``loongarch``, ``arm``, ``mips``, ``sparc``,
  ``arc``), with that architecture's uapi headers; ``#include "vmlinux.h"``
  then finds kptrdoc's stand-in (``kptrdoc/include/foreign/vmlinux.h``), those
  uapi types. Such a build is compiled, never loaded (not even for this
  machine's architecture: the kernel's types are not the uapi ones).
  ``arch=none`` leaves ``__TARGET_ARCH_*`` out, as a build that forgot it.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from kptrdoc.errors import KptrdocError

MARKER = re.compile(r"^\s*//\s*kptrdoc:\s*(?P<body>.*?)\s*$")
CPUS = ("v1", "v2", "v3", "v4")
TARGETS = ("bpf", "bpfel", "bpfeb")
ARCHES = ("x86", "arm64", "s390", "riscv", "powerpc", "loongarch", "arm", "mips", "sparc", "arc")
UAPI_DIRS = {"x86": "x86", "arm64": "arm64", "s390": "s390", "riscv": "riscv",
             "powerpc": "powerpc", "loongarch": "loongarch", "arm": "arm", "mips": "mips",
             "sparc": "sparc", "arc": "arc"}  # fmt: skip
"""``__TARGET_ARCH_*`` name -> folder under linux-libc-dev's ``/usr/lib/linux/uapi/``."""
NO_ARCH = "none"
"""``arch=none``: no ``-D__TARGET_ARCH_*`` at all."""


class VariantError(KptrdocError):
    """A ``// kptrdoc:`` line that cannot be read: names the file and line."""


@dataclass(frozen=True)
class Variant:
    cpu: str | None = None
    """``-mcpu``; ``None``: clang's default."""
    target: str = "bpf"
    arch: str | None = None
    """``None``: the build machine's architecture."""
    error: str | None = None
    """The compiler error this variant must produce."""

    @property
    def label(self) -> str:
        """``cpu=v4,target=bpfeb``; ``default`` for the plain build (no spaces: it is
        part of test ids)."""
        parts = [f"cpu={self.cpu}"] if self.cpu else []
        if self.target != "bpf":
            parts.append(f"target={self.target}")
        if self.arch:
            parts.append(f"arch={self.arch}")
        return ",".join(parts) or "default"

    @property
    def foreign(self) -> bool:
        """Built for a named architecture, from its uapi headers."""
        return self.arch is not None and self.arch != NO_ARCH

    def native(self, host_arch: str) -> bool:
        """Whether the build machine's kernel loads what this variant builds. A build for a
        named architecture never is, even this machine's: it takes the kernel's types from
        that architecture's uapi headers (``kptrdoc/include/foreign/vmlinux.h``), not from
        the kernel's BTF, and is compiled for its evidence only."""
        order = "bpfeb" if sys.byteorder == "big" else "bpfel"
        return self.error is None and self.target in ("bpf", order) and self.arch is None

    def flags(self, host_arch: str, uapi: Path | None) -> list[str]:
        """The clang flags this variant adds to (or changes in) the default ones."""
        out = ["-target", self.target]
        if self.arch != NO_ARCH:
            out.append(f"-D__TARGET_ARCH_{self.arch or host_arch}")
        if self.cpu:
            out.append(f"-mcpu={self.cpu}")
        if self.foreign and uapi is not None:
            out += ["-I", str(uapi / "usr" / "lib" / "linux" / "uapi" / UAPI_DIRS[self.arch]),
                    "-idirafter", str(uapi / "usr" / "include")]  # fmt: skip
        return out


DEFAULT = Variant()


def marker_lines(text: str) -> tuple[int, ...]:
    """The 1-based lines that are ``// kptrdoc:`` lines (what :func:`read_variants` reads)."""
    return tuple(n for n, line in enumerate(text.splitlines(), start=1) if MARKER.match(line))


def read_variants(src: Path, text: str | None = None) -> tuple[Variant, ...]:
    """The variants a sample asks for, in the order written; ``(DEFAULT,)`` when none."""
    if text is None:
        try:
            text = src.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise VariantError(f"{src}: cannot read ({exc.strerror})") from None
    found: list[Variant] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = MARKER.match(line)
        if not match:
            continue
        where = f"{src}:{number}"
        try:
            words = shlex.split(match["body"])
        except ValueError as exc:
            raise VariantError(f"{where}: {exc}") from None
        if not words or words[0] != "build":
            raise VariantError(f"{where}: unknown kptrdoc line (expected 'kptrdoc: build ...')")
        found.append(_variant(words[1:], where))
    if len(set(found)) != len(found):
        raise VariantError(f"{src}: the same build variant twice")
    return tuple(found) or (DEFAULT,)


def _variant(words: list[str], where: str) -> Variant:
    settings: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or key not in ("cpu", "target", "arch", "error") or key in settings:
            raise VariantError(
                f"{where}: {word!r}: expected cpu=, target=, arch= or error=, each once"
            )
        settings[key] = value
    if "cpu" in settings and settings["cpu"] not in CPUS:
        raise VariantError(f"{where}: cpu={settings['cpu']}: expected one of {', '.join(CPUS)}")
    if settings.get("target", "bpf") not in TARGETS:
        raise VariantError(f"{where}: target={settings['target']}: expected {', '.join(TARGETS)}")
    if "arch" in settings and settings["arch"] not in (*ARCHES, NO_ARCH):
        raise VariantError(
            f"{where}: arch={settings['arch']}: expected one of {', '.join(ARCHES)} or {NO_ARCH}"
        )
    if "error" in settings and not settings["error"]:
        raise VariantError(f"{where}: error= needs the text clang must print")
    return Variant(settings.get("cpu"), settings.get("target", "bpf"), settings.get("arch"),
                   settings.get("error"))  # fmt: skip


def main_variant(src: Path, host_arch: str) -> Variant | None:
    """The variant that is loaded into kernels and shown as the example: the first one
    the build machine can load; ``None`` when the sample has none (only compiler
    errors, or only other architectures)."""
    return next((v for v in read_variants(src) if v.native(host_arch)), None)
