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

import contextlib
import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kptrdoc import toolchain
from kptrdoc.errors import KptrdocError
from kptrdoc.variants import DEFAULT, Variant


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


@dataclass(frozen=True)
class Inputs:
    """The directories a compile reads, each staged under a fixed name (see :func:`_staged`)."""

    sample_dir: Path
    libbpf: Path
    vmlinux: Path
    kptrdoc: Path
    uapi: Path | None = None
    """linux-libc-dev's tree, for a variant built for another architecture."""

    def staged(self) -> dict[str, Path]:
        """Stage name -> real directory."""
        out = {
            f"samples/{self.sample_dir.name}": self.sample_dir,
            "libbpf": self.libbpf,
            "vmlinux": self.vmlinux,
            "kptrdoc": self.kptrdoc,
        }
        if self.uapi is not None:
            out["uapi"] = self.uapi
        return out


def inputs(src: Path, variant: Variant = DEFAULT) -> Inputs:
    src = src.resolve()
    return Inputs(
        sample_dir=src.parent,
        libbpf=toolchain.libbpf().include_dir,
        vmlinux=toolchain.vmlinux_h(src.parent).parent,
        kptrdoc=toolchain.kptrdoc_include_dir(),
        uapi=toolchain.uapi_headers() if variant.foreign else None,
    )


def compile_flags(src: Path, variant: Variant = DEFAULT) -> list[str]:
    """The clang flags for one sample, include paths included (as a user would type them).

    ``-fms-extensions`` (quietly): 7.x kernels have anonymous members of named struct
    types (the kernel itself is built with it); without it clang drops them
    and the sizes in ``vmlinux.h`` are wrong. ``variant`` sets the target,
    ``-mcpu`` and ``__TARGET_ARCH_*`` (:mod:`kptrdoc.variants`); a build for an
    architecture (``arch=``) includes ``kptrdoc/include/foreign/vmlinux.h``, that
    architecture's uapi types, where the sample includes ``vmlinux.h``.
    """
    where = inputs(src, variant)
    # a build for another architecture finds kptrdoc's stand-in vmlinux.h (that
    # architecture's uapi types) before this machine's
    foreign = ["-I", str(where.kptrdoc / "foreign")] if variant.foreign else []
    return [
        "-g",
        "-O2",
        *variant.flags(toolchain.target_arch(), where.uapi),
        *foreign,
        "-Wall",
        "-fms-extensions",
        "-Wno-microsoft-anon-tag",
        "-I",
        str(where.libbpf),
        "-I",
        str(where.vmlinux),
        "-I",
        str(where.kptrdoc),
        "-I",
        str(where.sample_dir),
        *toolchain.multiarch_includes(),
    ]


STAGE_PARENT = Path("/tmp")
"""Where staging directories are made: a fixed place, so their paths have one length."""
STAGE_ROOT = "."
"""The name the staging directory has in the object's debug info: relative, so clang
(run inside it) can still read each source line that ``.BTF.ext`` line info carries,
and the object names no directory of the machine."""


@contextlib.contextmanager
def _staged(where: Inputs) -> Iterator[Path]:
    """A directory ``/tmp/kptrdoc-cc-XXXXXXXX`` holding the inputs under fixed names.

    The same commit must compile to the same bytes in any clone. Mapping the
    paths (``-ffile-prefix-map``) fixes the debug info, but clang 19 orders
    forward-declared types in ``.BTF`` by heap address, which moves with the
    length of the paths it reads. So clang reads every input from a staging
    directory whose path is equally long everywhere: the files are hard
    links (copies across file systems), never symbolic links, whose real
    paths clang would record.
    """
    stage = Path(tempfile.mkdtemp(prefix="kptrdoc-cc-", dir=STAGE_PARENT))
    try:
        for name, real in where.staged().items():
            _link_tree(real, stage / name, recursive=name != f"samples/{where.sample_dir.name}")
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _link_tree(src: Path, dest: Path, recursive: bool) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        if entry.is_dir():
            if recursive:
                _link_tree(entry, dest / entry.name, recursive)
            continue
        if not entry.is_file() or (not recursive and entry.suffix not in (".c", ".h")):
            continue
        try:
            os.link(entry, dest / entry.name)
        except OSError:
            shutil.copyfile(entry, dest / entry.name)


def objects_dir() -> Path:
    path = toolchain.cache_dir() / "objects"
    path.mkdir(parents=True, exist_ok=True)
    return path


def compile_sample(src: Path, variant: Variant = DEFAULT) -> CompiledObject:
    """Compile ``src`` as ``variant`` (or reuse the cached object); raise
    :class:`CompileError` on failure (also for a variant that expects an error:
    the caller compares the diagnostics with it)."""
    src = Path(src).resolve()
    try:
        source_bytes = src.read_bytes()
    except OSError as exc:
        raise CompileError(src, f"{src}: cannot read ({exc.strerror})") from None
    clang = toolchain.clang()
    version = toolchain.clang_version(clang)
    flags = compile_flags(src, variant)
    base = _digest([b"kptrdoc-compile-3", str(src).encode(), source_bytes,
                    version.encode(), "\0".join(flags).encode()])  # fmt: skip
    cache = objects_dir()
    manifest = cache / f"{base}.deps.json"

    hit = _lookup(manifest, base, cache)
    if hit is not None:
        key, deps, diagnostics = hit
        return CompiledObject(src, cache / f"{key}.o", key, True, version, tuple(flags),
                              deps, diagnostics)  # fmt: skip
    return _compile(src, clang, version, flags, base, cache, manifest, variant)


def loadable_samples(root: Path) -> list[Path]:
    """The ``*/*.bpf.c`` under ``root`` that have a build this machine loads (samples whose
    point is a compiler error, or another architecture, have none)."""
    from kptrdoc.variants import main_variant

    return [
        src
        for src in sorted(Path(root).glob("*/*.bpf.c"))
        if main_variant(src, toolchain.target_arch()) is not None
    ]


def compile_main(src: Path) -> CompiledObject:
    """The sample's example build: its first variant this machine loads."""
    from kptrdoc.variants import DEFAULT, main_variant

    return compile_sample(src, main_variant(src, toolchain.target_arch()) or DEFAULT)


def compile_all(
    sources: list[Path], jobs: int | None = None
) -> dict[Path, CompiledObject | KptrdocError]:
    """Compile every sample's main build (:func:`kptrdoc.variants.main_variant`) on all
    cores: clang runs as a subprocess, so threads keep every core busy. Each source
    maps to its object or to the error that stopped it; sources with nothing to
    load (only compiler errors or other architectures) are left out."""
    from concurrent.futures import ThreadPoolExecutor

    from kptrdoc.variants import main_variant

    def one(src: Path) -> tuple[Path, CompiledObject | KptrdocError | None]:
        try:
            variant = main_variant(src, toolchain.target_arch())
            return src, None if variant is None else compile_sample(src, variant)
        except KptrdocError as exc:
            return src, exc

    toolchain.vmlinux_h(sources[0].parent if sources else None)  # made once, before the pool
    workers = max(1, min(jobs or os.cpu_count() or 1, len(sources)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(one, sources))
    return {src: result for src, result in done if result is not None}


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
            parts.append(file_digest(dep))
        except OSError:
            return None
    return _digest(parts)


def file_digest(path: Path) -> bytes:
    """A file's content hash, computed once per process for each size and mtime it has
    (headers of every compile, the record for every page)."""
    stat = path.stat()
    return _file_digest(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=1024)
def _file_digest(path: Path, size: int, mtime_ns: int) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


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
    src: Path,
    clang: Path,
    version: str,
    flags: list[str],
    base: str,
    cache: Path,
    manifest: Path,
    variant: Variant,
) -> CompiledObject:
    where = inputs(src, variant)
    with _staged(where) as stage:
        real = {stage / name: path for name, path in where.staged().items()}
        staged_flags = [_restage(f, real) for f in flags] + [
            f"-ffile-prefix-map={stage}={STAGE_ROOT}",
            f"-fdebug-compilation-dir={STAGE_ROOT}",
        ]
        staged_src = stage / "samples" / src.parent.name / src.name
        obj = stage / "out.o"
        depfile = stage / "out.d"
        cmd = [str(clang), *staged_flags, "-MD", "-MF", str(depfile), "-c", str(staged_src),
               "-o", str(obj)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=stage)
        stderr = proc.stderr
        for staged, path in sorted(real.items(), key=lambda kv: -len(str(kv[0]))):
            stderr = stderr.replace(str(staged), str(path))
        if proc.returncode != 0:
            raise CompileError(src, stderr.strip() or f"clang exited {proc.returncode}")
        deps = [_unstage(d, real) for d in _parse_depfile(depfile.read_text(), stage)]
        deps = [d for d in deps if d != src]
        key = _full_key(base, deps)
        if key is None:
            raise CompileError(src, "a header changed or vanished while compiling; run again")
        final = cache / f"{key}.o"
        os.replace(obj, final)
        _write_atomic(manifest, json.dumps({
            "source": str(src), "deps": [str(d) for d in deps],
            "diagnostics": stderr.strip(),
        }, indent=1))  # fmt: skip
    return CompiledObject(src, final, key, False, version, tuple(flags), tuple(deps),
                          stderr.strip())  # fmt: skip


def _restage(flag: str, real: dict[Path, Path]) -> str:
    """A flag naming a real input directory (or a path inside it), staged."""
    for staged, original in real.items():
        if flag == str(original) or flag.startswith(str(original) + "/"):
            return str(staged) + flag[len(str(original)) :]
    return flag


def _unstage(path: Path, real: dict[Path, Path]) -> Path:
    """The real file behind a staged path (the dependency cache keys on real headers)."""
    for staged, original in real.items():
        if path.is_relative_to(staged):
            return original / path.relative_to(staged)
    return path


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _parse_depfile(text: str, cwd: Path | None = None) -> list[Path]:
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
        path = Path(word) if cwd is None else cwd / word
        seen.setdefault(Path(os.path.normpath(path)), None)
    return list(seen)
