"""An ELF object (a compiled BPF program) → sections, symbols, programs, raw BTF.

Read through pyelftools. Everything is read once into memory; the returned
:class:`ElfObject` holds no open file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError as _PyElfError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

from kptrdoc.errors import KptrdocError

ELF_MAGIC = b"\x7fELF"
BPF_INSN_SIZE = 8


class ElfError(KptrdocError):
    """The file is not a readable ELF object; the message names the file."""


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    section: str | None  # None for undefined / absolute / common symbols
    value: int  # offset into the section for relocatable objects
    size: int
    type: str  # "FUNC", "OBJECT", "NOTYPE", "SECTION", "FILE", ...
    binding: str  # "GLOBAL", "LOCAL", "WEAK"
    visibility: str  # "DEFAULT", "HIDDEN", ...


@dataclass(frozen=True, slots=True)
class Relocation:
    offset: int  # r_offset into the section being relocated
    symbol: str  # name of the symbol (section name for section symbols)
    symbol_section: str | None
    type: int  # R_BPF_* number
    addend: int | None


@dataclass(frozen=True, slots=True)
class Program:
    """A FUNC symbol in an executable section: one BPF program or subprogram."""

    name: str
    section: str  # the SEC("...") name, e.g. "tp_btf/task_newtask"
    offset: int  # bytes from the section start
    size: int  # bytes
    binding: str

    @property
    def insn_offset(self) -> int:
        return self.offset // BPF_INSN_SIZE

    @property
    def insn_count(self) -> int:
        return self.size // BPF_INSN_SIZE


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    index: int
    type: str  # "SHT_PROGBITS", "SHT_NOBITS", ...
    flags: int
    size: int
    data: bytes  # empty for SHT_NOBITS

    @property
    def executable(self) -> bool:
        return bool(self.flags & SH_FLAGS.SHF_EXECINSTR)


@dataclass(frozen=True)
class ElfObject:
    path: str
    byte_order: str  # "little" or "big"
    machine: str  # e.g. "EM_BPF"
    sections: dict[str, Section]
    symbols: tuple[Symbol, ...]
    relocations: dict[str, tuple[Relocation, ...]] = field(default_factory=dict)
    """Relocations keyed by the name of the section they apply to."""

    @classmethod
    def open(cls, path: str | Path) -> ElfObject:
        return read_object(path)

    def section_data(self, name: str) -> bytes | None:
        found = self.sections.get(name)
        return None if found is None else found.data

    @property
    def btf(self) -> bytes | None:
        return self.section_data(".BTF")

    @property
    def btf_ext(self) -> bytes | None:
        return self.section_data(".BTF.ext")

    @property
    def programs(self) -> tuple[Program, ...]:
        """FUNC symbols in executable sections, by section then offset."""
        progs = [
            Program(s.name, s.section, s.value, s.size, s.binding)
            for s in self.symbols
            if s.type == "FUNC" and s.section is not None and self.sections[s.section].executable
        ]
        progs.sort(key=lambda p: (self.sections[p.section].index, p.offset))
        return tuple(progs)

    def symbols_in(self, section: str) -> list[Symbol]:
        return [s for s in self.symbols if s.section == section]


def read_object(path: str | Path) -> ElfObject:
    """Read an ELF object; :class:`ElfError` naming ``path`` for anything unreadable."""
    path = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ElfError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_object(data, path)


def parse_object(data: bytes, path: str = "<bytes>") -> ElfObject:
    if not data.startswith(ELF_MAGIC):
        raise ElfError(f"{path}: not an ELF file (expected the magic 7f 45 4c 46)")
    try:
        return _parse(data, path)
    except (_PyElfError, ValueError, KeyError, IndexError, AssertionError, EOFError) as exc:
        raise ElfError(f"{path}: truncated or malformed ELF: {exc}") from None
    except Exception as exc:  # pyelftools raises construct errors on truncated input
        if type(exc).__module__.startswith("elftools"):
            raise ElfError(f"{path}: truncated or malformed ELF: {exc}") from None
        raise


SKIPPED_RELOCATION_TARGETS = (".debug", ".BTF")
"""Sections whose relocations are not read (debug info and BTF)."""


def _parse(data: bytes, path: str) -> ElfObject:
    elf = ELFFile(io.BytesIO(data))
    sections: dict[str, Section] = {}
    names_by_index: dict[int, str] = {}
    for index, sec in enumerate(elf.iter_sections()):
        sh = sec.header
        if sh["sh_type"] != "SHT_NOBITS" and sh["sh_offset"] + sh["sh_size"] > len(data):
            raise ElfError(f"{path}: section {sec.name!r} runs past the end of the file")
        body = b"" if sh["sh_type"] == "SHT_NOBITS" else sec.data()
        names_by_index[index] = sec.name
        sections[sec.name] = Section(
            sec.name, index, str(sh["sh_type"]), int(sh["sh_flags"]), int(sh["sh_size"]), body
        )
    symbols: list[Symbol] = []
    symtab = elf.get_section_by_name(".symtab")
    if isinstance(symtab, SymbolTableSection):
        for sym in symtab.iter_symbols():
            shndx = sym["st_shndx"]
            sec_name = names_by_index.get(shndx) if isinstance(shndx, int) else None
            name = sym.name
            if sym["st_info"]["type"] == "STT_SECTION" and not name and sec_name:
                name = sec_name
            symbols.append(
                Symbol(
                    name=name,
                    section=sec_name,
                    value=int(sym["st_value"]),
                    size=int(sym["st_size"]),
                    type=str(sym["st_info"]["type"]).removeprefix("STT_"),
                    binding=str(sym["st_info"]["bind"]).removeprefix("STB_"),
                    visibility=str(sym["st_other"]["visibility"]).removeprefix("STV_"),
                )
            )
    relocations: dict[str, tuple[Relocation, ...]] = {}
    for sec in elf.iter_sections():
        if not isinstance(sec, RelocationSection):
            continue
        target = names_by_index.get(sec.header["sh_info"])
        # DWARF and .BTF.ext carry thousands of relocations nobody here reads
        if target is None or target.startswith(SKIPPED_RELOCATION_TARGETS):
            continue
        rels = []
        for rel in sec.iter_relocations():
            sym_index = rel["r_info_sym"]
            sym = symbols[sym_index] if 0 <= sym_index < len(symbols) else None
            rels.append(
                Relocation(
                    offset=int(rel["r_offset"]),
                    symbol=sym.name if sym else "",
                    symbol_section=sym.section if sym else None,
                    type=int(rel["r_info_type"]),
                    addend=int(rel["r_addend"]) if rel.is_RELA() else None,
                )
            )
        relocations[target] = tuple(rels)
    return ElfObject(
        path=path,
        byte_order="little" if elf.little_endian else "big",
        machine=str(elf["e_machine"]),
        sections=sections,
        symbols=tuple(symbols),
        relocations=relocations,
    )
