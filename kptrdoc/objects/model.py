"""The object model: what a compiled BPF object holds, as frozen dataclasses.

Everything here is plain data; :mod:`kptrdoc.objects.load` builds it and
:mod:`kptrdoc.objects.jsonout` turns it into JSON with stable keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from kptrdoc.btf.ext import BTFExt
from kptrdoc.btf.spec import Spec
from kptrdoc.elf import ElfObject
from kptrdoc.errors import KptrdocError
from kptrdoc.expectations import Expectation
from kptrdoc.insn import Instruction


class ObjectError(KptrdocError):
    """A BPF object that cannot be modelled: the message names the file and the part."""


@dataclass(frozen=True, slots=True)
class SpecialField:
    """A field the kernel treats specially in a map value (``btf_parse_fields``).

    ``kind`` is one of :data:`kptrdoc.objects.special.KINDS`; ``path`` is the
    C access path from the record (``"a.b[1].lock"``); ``offset`` is in bytes
    from the start of the record.
    """

    kind: str
    path: str
    offset: int
    size: int
    target: str | None = None  # pointee of a kptr/uptr ("struct bpf_cpumask")


@dataclass(frozen=True, slots=True)
class LayoutField:
    """One member of a record.

    ``bit_offset`` is from the start of the record; ``bit_size`` is the bitfield
    width, or ``8 * size`` for a member that is not a bitfield.
    """

    name: str
    offset: int
    size: int
    bit_offset: int
    bit_size: int
    bitfield: bool
    type: str  # rendered as C ("struct bpf_cpumask __kptr *")
    type_id: int
    decl: str  # the member declared in C ("struct bpf_cpumask __kptr *masks[3]")
    special: str | None  # the special kind when the member itself is one


@dataclass(frozen=True, slots=True)
class Hole:
    """Unused bytes between two members (``after`` is the member before the hole)."""

    after: str
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class Layout:
    """Layout of a type as pahole would show it, plus the kernel's special fields."""

    type: str
    type_id: int
    size: int
    align: int
    is_record: bool
    fields: tuple[LayoutField, ...] = ()
    holes: tuple[Hole, ...] = ()
    padding: int = 0  # bytes after the last member
    special: tuple[SpecialField, ...] = ()
    packed: bool = False


@dataclass(frozen=True, slots=True)
class SourceLine:
    insn: int  # instruction index within the program
    file: str
    line: int
    column: int
    text: str


@dataclass(frozen=True, slots=True)
class RelocationTarget:
    """What an ELF relocation on an instruction points at, classified as libbpf does."""

    kind: str
    """``map``, ``global``, ``subprog``, ``kfunc``, ``ksym``, ``kconfig`` or ``other``."""
    symbol: str
    """The name shown: a map, variable or function; ``.rodata.str1.1+8`` for an offset
    into a section that has no named symbol there."""
    section: str | None
    """The section the symbol is in; ``None`` for an extern."""


class Operand(StrEnum):
    """The part of an instruction a CO-RE relocation rewrites."""

    IMM = "imm"
    """ALU/ALU64 with an immediate: ``rX = V``, ``rX += V``, ``rX <<= V`` ..."""
    OFF = "off"
    """LDX/ST/STX: the offset of the memory access."""
    IMM64 = "imm64"
    """The 64-bit immediate of ``ld_imm64`` (two slots)."""
    NONE = ""
    """An instruction CO-RE cannot relocate."""


@dataclass(frozen=True, slots=True)
class CoreRelocation:
    """One CO-RE relocation record of ``.BTF.ext``, as the compiler emitted it."""

    program: str
    """The (sub)program holding the instruction."""
    section: str
    """The ELF section: ``tp_btf/task_newtask``, ``.text``."""
    index: int
    """Its position among the section's CO-RE records: libbpf's ``relo #index``."""
    insn: int
    """The slot it patches, from the start of the program."""
    kind: str
    """libbpf's name: ``byte_off``, ``byte_sz``, ``field_exists``, ``signed``, ``lshift_u64``,
    ``rshift_u64``, ``local_type_id``, ``target_type_id``, ``type_exists``,
    ``type_matches``, ``type_size``, ``enumval_exists``, ``enumval_value``."""
    type_id: int
    """The local (object BTF) root type."""
    type_name: str
    """``struct task_struct``, ``enum cpuhp_state``."""
    access: str
    """The access string (``0:95``)."""
    path: str
    """The access spelled out (``task_struct.tgid``, ``cpuhp_state::CPUHP_AP_ONLINE_DYN``)."""
    operand: Operand
    local_value: int | None
    """The operand as compiled: imm (s32), off (s16), imm64 (u64)."""
    mem_size: int | None
    """Bytes accessed, for LDX/ST/STX."""
    section_insn: int
    """The slot within the section (``.BTF.ext`` byte offset // 8)."""


@dataclass(frozen=True, slots=True)
class ProgramInsn:
    """One instruction of a program with what the object says about it."""

    insn: Instruction
    """Decoded; ``insn.index`` counts slots from the start of the program."""
    text: str
    """Kernel style, with the names relocations give (``call bpf_cpumask_create``)."""
    line: SourceLine | None = None
    """The source line in effect (the last line_info record at or before it)."""
    relocation: RelocationTarget | None = None
    core: CoreRelocation | None = None

    @property
    def index(self) -> int:
        return self.insn.index


@dataclass(frozen=True, slots=True)
class Program:
    name: str
    section: str  # as libbpf reports it: without the leading '?' of SEC("?...")
    prog_type: str | None  # "BPF_PROG_TYPE_TRACING"; None when libbpf knows no such SEC
    attach_type: str | None  # "BPF_TRACE_RAW_TP"; None when libbpf sets none
    sleepable: bool
    autoload: bool  # False for SEC("?...")
    offset: int  # bytes into its ELF section
    insns: int
    func_id: int | None  # the BTF FUNC
    decl_tags: tuple[str, ...]
    expect: Expectation  # the kptrdoc.h annotations (kptrdoc.expectations)
    lines: tuple[SourceLine, ...] = ()
    instructions: tuple[ProgramInsn, ...] = ()
    calls: tuple[str, ...] = ()
    """The subprograms it calls directly (functions in ``.text``), in call order."""

    @property
    def core_relocations(self) -> tuple[CoreRelocation, ...]:
        return tuple(i.core for i in self.instructions if i.core is not None)


@dataclass(frozen=True, slots=True)
class MapSlot:
    index: int
    target: str  # the map (map-in-map) or program (prog array) placed there


@dataclass(frozen=True, slots=True)
class MapDef:
    """A map as libbpf would create it from a BTF definition in ``.maps``."""

    name: str
    type: str  # "BPF_MAP_TYPE_HASH"
    type_num: int
    key_size: int
    value_size: int
    max_entries: int  # as libbpf creates it (ring buffers rounded up to pages)
    declared_max_entries: int
    flags: int
    numa_node: int
    pinning: str | None  # "LIBBPF_PIN_BY_NAME"; None when absent/none
    map_extra: int
    key_type_id: int | None
    value_type_id: int | None
    key: Layout | None
    value: Layout | None
    inner: MapDef | None = None
    slots: tuple[MapSlot, ...] = ()
    section_offset: int = 0  # where the definition sits in .maps


@dataclass(frozen=True, slots=True)
class GlobalVar:
    section: str
    name: str
    offset: int  # from the ELF symbol (or libbpf's rule for .kconfig/.ksyms)
    size: int
    linkage: str  # "global", "static", "extern", "hidden"
    type_id: int | None
    type: str
    layout: Layout | None


@dataclass(frozen=True, slots=True)
class DataSection:
    """An ELF data section libbpf turns into an internal array map (or an extern section)."""

    name: str  # ".bss", ".rodata.str1.1", ".kconfig"
    kind: str  # "bss", "data", "rodata", "kconfig", "ksyms"
    map_name: str | None  # internal map name as libbpf builds it; None for .ksyms
    value_size: int | None
    flags: int
    variables: tuple[GlobalVar, ...]


@dataclass(frozen=True, slots=True)
class Extern:
    name: str
    kind: str  # "kfunc", "ksym", "kconfig"
    weak: bool
    type_id: int
    signature: str


@dataclass(frozen=True, slots=True)
class BpfObject:
    """A compiled BPF object, read once: the only way into one (``load_object``)."""

    path: Path
    license: str | None
    programs: tuple[Program, ...]
    maps: tuple[MapDef, ...]
    data_sections: tuple[DataSection, ...]
    externs: tuple[Extern, ...]
    notes: tuple[str, ...] = field(default=())
    problems: tuple[str, ...] = field(default=())  # malformed maps, with strict=False
    elf: ElfObject | None = field(default=None, compare=False, repr=False)
    """The ELF as read: sections, symbols, relocations."""
    btf: Spec | None = field(default=None, compare=False, repr=False)
    """The object's ``.BTF``; ``None`` without ``-g``."""
    btf_ext: BTFExt | None = field(default=None, compare=False, repr=False)
    """The object's ``.BTF.ext``: func info, line info, CO-RE relocations."""
    subprograms: tuple[Program, ...] = ()
    """Functions in ``.text``: what programs call (``__noinline``, global functions)."""

    @property
    def globals(self) -> tuple[GlobalVar, ...]:
        return tuple(v for s in self.data_sections for v in s.variables)

    def map(self, name: str) -> MapDef:
        for m in self.maps:
            if m.name == name:
                return m
        raise KeyError(name)

    def program(self, name: str) -> Program:
        for p in self.programs:
            if p.name == name:
                return p
        raise KeyError(name)
