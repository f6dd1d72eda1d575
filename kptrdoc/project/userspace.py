"""What the generated loader's own headers define, so the skeleton's types are not
defined twice.

The skeleton that ``bpftool gen skeleton`` writes names the types of the object's
global variables (``u64``, ``struct iphdr``) without defining them: BPF code has them
from ``vmlinux.h``, which user space cannot include. The loader defines them from the
object's BTF, except the ones its headers (libc, libbpf) already define, such as
``enum libbpf_tristate`` or ``bool``. Those are found by parsing the same includes with
libclang.
"""

from __future__ import annotations

import functools
from pathlib import Path

from kptrdoc.macro_uses import MacroUseError, libclang_path, load_cindex

LOADER_HEADERS = (
    "errno.h", "fcntl.h", "stdarg.h", "stdbool.h", "stdio.h", "stdlib.h", "string.h",
    "sys/mount.h", "sys/random.h", "sys/syscall.h", "sys/vfs.h", "sys/wait.h", "unistd.h",
    "bpf/bpf.h", "bpf/libbpf.h",
)  # fmt: skip
"""Every header a loader includes (besides its skeleton and ``<sys/sdt.h>``), in order."""

PRELUDE = "#define _GNU_SOURCE\n"
"""What a loader defines before its includes."""


@functools.lru_cache(maxsize=4)
def defined_names(libbpf_include: Path) -> frozenset[str]:
    """The C names the loader's headers define: ``struct x``, ``union x``, ``enum x``,
    typedef names and macro names (``bool`` is a macro of ``<stdbool.h>``)."""
    source = PRELUDE + "".join(f"#include <{h}>\n" for h in LOADER_HEADERS)
    cindex = load_cindex(Path("loader.c"), libclang_path())
    try:
        tu = cindex.TranslationUnit.from_source(
            "loader.c",
            args=["-I", str(libbpf_include)],
            unsaved_files=[("loader.c", source)],
            options=cindex.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD,
            index=cindex.Index.create(),
        )
    except cindex.TranslationUnitLoadError:
        raise MacroUseError(
            Path("loader.c"), "libclang could not parse the loader's headers"
        ) from None
    errors = [d.spelling for d in tu.diagnostics if d.severity >= cindex.Diagnostic.Error]
    if errors:
        raise MacroUseError(Path("loader.c"), f"the loader's headers do not compile: {errors[0]}")
    kinds = {
        cindex.CursorKind.STRUCT_DECL: "struct ",
        cindex.CursorKind.UNION_DECL: "union ",
        cindex.CursorKind.ENUM_DECL: "enum ",
    }
    names: set[str] = set()
    for cursor in tu.cursor.get_children():
        kind = cursor.kind
        if kind in kinds and cursor.spelling and cursor.is_definition():
            names.add(kinds[kind] + cursor.spelling)
        elif kind in (cindex.CursorKind.TYPEDEF_DECL, cindex.CursorKind.MACRO_DEFINITION):
            names.add(cursor.spelling)
    return frozenset(names)
