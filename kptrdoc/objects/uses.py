"""What a compiled object asks of the kernel: the things a kernel floor is made of.

Read from the object model alone, never from source text:

- the program type of each program, and its attach type where that selects
  the hook (``BPF_PROG_TYPE_TRACING``, ``LSM``, ``EXT``; for the other types
  libbpf passes the expected attach type only where the kernel knows it);
- the helpers and kfuncs its instructions call, the kernel variables it loads
  (typed ``__ksym``), and an ``ld_imm64`` of a kfunc's address
  (``bpf_ksym_exists``);
- calls to subprograms, global ones, and the ``arg:`` decl tags on their
  arguments;
- the map types libbpf creates for it, the special pointer fields in their
  values (``kptr``, ``kptr_untrusted``, ``percpu_kptr``, ``uptr`` type tags),
  global data sections, sleepable programs, and CO-RE relocations that need
  the kernel's BTF.

A call to a weak kfunc whose address the program also loads is not a use: that is
the ``bpf_ksym_exists()`` guard, and on a kernel without the kfunc libbpf
poisons a call the verifier never reaches. An unguarded weak call (such as the
``bpf_rdonly_cast()`` in ``bpf_core_cast``) needs the kfunc like any other.
Only the programs a page expects to load count (see :func:`counted_programs`):
a ``__failure`` program shows a mistake, not a requirement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from kptrdoc.btf.types import Func, FuncLinkage, FuncProto
from kptrdoc.insn import CallKind, Kind
from kptrdoc.objects.load import helper_names as pinned_helper_names
from kptrdoc.objects.model import BpfObject, MapDef, Program
from kptrdoc.objects.special import POINTER_KINDS


class UseKind(StrEnum):
    HELPER = "helper"
    KFUNC = "kfunc"
    MAP_TYPE = "map_type"
    PROG_TYPE = "prog_type"
    ATTACH_TYPE = "attach_type"
    BTF_TAG = "btf_tag"
    """A ``btf_type_tag`` the kernel gives a meaning in a map value (``kptr``)."""
    ARG_TAG = "arg_tag"
    """A ``btf_decl_tag`` on a global function's argument (``arg:ctx``)."""
    FEATURE = "feature"
    """A verifier or loader feature: ``global_data``, ``bpf2bpf_calls`` ..."""


@dataclass(frozen=True, slots=True, order=True)
class KernelUse:
    kind: UseKind
    name: str

    @property
    def key(self) -> str:
        """``kfunc:bpf_cpumask_create``: how the facts file names it."""
        return f"{self.kind.value}:{self.name}"

    @property
    def kind_label(self) -> str:
        """``map type``, ``kfunc``."""
        return _LABELS[self.kind]

    @property
    def label(self) -> str:
        """How a page says it: ``kfunc bpf_cpumask_create``."""
        return f"{self.kind_label} {self.name}"


_LABELS = {
    UseKind.HELPER: "helper",
    UseKind.KFUNC: "kfunc",
    UseKind.MAP_TYPE: "map type",
    UseKind.PROG_TYPE: "program type",
    UseKind.ATTACH_TYPE: "attach type",
    UseKind.BTF_TAG: "type tag",
    UseKind.ARG_TAG: "argument tag",
    UseKind.FEATURE: "feature",
}

# Program types whose attach type picks the hook the verifier checks against: libbpf
# always passes it at load, and the kernel rejects one it does not know.
_ATTACH_DEFINES_HOOK = {"BPF_PROG_TYPE_TRACING", "BPF_PROG_TYPE_LSM", "BPF_PROG_TYPE_EXT"}
# CO-RE relocations libbpf resolves against the object's own BTF alone.
_LOCAL_ONLY = {"local_type_id"}

GLOBAL_DATA = KernelUse(UseKind.FEATURE, "global_data")
BPF2BPF_CALLS = KernelUse(UseKind.FEATURE, "bpf2bpf_calls")
GLOBAL_FUNCTIONS = KernelUse(UseKind.FEATURE, "global_functions")
KERNEL_BTF = KernelUse(UseKind.FEATURE, "kernel_btf_sysfs")
TYPED_KSYMS = KernelUse(UseKind.FEATURE, "typed_ksyms")
LD_IMM64_KFUNC = KernelUse(UseKind.FEATURE, "ld_imm64_kfunc")
SLEEPABLE = KernelUse(UseKind.FEATURE, "sleepable")


def counted_programs(obj: BpfObject) -> tuple[Program, ...]:
    """The programs whose needs make a floor: those expected to load on some kernel
    (``__success``, or ``__failure_on`` a range)."""
    return tuple(p for p in obj.programs if p.expect.success or p.expect.failure_ranges)


def kernel_uses(
    obj: BpfObject,
    programs: Iterable[Program] | None = None,
    helper_names: Mapping[int, str] | None = None,
) -> dict[KernelUse, tuple[str, ...]]:
    """What ``programs`` (by default :func:`counted_programs`) of ``obj`` ask of the
    kernel -> the names of the programs that ask it (an object-wide need such as a map
    names every program). Empty when no program counts."""
    chosen = tuple(counted_programs(obj) if programs is None else programs)
    if not chosen:
        return {}
    names = helper_names if helper_names is not None else (pinned_helper_names() or {})
    subprograms = {p.name: p for p in obj.subprograms}
    kfuncs = {e.name: e.weak for e in obj.externs if e.kind == "kfunc"}
    typed_ksyms = {e.name for e in obj.externs if e.kind == "ksym" and _typed(obj, e.type_id)}
    out: dict[KernelUse, list[str]] = {}

    def add(use: KernelUse, program: str) -> None:
        users = out.setdefault(use, [])
        if program not in users:
            users.append(program)

    for program in chosen:
        if program.prog_type:
            add(KernelUse(UseKind.PROG_TYPE, program.prog_type), program.name)
            if program.attach_type and program.prog_type in _ATTACH_DEFINES_HOOK:
                add(KernelUse(UseKind.ATTACH_TYPE, program.attach_type), program.name)
        if program.sleepable:
            add(SLEEPABLE, program.name)
        bodies = _reachable(program, subprograms)
        guarded = {pi.relocation.symbol for body in bodies for pi in body.instructions
                   if pi.insn.kind is Kind.LD_IMM64 and pi.relocation is not None
                   and kfuncs.get(pi.relocation.symbol)}  # fmt: skip
        for body in bodies:
            if body is not program:
                add(BPF2BPF_CALLS, program.name)
                for use in _global_function(obj, body):
                    add(use, program.name)
            for use in _instruction_uses(body, names, kfuncs, guarded, typed_ksyms):
                add(use, program.name)
    everyone = [p.name for p in chosen]
    for m in obj.maps:
        for use in _map_uses(m):
            for name in everyone:
                add(use, name)
    if any(s.kind in ("bss", "data", "rodata") for s in obj.data_sections):
        for name in everyone:
            add(GLOBAL_DATA, name)
    return {use: tuple(users) for use, users in sorted(out.items())}


def _typed(obj: BpfObject, type_id: int) -> bool:
    """Whether a ``__ksym`` variable has a BTF type (``extern struct rq runqueues``) the
    kernel resolves by BTF id, rather than ``const void`` resolved from kallsyms."""
    if obj.btf is None:
        return False
    var = obj.btf.type(type_id)
    return var is not None and obj.btf.strip(getattr(var, "type", 0)) != 0


def _reachable(program: Program, subprograms: Mapping[str, Program]) -> list[Program]:
    """The program and every subprogram it calls, directly or not, in call order."""
    seen: dict[str, Program] = {program.name: program}
    todo = list(program.calls)
    while todo:
        name = todo.pop(0)
        sub = subprograms.get(name)
        if sub is None or name in seen:
            continue
        seen[name] = sub
        todo.extend(sub.calls)
    return list(seen.values())


def _global_function(obj: BpfObject, body: Program) -> list[KernelUse]:
    """A global subprogram, verified on its own, and the ``arg:`` tags of its arguments."""
    spec = obj.btf
    if spec is None or body.func_id is None:
        return []
    func = spec.type(body.func_id)
    if not isinstance(func, Func) or func.linkage is not FuncLinkage.GLOBAL:
        return []
    uses = [GLOBAL_FUNCTIONS]
    proto = spec.type(func.type)
    count = len(proto.params) if isinstance(proto, FuncProto) else 0
    for index in range(count):
        for tag in spec.decl_tags_of(func.id, index):
            if tag.name.startswith("arg:"):
                uses.append(KernelUse(UseKind.ARG_TAG, tag.name))
    return uses


def _instruction_uses(
    body: Program,
    names: Mapping[int, str],
    kfuncs: Mapping[str, bool],
    guarded: set[str],
    typed_ksyms: set[str],
) -> list[KernelUse]:
    """``kfuncs``: extern kfunc -> whether it is weak; ``guarded``: the weak kfuncs whose
    address the program loads (``bpf_ksym_exists``)."""
    uses: list[KernelUse] = []
    for pi in body.instructions:
        insn, target = pi.insn, pi.relocation
        if insn.kind is Kind.CALL and insn.call_kind is CallKind.HELPER and target is None:
            uses.append(KernelUse(UseKind.HELPER, names.get(insn.imm, f"#{insn.imm}")))
        elif target is not None and target.symbol in kfuncs:
            if insn.kind is Kind.LD_IMM64:  # its address: bpf_ksym_exists()
                uses.append(LD_IMM64_KFUNC)
            elif target.symbol not in guarded:
                # libbpf drops a ___flavor suffix when it looks the kfunc up
                uses.append(KernelUse(UseKind.KFUNC, target.symbol.split("___")[0]))
        elif target is not None and target.kind == "ksym" and target.symbol in typed_ksyms:
            uses.append(TYPED_KSYMS)
        if pi.core is not None and pi.core.kind not in _LOCAL_ONLY:
            uses.append(KERNEL_BTF)
    return uses


def _map_uses(m: MapDef) -> list[KernelUse]:
    uses = [KernelUse(UseKind.MAP_TYPE, m.type)]
    for layout in (m.key, m.value):
        for special in layout.special if layout is not None else ():
            if special.kind in POINTER_KINDS:
                uses.append(KernelUse(UseKind.BTF_TAG, special.kind))
    if m.inner is not None:
        uses.extend(_map_uses(m.inner))
    return uses
