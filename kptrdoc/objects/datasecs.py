"""Global data: the sections libbpf turns into internal array maps, with real offsets.

clang leaves 0 for the size and the variable offsets of a BTF DATASEC;
the ELF symbol table has the real ones, and the section header the size
(libbpf's ``value_size`` for the map). ``.kconfig`` and ``.ksyms`` hold only
externs: libbpf lays those out itself (see :mod:`kptrdoc.objects.externs`).
"""

from __future__ import annotations

from pathlib import Path

from kptrdoc.btf.cformat import c_type_name
from kptrdoc.btf.types import Datasec, Var, VarLinkage
from kptrdoc.elf import ElfObject
from kptrdoc.objects.layout import layout_of
from kptrdoc.objects.model import DataSection, GlobalVar
from kptrdoc.objects.special import variable_special_fields

BPF_F_RDONLY_PROG = 1 << 7
BPF_F_MMAPABLE = 1 << 10
OBJ_NAME_LEN = 16  # BPF_OBJ_NAME_LEN, with the terminating NUL


def section_kind(name: str, sh_type: str, executable: bool) -> str | None:
    """``"data"``, ``"rodata"`` or ``"bss"`` for a section libbpf maps; else ``None``."""
    if executable:
        return None
    if sh_type == "SHT_PROGBITS":
        if name == ".data" or name.startswith(".data."):
            return "data"
        if name == ".rodata" or name.startswith(".rodata."):
            return "rodata"
    if sh_type == "SHT_NOBITS" and (name == ".bss" or name.startswith(".bss.")):
        return "bss"
    return None


def object_name(path_name: str) -> str:
    """libbpf's object name: the file's base name up to its first dot, at most 15 bytes."""
    return path_name[: OBJ_NAME_LEN - 1].split(".", 1)[0]


def internal_map_name(obj_name: str, section: str) -> str:
    """The name libbpf gives the internal map of ``section`` (e.g. ``"maps_te.rodata"``)."""
    suffix = min(max(7, len(section)), OBJ_NAME_LEN - 1)
    prefix = 0 if "." in section[1:] else min(OBJ_NAME_LEN - suffix - 1, len(obj_name))
    name = obj_name[:prefix] + section[:suffix]
    return "".join(c if c.isalnum() or c in "_." else "_" for c in name)


def _linkage(var: Var | None, visibility: str, bind: str) -> str:
    if var is None:
        if bind == "LOCAL":
            return "static"
        return "hidden" if visibility in ("HIDDEN", "INTERNAL") else "global"
    if var.linkage == VarLinkage.STATIC:
        return "static"
    if var.linkage == VarLinkage.GLOBAL_EXTERN:
        return "extern"
    if visibility in ("HIDDEN", "INTERNAL"):
        return "hidden"
    return "global"


def global_sections(spec, elf: ElfObject) -> list[DataSection]:
    """``.data``/``.rodata``/``.bss`` (and ``.*.NAME``) sections as libbpf maps them."""
    obj_name = object_name(Path(elf.path).name)
    out: list[DataSection] = []
    for sec in sorted(elf.sections.values(), key=lambda s: s.index):
        kind = section_kind(sec.name, sec.type, sec.executable)
        if kind is None or sec.size == 0:
            continue
        btf_vars: dict[str, Var] = {}
        if spec is not None:
            for ds in spec.by_name(sec.name, Datasec):
                for vsi in ds.vars:
                    var = spec.type(vsi.type)
                    if isinstance(var, Var):
                        btf_vars[var.name] = var
        variables: list[GlobalVar] = []
        for sym in sorted(elf.symbols_in(sec.name), key=lambda s: (s.value, s.name)):
            if sym.type != "OBJECT" or not sym.name:
                continue
            var = btf_vars.get(sym.name)
            linkage = _linkage(var, sym.visibility, sym.binding)
            layout = None
            type_text = "?"
            if var is not None:
                special = tuple(variable_special_fields(spec, var.type, 0, sym.name))
                layout = layout_of(spec, var.type, special=special)
                type_text = c_type_name(spec, var.type)
            variables.append(
                GlobalVar(
                    section=sec.name,
                    name=sym.name,
                    offset=sym.value,
                    size=sym.size,
                    linkage=linkage,
                    type_id=var.type if var is not None else None,
                    type=type_text,
                    layout=layout,
                )
            )
        flags = BPF_F_RDONLY_PROG if kind == "rodata" else 0
        # libbpf makes the map mmap-able when some BTF variable of the section is
        # global and not hidden (what a skeleton exposes).
        if any(v.linkage == "global" for v in variables if v.type_id is not None):
            flags |= BPF_F_MMAPABLE
        out.append(
            DataSection(
                name=sec.name,
                kind=kind,
                map_name=internal_map_name(obj_name, sec.name),
                value_size=sec.size,
                flags=flags,
                variables=tuple(variables),
            )
        )
    return out
