"""The object model's one-line C declarations are the C renderer's, in its brief mode.

The renderer's full output is compiled back with clang in its own tests; the
brief mode only shortens anonymous records to ``struct {...}`` and names a
``VAR`` by its variable, so everything else must be the full renderer's text.
"""

from __future__ import annotations

import pytest

from kptrdoc.btf import Func, Struct, Union, Var, parse_btf
from kptrdoc.btf.cformat import BRIEF, CRenderer, CRenderOptions, c_declaration, c_type_name
from kptrdoc.elf import ElfObject


@pytest.mark.parametrize(
    "fixture", ["maps", "globals", "special_kptr", "special_graph", "special_lock"]
)
def test_brief_declarations_match_the_full_renderer(compiled, fixture):
    spec = parse_btf(ElfObject.open(compiled(fixture)).btf)
    full = CRenderer(spec, CRenderOptions(tag_macros=True))
    compared = shortened = 0
    for t in spec:
        pairs = []
        if isinstance(t, (Struct, Union)):
            pairs = [(m.type, m.name) for m in t.members]
        elif isinstance(t, (Func, Var)):
            pairs = [(t.type, t.name)]
        for type_id, name in pairs:
            brief = c_declaration(spec, type_id, name, BRIEF)
            if "{...}" in brief:
                shortened += 1
                assert "{...}" not in full.declaration(type_id, name)
                continue
            assert brief == full.declaration(type_id, name)
            compared += 1
    assert compared > 10


def test_brief_forms(compiled):
    spec = parse_btf(ElfObject.open(compiled("maps")).btf)
    var = next(t for t in spec if isinstance(t, Var))
    assert c_declaration(spec, var.id, "", BRIEF).endswith(" " + var.name)
    anonymous = next(t for t in spec if isinstance(t, Struct) and not t.name)
    assert c_type_name(spec, anonymous.id) == "struct {...}"
    datasec = next(t for t in spec if t.kind_name == "DATASEC")
    assert c_type_name(spec, datasec.id) == f'SEC("{datasec.name}")'
