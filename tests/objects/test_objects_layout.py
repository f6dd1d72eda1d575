"""Record layouts against pahole reading the same object's BTF."""

from __future__ import annotations

import shutil

import pytest
from objects_support import pahole

from kptrdoc.objects import load_object

FIXTURES = [
    "maps",
    "globals",
    "special_kptr",
    "special_untrusted",
    "special_lock",
    "special_graph",
    "special_uptr",
]


def _records(obj):
    layouts = []
    for m in obj.maps:
        for layout in (m.key, m.value):
            if layout is not None:
                layouts.append(layout)
    layouts += [v.layout for v in obj.globals if v.layout is not None]
    return {
        lay.type.removeprefix("struct "): lay for lay in layouts if lay.type.startswith("struct ")
    }


@pytest.mark.skipif(shutil.which("pahole") is None, reason="pahole is not installed")
@pytest.mark.parametrize("fixture", FIXTURES)
def test_layouts_match_pahole(compiled, fixture):
    path = compiled(fixture)
    records = _records(load_object(path))
    assert records, "each fixture has at least one struct key, value or global"
    for name, layout in records.items():
        members, holes, padding = pahole(path, name)
        assert [(f.name, f.offset, f.size) for f in layout.fields] == members, name
        assert [(h.after, h.size) for h in layout.holes] == holes, name
        assert layout.padding == padding, name
