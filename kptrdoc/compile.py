"""Compile a sample (``*.bpf.c``) into a BPF object, cached by what went into it.

The cache lives in ``cache_dir()/objects``. An object's key is the sha256 of
the source, of every header clang read for it (from clang's own dependency
output), of the clang version and of the flags. A lookup reads the header
list recorded by the previous compile of the same source and flags, hashes
those headers again and uses the object only if nothing changed.

Writers never expose a half-written file: everything is written under a
unique temporary name and renamed into place, so concurrent pytest-xdist
workers can compile the same sample at the same time.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kptrdoc import toolchain
from kptrdoc.errors import KptrdocError


class CompileError(KptrdocError):
    """clang could not compile a sample; ``diagnostics`` holds its file:line messages."""

    def __init__(self, source: Path, diagnostics: str) -> None:
        self.source = source
        self.diagnostics = diagnostics
        first = next((ln for ln in diagnostics.splitlines() if "error" in ln), "clang failed")
        super().__init__(f"{source}: does not compile: {first.strip()}")


@dataclass(frozen=True)
class CompiledObject:
    """A compiled sample: where its object is and what made it."""

    source: Path
    path: Path
    key: str
    cached: bool
    clang_version: str
    flags: tuple[str, ...]
    dependencies: tuple[Path, ...]
    diagnostics: str = ""


def compile_flags(src: Path) -> list[str]:
    """The clang flags for one sample, include paths included."""
    return [
        "-g",
        "-O2",
        "-target",
        "bpf",
        f"-D__TARGET_ARCH_{toolchain.target_arch()}",
        "-Wall",
        "-I",
        str(toolchain.libbpf().include_dir),
        "-I",
        str(toolchain.vmlinux_h().parent),
        "-I",
        str(toolchain.kptrdoc_include_dir()),
        "-I",
        str(src.resolve().parent),
    ]


def objects_dir() -> Path:
    path = toolchain.cache_dir() / "objects"
    path.mkdir(parents=True, exist_ok=True)
    return path


def compile_sample(src: Path) -> CompiledObject:
    """Compile ``src`` (or reuse the cached object); raise :class:`CompileError` on failure."""
    src = Path(src).resolve()
    try:
        source_bytes = src.read_bytes()
    except OSError as exc:
        raise CompileError(src, f"{src}: cannot read ({exc.strerror})") from None
    clang = toolchain.clang()
    version = toolchain.clang_version(clang)
    flags = compile_flags(src)
    base = _digest([b"kptrdoc-compile-1", str(src).encode(), source_bytes,
                    version.encode(), "\0".join(flags).encode()])  # fmt: skip
    cache = objects_dir()
    manifest = cache / f"{base}.deps.json"

    hit = _lookup(manifest, base, cache)
    if hit is not None:
        key, deps, diagnostics = hit
        return CompiledObject(src, cache / f"{key}.o", key, True, version, tuple(flags),
                              deps, diagnostics)  # fmt: skip
    return _compile(src, clang, version, flags, base, cache, manifest)


def _digest(parts: list[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def _full_key(base: str, deps: list[Path]) -> str | None:
    """The key of ``base`` plus the current content of each header; None if one is gone."""
    parts = [base.encode()]
    for dep in deps:
        try:
            parts.append(str(dep).encode())
            parts.append(dep.read_bytes())
        except OSError:
            return None
    return _digest(parts)


def _lookup(manifest: Path, base: str, cache: Path) -> tuple[str, tuple[Path, ...], str] | None:
    try:
        data = json.loads(manifest.read_text())
        deps = [Path(p) for p in data["deps"]]
        diagnostics = str(data.get("diagnostics", ""))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    key = _full_key(base, deps)
    if key is None or not (cache / f"{key}.o").exists():
        return None
    return key, tuple(deps), diagnostics


def _compile(
    src: Path, clang: Path, version: str, flags: list[str], base: str, cache: Path, manifest: Path
) -> CompiledObject:
    with tempfile.TemporaryDirectory(prefix="compile-", dir=cache) as tmp:
        obj = Path(tmp) / "out.o"
        depfile = Path(tmp) / "out.d"
        cmd = [str(clang), *flags, "-MD", "-MF", str(depfile), "-c", str(src), "-o", str(obj)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise CompileError(src, proc.stderr.strip() or f"clang exited {proc.returncode}")
        deps = [d for d in _parse_depfile(depfile.read_text()) if d != src]
        key = _full_key(base, deps)
        if key is None:
            raise CompileError(src, "a header changed or vanished while compiling; run again")
        final = cache / f"{key}.o"
        os.replace(obj, final)
        _write_atomic(manifest, json.dumps({
            "source": str(src), "deps": [str(d) for d in deps],
            "diagnostics": proc.stderr.strip(),
        }, indent=1))  # fmt: skip
    return CompiledObject(src, final, key, False, version, tuple(flags), tuple(deps),
                          proc.stderr.strip())  # fmt: skip


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _parse_depfile(text: str) -> list[Path]:
    """The prerequisites of a Makefile rule as clang's ``-MD`` writes it."""
    text = text.replace("\\\n", " ")
    _, _, prereqs = text.partition(": ")
    words: list[str] = []
    current = ""
    i = 0
    while i < len(prereqs):
        ch = prereqs[i]
        if ch == "\\" and i + 1 < len(prereqs) and prereqs[i + 1] == " ":
            current += " "
            i += 2
            continue
        if ch.isspace():
            if current:
                words.append(current)
            current = ""
        else:
            current += ch
        i += 1
    if current:
        words.append(current)
    seen: dict[Path, None] = {}
    for word in words:
        seen.setdefault(Path(word).resolve(), None)
    return list(seen)
