"""Fixtures of the BTF reader tests; they live in ``btf_support`` with the helpers.

Test modules import helpers from ``btf_support``, never from ``conftest``: with
several test folders, the name ``conftest`` means whichever was loaded last.
"""

from btf_support import (  # noqa: F401 (fixtures, registered by being here)
    bpftool,
    bpftool_dialect,
    build_dir,
    c_bpftool,
    clang,
    compile_fixture,
    pahole,
)
