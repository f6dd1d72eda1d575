"""A function's instructions joined with what the object says about each of them.

The way cilium/ebpf's ``asm`` and ``btf`` ext info meet: the instructions of
one function are decoded (:mod:`kptrdoc.insn`), then each slot is given

- the source line in effect: the last ``.BTF.ext`` line_info record at or
  before it;
- its ELF relocation, classified as libbpf's ``bpf_program__record_reloc``
  does: a call to a function in ``.text`` (a subprogram) or to an extern (a
  kfunc), an ``ld_imm64`` of a map, of a global variable (a named symbol, or
  an offset into a data section), of an extern (``__ksym`` / ``__kconfig``),
  or of a function (a callback);
- its CO-RE relocation record, with the local value the compiler put there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kptrdoc.btf.ext import BTFExt, CoreReloKind
from kptrdoc.btf.spec import Spec
from kptrdoc.elf import ElfObject, Relocation, Symbol
from kptrdoc.insn import CallKind, InsnClass, Instruction, Kind, Source, decode, format_insn
from kptrdoc.insn.model import InsnError
from kptrdoc.objects.model import (
    CoreRelocation,
    Extern,
    Operand,
    ProgramInsn,
    RelocationTarget,
    SourceLine,
)

CORE_KIND_NAMES = {
    CoreReloKind.FIELD_BYTE_OFFSET: "byte_off",
    CoreReloKind.FIELD_BYTE_SIZE: "byte_sz",
    CoreReloKind.FIELD_EXISTS: "field_exists",
    CoreReloKind.FIELD_SIGNED: "signed",
    CoreReloKind.FIELD_LSHIFT_U64: "lshift_u64",
    CoreReloKind.FIELD_RSHIFT_U64: "rshift_u64",
    CoreReloKind.TYPE_ID_LOCAL: "local_type_id",
    CoreReloKind.TYPE_ID_TARGET: "target_type_id",
    CoreReloKind.TYPE_EXISTS: "type_exists",
    CoreReloKind.TYPE_MATCHES: "type_matches",
    CoreReloKind.TYPE_SIZE: "type_size",
    CoreReloKind.ENUMVAL_EXISTS: "enumval_exists",
    CoreReloKind.ENUMVAL_VALUE: "enumval_value",
}
"""libbpf's names of the CO-RE relocation kinds (``core_relo_kind_str``)."""


class Listing:
    """Joins the functions of one object; built once per object."""

    def __init__(
        self,
        elf: ElfObject,
        spec: Spec | None,
        ext: BTFExt | None,
        externs: Sequence[Extern],
        helpers: Mapping[int, str] | None,
    ) -> None:
        self.elf = elf
        self.spec = spec
        self.ext = ext
        self.externs = {e.name: e for e in externs}
        self.helpers = helpers
        self.functions = {
            (s.section, s.value): s.name
            for s in elf.symbols
            if s.type == "FUNC" and s.section is not None
        }

    def function(
        self, name: str, section: str, offset: int, count: int, lines: Sequence[SourceLine]
    ) -> tuple[tuple[ProgramInsn, ...], tuple[str, ...]]:
        """The instructions of function ``name`` at ``offset`` bytes into ``section``
        (``count`` slots), and the subprograms it calls; ``lines`` are its own records."""
        data = self.elf.section_data(section) or b""
        start = offset // 8
        try:
            insns = decode(data[offset : offset + count * 8], self.elf.byte_order)
        except InsnError:
            return (), ()
        relocations = {r.offset // 8 - start: r for r in self.elf.relocations.get(section, ())
                       if start <= r.offset // 8 < start + count}  # fmt: skip
        core = self._core(section, start, count, insns, name)
        by_index = sorted(lines, key=lambda ln: ln.insn)
        out: list[ProgramInsn] = []
        calls: list[str] = []
        current: SourceLine | None = None
        cursor = 0
        for insn in insns:
            while cursor < len(by_index) and by_index[cursor].insn <= insn.index:
                current = by_index[cursor]
                cursor += 1
            target = None
            reloc = relocations.get(insn.index)
            if reloc is not None:
                target = self._target(insn, reloc, section)
            if target is not None and target.kind == "subprog" and insn.kind is Kind.CALL:
                if target.symbol not in calls:
                    calls.append(target.symbol)
            elif insn.kind is Kind.CALL and insn.call_kind is CallKind.SUBPROG and target is None:
                # a call within the section, pc-relative, with no relocation
                local = self.functions.get((section, (start + insn.index + 1 + insn.imm) * 8))
                if local is not None:
                    target = RelocationTarget("subprog", local, section)
                    if local not in calls:
                        calls.append(local)
            names = {insn.index: target.symbol} if target is not None else {}
            text = format_insn(insn, helpers=self.helpers, symbols=names)
            out.append(ProgramInsn(insn, text, current, target, core.get(insn.index)))
        return tuple(out), tuple(calls)

    def _target(self, insn: Instruction, reloc: Relocation, section: str) -> RelocationTarget:
        symbol = self._symbol(reloc)
        sec = reloc.symbol_section
        if sec is None:  # an extern: kfunc, __ksym variable or __kconfig
            extern = self.externs.get(reloc.symbol)
            if insn.kind is Kind.CALL:
                return RelocationTarget("kfunc", reloc.symbol, None)
            kind = extern.kind if extern is not None and extern.kind != "kfunc" else "ksym"
            return RelocationTarget(kind, reloc.symbol, None)
        if self.elf.sections[sec].executable:
            name = reloc.symbol
            if symbol is not None and symbol.type == "SECTION":
                # against the section symbol: a call's imm is the target slot - 1, an
                # ld_imm64's (a callback) the target's byte offset
                offset = (insn.imm + 1) * 8 if insn.kind is Kind.CALL else insn.imm
                name = self.functions.get((sec, offset), f"{sec}+{offset}")
            return RelocationTarget("subprog", name, sec)
        if sec == ".maps":
            return RelocationTarget("map", reloc.symbol, sec)
        if symbol is not None and symbol.type == "SECTION":
            offset = insn.imm if insn.kind is Kind.LD_IMM64 else 0
            named = next((s.name for s in self.elf.symbols_in(sec)
                          if s.type == "OBJECT" and s.value == offset), None)  # fmt: skip
            return RelocationTarget("global", named or f"{sec}+{offset}", sec)
        if insn.kind is Kind.LD_IMM64:
            return RelocationTarget("global", reloc.symbol, sec)
        return RelocationTarget("other", reloc.symbol, sec)

    def _symbol(self, reloc: Relocation) -> Symbol | None:
        return next((s for s in self.elf.symbols if s.name == reloc.symbol
                     and s.section == reloc.symbol_section), None)  # fmt: skip

    def _core(
        self, section: str, start: int, count: int, insns: Sequence[Instruction], name: str
    ) -> dict[int, CoreRelocation]:
        if self.ext is None or self.spec is None:
            return {}
        by_index = {i.index: i for i in insns}
        out: dict[int, CoreRelocation] = {}
        for number, record in enumerate(self.ext.core_relos.get(section, ())):
            index = record.insn_off - start
            if not 0 <= index < count:
                continue
            operand, local, mem_size = core_operand(by_index.get(index))
            out[index] = CoreRelocation(
                program=name,
                section=section,
                index=number,
                insn=index,
                kind=kind_name(record.kind),
                type_id=record.type_id,
                type_name=_type_name(self.spec, record.type_id),
                access=record.access,
                path=record.path,
                operand=operand,
                local_value=local,
                mem_size=mem_size,
                section_insn=record.insn_off,
            )
        return out


def kind_name(kind: int) -> str:
    """libbpf's name of a CO-RE relocation kind (``unknown(N)`` for a kind it lacks)."""
    try:
        return CORE_KIND_NAMES[CoreReloKind(kind)]
    except ValueError:
        return f"unknown({kind})"


def _type_name(spec: Spec, type_id: int) -> str:
    t = spec.type(type_id)
    if t is None:
        return "void"
    return f"{t.kind_name.lower()} {t.name or '<anon>'}"


def core_operand(insn: Instruction | None) -> tuple[Operand, int | None, int | None]:
    """(operand, its value, memory access size) of an instruction CO-RE may patch."""
    if insn is None or not insn.valid:
        return Operand.NONE, None, None
    if insn.kind is Kind.LD_IMM64:
        return Operand.IMM64, insn.imm64, None
    if insn.insn_class in (InsnClass.ALU, InsnClass.ALU64) and insn.source is not Source.X:
        return Operand.IMM, insn.imm, None
    if insn.insn_class in (InsnClass.LDX, InsnClass.ST, InsnClass.STX) and insn.width is not None:
        return Operand.OFF, insn.off, insn.width.bytes
    return Operand.NONE, None, None
