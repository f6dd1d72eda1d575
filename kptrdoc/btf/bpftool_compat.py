"""Where ``bpftool btf dump file`` output differs between bpftool releases.

The raw formatter follows the newest behaviour by default; a test reads
:func:`dialect_for` with the installed bpftool's version so that the output
is compared like for like. Keep every known difference here and nowhere else.

Checked against bpftool's ``dump_btf_type`` in v7.1.0 (Debian 12), v7.5.0
(Debian 13), v7.7.0 and the tree after it (24-bit vlen, April 2026): the text
of each line is the same in all of them (kind_flag of TYPE_TAG/DECL_TAG is
not printed by any); what changes is how many bits of the info word the tool
reads.
"""

from __future__ import annotations

from typing import NamedTuple


class Dialect(NamedTuple):
    """How one bpftool generation reads and prints a record."""

    name: str
    vlen_mask: int
    """Bits of ``info`` taken as vlen when printing ``vlen=`` and walking members."""
    kind_mask: int
    """Bits of ``info >> 24`` taken as the kind (libbpf before 2026: 5 bits)."""


NEWEST = Dialect("newest", vlen_mask=0xFFFFFF, kind_mask=0x7F)
"""bpftool with 24-bit vlen support (the tree after v7.7.0; no release yet)."""

LEGACY = Dialect("legacy", vlen_mask=0xFFFF, kind_mask=0x1F)
"""bpftool 7.1 .. 7.7: ``BTF_INFO_VLEN`` is 16 bits, ``BTF_INFO_KIND`` 5 bits."""

DIFFERENCES: tuple[tuple[str, str], ...] = (
    (
        "vlen width",
        "bpftool up to 7.7 prints vlen= and walks members with a 16-bit vlen; newer ones 24-bit",
    ),
    (
        "kind width",
        "libbpf up to 1.7 reads a 5-bit kind; newer trees a 7-bit kind (unknown kinds "
        "are skipped by their layout entry)",
    ),
    (
        "enum64 signed values",
        "7.1 casts to unsigned long long before printing with %lld; 7.5 casts to long long: "
        "the printed text is the same",
    ),
)

FIRST_24BIT_VLEN = (7, 8)
"""The first bpftool release whose raw dump reads 24-bit vlen (the change landed after 7.7.0)."""


def dialect_for(version: tuple[int, int] | None) -> Dialect:
    """The dialect of bpftool ``version`` (``None``: the newest)."""
    if version is None or version >= FIRST_24BIT_VLEN:
        return NEWEST
    return LEGACY


class CDialect(NamedTuple):
    """How one Debian build of bpftool prints ``format c``.

    bpftool prints C through the libbpf it is built with. Debian builds
    bpftool from the kernel tree, so its libbpf is that kernel's
    ``tools/lib/bpf``, stable fixes included. Compared at test time with the
    builds themselves (``tests/btf/test_c_dump.py``):

    - Debian 12's 7.1.0+6.1 already has libbpf's December 2022 layout fixes
      (0b80970c padding, b9f1a06c packed records, db117049 empty records) and
      the July 2024 ``(void)`` prototypes (205e86de), but not e6e0e3fd, the
      ``mode(byte)``/``mode(word)`` attribute on one- and eight-byte enums;
    - Debian 13's 7.5.0+6.12 has all of them, sorts the types (bpftool's
      ``sort_btf_c`` with its content hash, f333f55) and appends kfunc prototypes
      with the ``__ksym`` and ``__weak`` macros (3e0251a), in the order of their
      ``bpf_kfunc`` tags. bpftool's own v7.5.0 tag is later than that tree: it
      also prints ``__bpf_fastcall`` and sorts the kfuncs by name (7cbe3da).
    """

    name: str
    enum_size_modes: bool
    """One- and eight-byte enums get ``mode(byte)``/``mode(word)`` (libbpf e6e0e3fd)."""
    sorted_types: bool
    """The types are dumped in ``sort_btf_c`` order, not by id."""
    kfuncs: bool
    """``__ksym``/``__weak`` macros, then every ``bpf_kfunc``-tagged function's prototype,
    in the order of the tags."""


C_7_1 = CDialect("7.1", enum_size_modes=False, sorted_types=False, kfuncs=False)
"""Debian 12's bpftool 7.1.0 (built from Linux 6.1)."""
C_7_5 = CDialect("7.5", enum_size_modes=True, sorted_types=True, kfuncs=True)
"""Debian 13's bpftool 7.5.0 (built from Linux 6.12)."""
C_NEWEST = C_7_5
C_DIALECTS = {d.name: d for d in (C_7_1, C_7_5)}
"""The builds the C dump is checked against, by bpftool version."""


def c_dialect_for(version: tuple[int, int] | None) -> CDialect:
    """The C dialect of bpftool ``version``: 7.5's from 7.5 on (``None``: the newest)."""
    if version is None or version >= (7, 5):
        return C_7_5
    return C_7_1
