"""The object model: programs, maps, globals, externs and record layouts of a BPF object.

``load_object(path)`` reads a compiled object with kptrdoc's ELF and BTF
readers; ``object_json(obj)`` gives the stable JSON of ``kptrdoc inspect``.
"""

from kptrdoc.objects.jsonout import object_json
from kptrdoc.objects.load import load_object
from kptrdoc.objects.model import (
    BpfObject,
    DataSection,
    Extern,
    GlobalVar,
    Hole,
    Layout,
    LayoutField,
    MapDef,
    MapSlot,
    ObjectError,
    Program,
    SourceLine,
    SpecialField,
)
from kptrdoc.objects.sections import ProgramKind, program_kind

__all__ = [
    "BpfObject",
    "DataSection",
    "Extern",
    "GlobalVar",
    "Hole",
    "Layout",
    "LayoutField",
    "MapDef",
    "MapSlot",
    "ObjectError",
    "Program",
    "ProgramKind",
    "SourceLine",
    "SpecialField",
    "load_object",
    "object_json",
    "program_kind",
]
