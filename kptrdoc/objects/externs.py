"""Externs: kfuncs and kernel symbols (``__ksym``) and Kconfig values (``__kconfig``).

An extern is an undefined ELF symbol (no section, global or weak binding,
no type) whose BTF is the first VAR or FUNC of that name; the DATASEC that
lists it (``.ksyms`` or ``.kconfig``) says which kind it is.

libbpf lays out ``.kconfig`` itself: externs sorted by alignment (largest
first), then size (smallest first), then name, each at the next offset its
alignment allows; the map's value size is where the last one ends. In
``.ksyms`` every extern becomes a 4-byte slot in the DATASEC's order.
"""

from __future__ import annotations

from pathlib import Path

from kptrdoc.btf.cformat import BRIEF, c_declaration, c_type_name
from kptrdoc.btf.errors import BTFError
from kptrdoc.btf.types import Datasec, Func, FuncLinkage, Var, VarLinkage
from kptrdoc.elf import ElfObject
from kptrdoc.objects.datasecs import (
    BPF_F_MMAPABLE,
    BPF_F_RDONLY_PROG,
    internal_map_name,
    object_name,
)
from kptrdoc.objects.layout import layout_of
from kptrdoc.objects.model import DataSection, Extern, GlobalVar, ObjectError

KSYM_SLOT = 4


def _btf_extern(spec, name: str) -> Var | Func | None:
    for t in spec.by_name(name):
        if isinstance(t, Var):
            return t if t.linkage == VarLinkage.GLOBAL_EXTERN else None
        if isinstance(t, Func):
            return t if t.linkage == FuncLinkage.EXTERN else None
    return None


def _section_of(spec, type_id: int) -> Datasec | None:
    for name in (".ksyms", ".kconfig"):
        for ds in spec.by_name(name, Datasec):
            if any(v.type == type_id for v in ds.vars):
                return ds
    return None


def collect_externs(spec, elf: ElfObject) -> tuple[list[Extern], list[DataSection]]:
    """The object's externs, and the ``.kconfig``/``.ksyms`` sections libbpf lays out."""
    if spec is None:
        return [], []
    where = elf.path
    externs: list[Extern] = []
    kconfig: list[tuple[int, int, str, Var]] = []
    for sym in elf.symbols:
        if sym.section is not None or sym.type != "NOTYPE" or not sym.name:
            continue
        if sym.binding not in ("GLOBAL", "WEAK"):
            continue
        t = _btf_extern(spec, sym.name)
        if t is None:
            raise ObjectError(f"{where}: extern '{sym.name}' has no extern VAR or FUNC in BTF")
        ds = _section_of(spec, t.id)
        if ds is None:
            raise ObjectError(f"{where}: extern '{sym.name}' is in neither .ksyms nor .kconfig")
        weak = sym.binding == "WEAK"
        suffix = (" __weak" if weak else "") + (" __ksym" if ds.name == ".ksyms" else " __kconfig")
        if isinstance(t, Func):
            kind = "kfunc"
        elif ds.name == ".ksyms":
            kind = "ksym"
        else:
            kind = "kconfig"
            try:
                kconfig.append((spec.align_of(t.type), spec.size_of(t.type), t.name, t))
            except BTFError as exc:
                raise ObjectError(f"{where}: kconfig extern '{t.name}': {exc}") from None
        signature = "extern " + c_declaration(spec, t.id, t.name, BRIEF) + suffix + ";"
        externs.append(Extern(t.name, kind, weak, t.id, signature))

    sections: list[DataSection] = []
    obj_name = object_name(Path(elf.path).name)
    if kconfig:
        kconfig.sort(key=lambda e: (-e[0], e[1], e[2]))
        off = 0
        variables = []
        for align, size, name, var in kconfig:
            start = (off + align - 1) // align * align
            variables.append(
                GlobalVar(
                    ".kconfig",
                    name,
                    start,
                    size,
                    "extern",
                    var.type,
                    c_type_name(spec, var.type),
                    layout_of(spec, var.type, special=()),
                )
            )
            off = start + size
        sections.append(
            DataSection(
                ".kconfig",
                "kconfig",
                internal_map_name(obj_name, ".kconfig"),
                off,
                BPF_F_RDONLY_PROG | BPF_F_MMAPABLE,
                tuple(variables),
            )
        )
    for ds in spec.by_name(".ksyms", Datasec):
        variables = []
        for i, vsi in enumerate(ds.vars):
            t = spec.type(vsi.type)
            if t is None:
                continue
            is_var = isinstance(t, Var)
            variables.append(
                GlobalVar(
                    ".ksyms",
                    t.name,
                    i * KSYM_SLOT,
                    KSYM_SLOT,
                    "extern",
                    t.type if is_var else t.id,
                    c_type_name(spec, t.type),
                    None,
                )
            )
        sections.append(DataSection(".ksyms", "ksyms", None, None, 0, tuple(variables)))
    return externs, sections
