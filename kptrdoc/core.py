"""CO-RE relocations of a compiled BPF object, and the value each gets on a given kernel.

:func:`relocations` reads them out of the object alone (its ``.BTF.ext``,
joined to the ELF programs and the instructions they patch), with the value
the compiler emitted. :func:`resolve` has libbpf relocate the object against
any kernel's BTF file, without loading a program, and returns what each
relocation became there::

    for r in resolve(obj, Path("/sys/kernel/btf/vmlinux")):
        print(r.relocation.path, r.relocation.kind, r.value, r.poisoned)

How :func:`resolve` works (libbpf 1.7, through ctypes): open the object with
``btf_custom_path`` set to the target BTF, turn off map creation
(``bpf_map__set_autocreate(map, false)``: CO-RE does not need maps, so no map
is created or pinned; struct_ops maps are the exception, as libbpf would skip
the programs of a struct_ops map it does not create), turn on every program
(``SEC("?...")`` ones too, or libbpf skips their relocations),
``bpf_object__prepare()``, then read each program's patched instructions
(``bpf_program__insns()``; a subprogram's copy inside each program that calls
it is found through ``bpf_program__func_info()``) and libbpf's debug log,
which prints one line per patched instruction::

    prog 'P': relo #K: patched insn #N (ALU/ALU64) imm A -> V
    prog 'P': relo #K: patched insn #N (LDX/ST/STX) off A -> V
    prog 'P': relo #K: patched insn #N (LDX/ST/STX) mem_sz A -> V
    prog 'P': relo #K: patched insn #N (LDIMM64) imm64 A -> V
    prog 'P': relo #K: substituting insn #N w/ invalid insn

``K`` is the record's index among its ELF section's CO-RE records, ``N`` the
instruction slot within program ``P`` (a subprogram for code in ``.text``).
The value read from the instruction must agree with the log, or
:class:`CoreError` says so.

``bpf_object__prepare()`` is not free of the kernel: it loads a trivial
program to check that BPF works at all (and fails without ``bpf()``
permission: :class:`CoreError`), runs libbpf's feature probes, and loads the
object's own BTF into the kernel; the BTF object and every probe are gone
once the object is closed, which :func:`resolve` always does. Externs
(``__ksym``, ``.kconfig``) are still resolved against the *running* kernel,
so an object whose kfunc the running kernel lacks cannot be resolved here
(CO-RE relocation comes after extern resolution in libbpf).
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kptrdoc import loader
from kptrdoc.btf.spec import Spec
from kptrdoc.btf.types import Func
from kptrdoc.errors import KptrdocError
from kptrdoc.insn import Kind, decode
from kptrdoc.objects import BpfObject, load_object
from kptrdoc.objects.listing import CORE_KIND_NAMES, core_operand
from kptrdoc.objects.model import CoreRelocation, Operand

__all__ = [
    "KIND_NAMES",
    "POISON_HELPER",
    "CoreError",
    "CoreRelocation",
    "Operand",
    "ResolvedRelocation",
    "relocations",
    "resolve",
]

KIND_NAMES: tuple[str, ...] = tuple(CORE_KIND_NAMES[k] for k in sorted(CORE_KIND_NAMES))
"""libbpf's short name of each ``enum bpf_core_relo_kind`` (``core_relo_kind_str``)."""

POISON_HELPER = 0xBAD2310
"""The helper id libbpf calls in place of an instruction it cannot relocate ("bad relo")."""

INSN_SIZE = 8
_BPF_MAP_TYPE_STRUCT_OPS = 26


class CoreError(KptrdocError):
    """The object or the target BTF cannot be read, or libbpf cannot relocate the object."""


@dataclass(frozen=True)
class ResolvedRelocation:
    """What one relocation became against one target BTF."""

    relocation: CoreRelocation
    target: Path  # the BTF file resolved against
    value: int | None  # the patched operand (same typing as local_value); None if poisoned
    poisoned: bool  # libbpf replaced the instruction with a call to helper 0xbad2310
    reason: str  # libbpf's words when no target matched or the insn was poisoned; else ""
    mem_size: int | None  # LDX/ST/STX access size after relocation (libbpf may change it)
    target_type_id: int | None  # the matching type in the target BTF, per libbpf's log
    target_access: str  # the access string in the target ("0:95"), field kinds only
    log: tuple[str, ...]  # libbpf's debug lines for this relocation

    @property
    def changed(self) -> bool:
        """Whether the target gives a different value than the compiler emitted."""
        return self.poisoned or self.value != self.relocation.local_value


# --------------------------------------------------------------------------
# The object alone
# --------------------------------------------------------------------------


def _read_object(path: Path) -> BpfObject:
    """The object, read once through the object model."""
    try:
        obj = load_object(path, strict=False)
    except KptrdocError as exc:  # already names the file
        raise CoreError(str(exc)) from None
    if obj.btf is None:
        raise CoreError(f"{path}: the object has no .BTF section (compile with -g)")
    broken = [n for n in obj.notes if n.startswith(".BTF.ext not read")]
    if broken:
        raise CoreError(f"{path}:.BTF.ext: {broken[0].split(': ', 1)[-1]}")
    return obj


def _relocations(path: Path, obj: BpfObject) -> tuple[CoreRelocation, ...]:
    """Every CO-RE record, in ``.BTF.ext`` order, as the object model joined it to its
    instruction; a record that points outside the code is an error naming it."""
    if obj.btf_ext is None or obj.elf is None:
        return ()
    joined = {
        (i.core.section, i.core.index): i.core
        for program in (*obj.programs, *obj.subprograms)
        for i in program.instructions
        if i.core is not None
    }
    out = []
    for section, relos in obj.btf_ext.core_relos.items():
        sec = obj.elf.sections.get(section)
        for index, relo in enumerate(relos):
            where = f"{path}: .BTF.ext CO-RE record #{index} of section {section!r}"
            if sec is None or not sec.executable:
                raise CoreError(f"{where}: the object has no code section of that name")
            found = joined.get((section, index))
            if relo.byte_offset % INSN_SIZE or found is None:
                raise CoreError(
                    f"{where}: expected an instruction offset inside one of the section's "
                    f"functions ({len(sec.data)} bytes), found byte {relo.byte_offset}"
                )
            out.append(found)
    return tuple(out)


def relocations(obj_path: Path | str) -> tuple[CoreRelocation, ...]:
    """The CO-RE relocations of a compiled object, in ``.BTF.ext`` order (no libbpf)."""
    path = Path(obj_path)
    return _relocations(path, _read_object(path))


# --------------------------------------------------------------------------
# libbpf: relocate against a target BTF
# --------------------------------------------------------------------------


_OpenOpts = loader.OpenOpts
"""One definition of the open options, shared with the loader."""


def _each(first: Callable[[int, int | None], int], obj: int) -> Iterator[int]:
    """Every map or program of ``obj`` (``bpf_object__next_map``/``_next_program``)."""
    item = first(obj, None)
    while item:
        yield item
        item = first(obj, item)


@dataclass(frozen=True)
class _MainProgram:
    """A program after ``bpf_object__prepare``: its code with subprograms appended."""

    name: str
    insns: bytes
    func_info: tuple[tuple[int, int], ...]  # (slot, FUNC type id) of each function in it


@dataclass(frozen=True)
class _Prepared:
    programs: tuple[_MainProgram, ...]
    messages: tuple[tuple[int, str], ...]


def _clean(text: str) -> str:
    return text.strip().removeprefix("libbpf: ")


def _prepare(obj_path: Path, target: Path) -> _Prepared:
    """Open, prepare (relocate) and close the object; its programs and libbpf's log."""
    try:
        b = loader.lib().lib  # the loader's handle: its print callback sees our messages
    except KptrdocError as exc:
        raise CoreError(f"{obj_path}: {exc}") from None
    opts = _OpenOpts(sz=ctypes.sizeof(_OpenOpts), btf_custom_path=str(target).encode())
    with loader._collect_messages() as messages:
        ctypes.set_errno(0)
        obj = b.bpf_object__open_file(str(obj_path).encode(), ctypes.byref(opts))
        if not obj:
            why = _first_warning(messages) or "bpf_object__open_file failed"
            raise CoreError(f"{obj_path}: libbpf cannot open it: {why}")
        try:
            for m in _each(b.bpf_object__next_map, obj):
                if b.bpf_map__type(m) != _BPF_MAP_TYPE_STRUCT_OPS:
                    b.bpf_map__set_autocreate(m, False)
            for p in _each(b.bpf_object__next_program, obj):
                b.bpf_program__set_autoload(p, True)
            rc = b.bpf_object__prepare(obj)
            if rc != 0:
                _raise_prepare_error(obj_path, target, -rc, messages)
            programs = tuple(_main_program(b, p) for p in _each(b.bpf_object__next_program, obj))
        finally:
            b.bpf_object__close(obj)
        return _Prepared(programs, tuple(messages))


def _main_program(b: ctypes.CDLL, prog: int) -> _MainProgram:
    name = (b.bpf_program__name(prog) or b"").decode()
    count = b.bpf_program__insn_cnt(prog)
    ptr = b.bpf_program__insns(prog)
    insns = ctypes.string_at(ptr, count * INSN_SIZE) if ptr and count else b""
    infos: list[tuple[int, int]] = []
    fi = b.bpf_program__func_info(prog)
    if fi:
        for k in range(b.bpf_program__func_info_cnt(prog)):
            infos.append((fi[k].insn_off, fi[k].type_id))
    return _MainProgram(name, insns, tuple(infos))


# warnings that come before the one that says what went wrong
_NOT_DECISIVE = ("failed to load object", "Failed to bump RLIMIT_MEMLOCK")


def _first_warning(messages: list[tuple[int, str]]) -> str:
    for level, text in messages:
        line = _clean(text).splitlines()[0] if text.strip() else ""
        if level == 0 and line and not line.startswith(_NOT_DECISIVE):
            return line
    return ""


def _raise_prepare_error(
    obj_path: Path, target: Path, err: int, messages: list[tuple[int, str]]
) -> None:
    why = _first_warning(messages) or os.strerror(err)
    if any("failed to parse target BTF" in text for _, text in messages):
        raise CoreError(f"{target}: libbpf cannot read it as the target BTF: {why}")
    raise CoreError(f"{obj_path}: libbpf cannot relocate it against {target}: {why}")


# --------------------------------------------------------------------------
# libbpf's log
# --------------------------------------------------------------------------

_RELO_LINE = re.compile(r"^prog '(?P<prog>[^']*)': relo #(?P<idx>\d+): (?P<text>.*)$")
_PATCHED = re.compile(
    r"^patched insn #(?P<insn>\d+) \((?P<cls>ALU/ALU64|LDX/ST/STX|LDIMM64)\) "
    r"(?P<what>imm64|imm|off|mem_sz) (?P<old>\d+) -> (?P<new>\d+)$"
)
_POISON = re.compile(r"^substituting insn #(?P<insn>\d+) w/ invalid insn$")
_MATCHING = re.compile(r"^matching candidate #\d+ <[a-z0-9_]+> \[(?P<id>\d+)\] (?P<spec>.*)$")
_NON_MATCHING = re.compile(r"^non-matching candidate #\d+ <[a-z0-9_]+> (?P<spec>\[\d+\] \S+ \S+)")
_TARGET_ACCESS = re.compile(r"\((?P<access>\d+(?::\d+)*) @ offset [\d.]+\)$")
_NO_TARGET = "no matching targets found"
# "prog 'P': relo #K:" lines libbpf prints for ELF (not CO-RE) relocations
_NOT_CORE = ("poisoning insn #", "bad insn", "bad relo type", "can't create jump table")


def _relo_lines(messages: tuple[tuple[int, str], ...]) -> dict[tuple[str, int], list[str]]:
    """libbpf's CO-RE lines by (program, relocation index)."""
    out: dict[tuple[str, int], list[str]] = {}
    for _, text in messages:
        for line in _clean(text).splitlines():
            m = _RELO_LINE.match(line)
            if m and not m["text"].startswith(_NOT_CORE):
                out.setdefault((m["prog"], int(m["idx"])), []).append(line)
    return out


@dataclass(frozen=True)
class _LogResult:
    old: int | None = None
    new: int | None = None
    mem_size: int | None = None
    poisoned: bool = False
    target_type_id: int | None = None
    target_access: str = ""
    reason: str = ""


def _parse_relo_log(relo: CoreRelocation, lines: list[str]) -> _LogResult:
    old = new = mem_size = target_id = None
    access = ""
    poisoned = False
    warnings: list[str] = []
    non_matching: list[str] = []
    no_target = False
    for line in lines:
        text = _RELO_LINE.match(line)
        assert text is not None
        body = text["text"]
        if m := _PATCHED.match(body):
            if int(m["insn"]) != relo.insn:
                continue
            if m["what"] == "mem_sz":
                mem_size = int(m["new"])
            else:
                old, new = int(m["old"]), int(m["new"])
        elif (m := _POISON.match(body)) and int(m["insn"]) == relo.insn:
            poisoned = True
        elif (m := _MATCHING.match(body)) and target_id is None:
            target_id = int(m["id"])
            if a := _TARGET_ACCESS.search(m["spec"]):
                access = a["access"]
        elif m := _NON_MATCHING.match(body):
            non_matching.append(m["spec"])
        elif body == _NO_TARGET:
            no_target = True
        elif "accesses field incorrectly" in body or "unexpected" in body:
            warnings.append(body)
    reason = ""
    if warnings:
        reason = warnings[0]
    elif no_target:
        reason = _NO_TARGET
        if non_matching:
            reason += f" (non-matching candidates: {', '.join(non_matching)})"
        else:
            reason += " (no type of that name)"
    return _LogResult(old, new, mem_size, poisoned, target_id, access, reason)


# --------------------------------------------------------------------------
# resolve
# --------------------------------------------------------------------------


def _check_target(target: Path) -> None:
    try:
        with open(target, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise CoreError(f"{target}: cannot read the target BTF: {exc.strerror or exc}") from None
    if head[:2] not in (b"\x9f\xeb", b"\xeb\x9f") and head != b"\x7fELF":
        raise CoreError(
            f"{target}: not a BTF file (expected the magic eb9f, or an ELF file with .BTF)"
        )


def _same(operand: Operand, value: int, logged: int) -> bool:
    """Whether an operand holds what libbpf printed (as %llu of a u64)."""
    bits = 32 if operand is Operand.IMM else 16 if operand is Operand.OFF else 64
    mask = (1 << bits) - 1
    return (value & mask) == (logged & mask)


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _from_log(operand: Operand, logged: int) -> int:
    if operand is Operand.IMM:
        return _signed(logged, 32)
    if operand is Operand.OFF:
        return _signed(logged, 16)
    return logged & ((1 << 64) - 1)


def _copies(
    relo: CoreRelocation, prepared: _Prepared, func_ids: frozenset[int]
) -> list[tuple[str, int]]:
    """(program, slot) of each copy of the relocated instruction in the prepared programs."""
    out = []
    for prog in prepared.programs:
        if prog.name == relo.program:
            out.append((prog.name, relo.insn))
            continue
        for slot, type_id in prog.func_info:
            if type_id in func_ids:
                out.append((prog.name, slot + relo.insn))
    return out


def _func_ids(spec: Spec, name: str) -> frozenset[int]:
    return frozenset(t.id for t in spec.by_name(name, Func)) if name else frozenset()


def _resolved(
    obj_path: Path,
    target: Path,
    relo: CoreRelocation,
    prepared: _Prepared,
    lines: list[str],
    func_ids: frozenset[int],
) -> ResolvedRelocation:
    log = _parse_relo_log(relo, lines)
    where = f"{obj_path}: relo #{relo.index} of {relo.program or relo.section} (insn #{relo.insn})"
    by_name = {p.name: p for p in prepared.programs}
    seen: list[tuple[int | None, int | None, bool]] = []  # (value, mem size, poisoned) per copy
    for prog_name, slot in _copies(relo, prepared, func_ids):
        insns = by_name[prog_name].insns
        if (slot + 1) * INSN_SIZE > len(insns):
            raise CoreError(f"{where}: slot {slot} is past the end of {prog_name}")
        patched = decode(insns[slot * INSN_SIZE : (slot + 2) * INSN_SIZE], sys.byteorder)
        if patched[0].kind is Kind.CALL and patched[0].imm == POISON_HELPER:
            seen.append((None, None, True))
            continue
        operand, value, mem_size = core_operand(patched[0])
        if operand is not relo.operand:
            raise CoreError(f"{where}: {prog_name} slot {slot} is no longer a {relo.operand} insn")
        seen.append((value, mem_size, False))
    if len(set(seen)) > 1:
        raise CoreError(f"{where}: the copies of the instruction disagree: {seen}")
    if seen:
        value, mem_size, poisoned = seen[0]
    elif log.poisoned:
        value, mem_size, poisoned = None, None, True
    elif log.new is not None:  # a subprogram no program calls: libbpf's log is all there is
        value, poisoned = _from_log(relo.operand, log.new), False
        mem_size = log.mem_size if log.mem_size is not None else relo.mem_size
    else:
        value, mem_size, poisoned = None, None, False
    # cross-check the instruction against libbpf's own account of it
    if poisoned != log.poisoned:
        raise CoreError(f"{where}: the instruction and libbpf's log disagree on poisoning")
    if not poisoned and value is not None:
        if log.new is None or not _same(relo.operand, value, log.new):
            raise CoreError(f"{where}: the patched insn holds {value}, libbpf logged {log.new}")
        local, old = relo.local_value, log.old
        if local is not None and old is not None and not _same(relo.operand, local, old):
            raise CoreError(f"{where}: the object holds {local}, libbpf logged {old}")
    if log.mem_size is not None and mem_size != log.mem_size:
        raise CoreError(f"{where}: access size {mem_size}, libbpf logged {log.mem_size}")
    reason = log.reason
    if not lines:
        reason = "libbpf did not relocate this instruction (no program of the object holds it)"
    return ResolvedRelocation(
        relocation=relo,
        target=target,
        value=value,
        poisoned=poisoned,
        reason=reason,
        mem_size=mem_size,
        target_type_id=log.target_type_id,
        target_access=log.target_access,
        log=tuple(lines),
    )


def resolve(obj_path: Path | str, target_btf: Path | str) -> tuple[ResolvedRelocation, ...]:
    """Each CO-RE relocation of ``obj_path`` with the value it gets against ``target_btf``.

    ``target_btf`` is a raw BTF file (``/sys/kernel/btf/vmlinux``, or one
    extracted from a kernel package) or an ELF file with a ``.BTF`` section.
    libbpf relocates the object with that BTF as the kernel's; nothing is
    loaded and nothing is left in the kernel (see the module documentation).
    """
    path = Path(obj_path)
    target = Path(target_btf)
    obj = _read_object(path)
    relos = _relocations(path, obj)
    _check_target(target)
    if not relos:
        return ()
    prepared = _prepare(path, target)
    lines = _relo_lines(prepared.messages)
    main_names = {p.name for p in prepared.programs}
    out = []
    for relo in relos:
        func_ids = frozenset() if relo.program in main_names else _func_ids(obj.btf, relo.program)
        out.append(
            _resolved(
                path,
                target,
                relo,
                prepared,
                lines.get((relo.program, relo.index), []),
                func_ids,
            )
        )
    return tuple(out)


def main(argv: list[str] | None = None) -> int:
    """``python -m kptrdoc.core OBJ [BTF]``: one line per relocation."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m kptrdoc.core OBJ [BTF]", file=sys.stderr)
        return 2
    target = Path(args[1]) if len(args) > 1 else Path("/sys/kernel/btf/vmlinux")
    try:
        resolved = resolve(Path(args[0]), target)
    except KptrdocError as exc:
        print(f"kptrdoc: {exc}", file=sys.stderr)
        return 1
    for r in resolved:
        c = r.relocation
        value = "poisoned" if r.poisoned else r.value
        print(f"{c.program} insn #{c.insn} {c.kind} {c.path}: {c.local_value} -> {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
