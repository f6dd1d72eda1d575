"""C declarations in the object model agree with the BTF reader's C renderer.

The renderer's output is compiled back with clang in its own tests; the
object model prints anonymous records as ``struct {...}`` to keep tables
short, so those are left out of the comparison.
"""

from __future__ import annotations

import pytest

from kptrdoc.btf import Func, Struct, Union, Var, parse_btf
from kptrdoc.btf.cformat import CRenderer, CRenderOptions
from kptrdoc.elf import ElfObject
from kptrdoc.objects.cdecl import declaration


@pytest.mark.parametrize(
    "fixture", ["maps", "globals", "special_kptr", "special_graph", "special_lock"]
)
def test_declarations_match_renderer(compiled, fixture):
    spec = parse_btf(ElfObject.open(compiled(fixture)).btf)
    renderer = CRenderer(spec, CRenderOptions(tag_macros=True))
    compared = 0
    for t in spec:
        pairs = []
        if isinstance(t, (Struct, Union)):
            pairs = [(m.type, m.name) for m in t.members]
        elif isinstance(t, (Func, Var)):
            pairs = [(t.type, t.name)]
        for type_id, name in pairs:
            ours = declaration(spec, type_id, name)
            if "{...}" in ours:
                continue
            assert ours == renderer.declaration(type_id, name)
            compared += 1
    assert compared > 10
