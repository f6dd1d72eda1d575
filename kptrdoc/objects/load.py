"""``load_object(path)``: a compiled BPF object turned into a :class:`BpfObject`."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

from kptrdoc.btf import parse_btf, parse_btf_ext
from kptrdoc.btf.errors import BTFError
from kptrdoc.elf import ElfObject
from kptrdoc.errors import KptrdocError
from kptrdoc.objects.datasecs import global_sections
from kptrdoc.objects.externs import collect_externs
from kptrdoc.objects.lines import line_info
from kptrdoc.objects.listing import Listing
from kptrdoc.objects.maps import parse_maps
from kptrdoc.objects.model import BpfObject, ObjectError
from kptrdoc.objects.programs import collect_programs


def load_object(path: str | Path, strict: bool = True) -> BpfObject:
    """Read programs, maps, globals and externs of the object at ``path``.

    ``strict`` (the default) raises :class:`ObjectError` for a malformed map
    definition, as libbpf refuses to open such an object; otherwise the map is
    left out and its message kept in ``problems`` (for pages that show a
    mistake libbpf rejects).
    The result is remembered for the file's current size and modification
    time, so the handler, the coverage page and the matrix report share one
    reading of each object during a build.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return _load(path, strict)  # ElfObject.open names the file and the error
    return _load_cached(path.resolve(), strict, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _load_cached(path: Path, strict: bool, size: int, mtime_ns: int) -> BpfObject:
    return _load(path, strict)


def _load(path: Path, strict: bool) -> BpfObject:
    elf = ElfObject.open(path)
    if elf.machine != "EM_BPF":
        raise ObjectError(f"{path}: not a BPF object (machine {elf.machine})")
    raw = elf.btf
    notes: list[str] = []
    problems: list[str] = []
    spec = None
    ext = None
    if raw is None:
        notes.append("no .BTF section: compile with -g for maps, types and expectations")
    else:
        try:
            spec = parse_btf(raw)
        except BTFError as exc:
            raise ObjectError(f"{path}: .BTF: {exc}") from None
        raw_ext = elf.btf_ext
        if raw_ext is not None:
            try:
                ext = parse_btf_ext(raw_ext, spec)
            except BTFError as exc:
                notes.append(f".BTF.ext not read: {exc}")
    try:
        maps = parse_maps(spec, elf, None if strict else problems)
        data_sections = global_sections(spec, elf)
        externs, extern_sections = collect_externs(spec, elf)
        lines = line_info(ext)
        listing = Listing(elf, spec, ext, externs, helper_names())
        programs = collect_programs(spec, elf, lines, listing)
        subprograms = collect_programs(spec, elf, lines, listing, text=True)
    except BTFError as exc:
        raise ObjectError(f"{path}: {exc}") from None
    license_bytes = elf.section_data("license")
    license_text = (
        license_bytes.split(b"\0", 1)[0].decode(errors="replace") if license_bytes else None
    )
    return BpfObject(
        path=path,
        license=license_text,
        programs=tuple(programs),
        maps=tuple(maps),
        data_sections=tuple(data_sections + extern_sections),
        externs=tuple(externs),
        notes=tuple(notes),
        problems=tuple(problems),
        elf=elf,
        btf=spec,
        btf_ext=ext,
        subprograms=tuple(subprograms),
    )


@functools.cache
def helper_names() -> Mapping[int, str] | None:
    """BPF helper names by id, from the pinned libbpf's ``bpf_helper_defs.h``; ``None``
    without it (calls then print as ``call #N``)."""
    from kptrdoc.insn import pinned_helper_names

    try:
        return pinned_helper_names()
    except KptrdocError:
        return None
