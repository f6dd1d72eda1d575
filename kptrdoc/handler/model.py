"""The page model of one macro: plain dataclasses, filled by collect, read by the templates.

Nothing here knows about Jinja or HTML (the SVG diagram is stored as the
markup :mod:`kptrdoc.handler.svg` produced, which escapes its own text); the
templates escape every other string they print.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kptrdoc.floors import DerivedFloor


@dataclass
class FrontMatter:
    """The README's front matter."""

    macro: str
    header: str = ""
    since: str = ""
    related: list[str] = field(default_factory=list)
    title: str = ""
    also: list[str] = field(default_factory=list)
    """Other names the page covers (internals such as ``__CORE_RELO``): each gets an
    anchor, and the coverage page links it there."""


@dataclass
class HistoryRow:
    """One libbpf release in the definition's history table."""

    version: str
    source: str
    status: str
    location: str
    text: str
    line: int = 0
    count: int = 0
    """How many definitions the release has (several under ``#if`` branches)."""
    siblings: list[str] = field(default_factory=list)
    siblings_added: list[str] = field(default_factory=list)
    """Names next to the definition in this release that were not in the previous one
    read: new to libbpf (``siblings_new``) or only moved next to it."""
    siblings_new: list[str] = field(default_factory=list)
    """Of ``siblings_added``, those libbpf's git history dates after the previous release
    read and up to this one."""
    siblings_removed: list[str] = field(default_factory=list)
    family: list[str] = field(default_factory=list)
    block: str = ""
    """The definition's block of adjacent lines in that release (macros only)."""
    block_line: int = 0


@dataclass
class DefinitionView:
    """The definition in the pinned libbpf, with where it is."""

    name: str
    kind: str
    header: str
    line: int
    end_line: int
    text: str
    comment: str
    version: str
    siblings: list[str] = field(default_factory=list)
    conditional_count: int = 1
    """How many definitions the name has (one per ``#if`` branch)."""
    comment_line: int = 0
    build: str = ""
    """The build the definition was chosen for (``-target bpf -D__TARGET_ARCH_x86``); ""
    when it is the header's first (no preprocessor run)."""
    condition: str = ""
    """The ``#if`` branch it sits under, as written; "" when none."""
    others: list[OtherDefinition] = field(default_factory=list)
    """The header's other definitions of the name, each with when it applies."""
    uses: list[str] = field(default_factory=list)
    """Macros the body refers to (``__PT_PARM1_REG``)."""


@dataclass
class OtherDefinition:
    location: str
    condition: str
    text: str


@dataclass
class ChainStep:
    """One link of a BTF chain: ``PTR``, ``TYPE_TAG 'kptr'``, ``member cpumask`` ..."""

    kind: str
    name: str
    type_id: int | None
    detail: str = ""
    """What BTF adds to the type: ``component_idx=0``, ``linkage=extern``; a param's index."""

    @property
    def label(self) -> str:
        return f"{self.head} {self.trailer}".strip()

    @property
    def trailer(self) -> str:
        """What follows the type id: ``component_idx=0``, ``linkage=extern``."""
        return "" if self.kind == "param" else self.detail

    @property
    def head(self) -> str:
        """The kind and name, before the type id."""
        if self.kind == "member":
            return f"member {self.name}"
        if self.kind == "param":
            return f"param {self.detail} '{self.name}'"
        if self.kind in ("TYPE_TAG", "DECL_TAG", "DATASEC"):
            return f"{self.kind} '{self.name}'"
        if not self.name and self.kind in ("STRUCT", "UNION", "ENUM", "ENUM64"):
            return f"{self.kind} (anon)"
        return f"{self.kind} {self.name}".strip()


@dataclass
class TagUse:
    """Where the compiled object carries the macro's BTF tag, as a chain of types."""

    where: str
    """``cpumask_map_value.cpumask`` or a global's name."""
    tag: str
    steps: list[ChainStep] = field(default_factory=list)
    sample: str = ""
    view: str = ""
    """How the use was found: ``tag`` (a BTF tag), ``member`` (a ``.maps`` member),
    ``section`` (an entry of a DATASEC the macro's section names) or ``symbol``
    (an ELF symbol with the macro's binding or visibility); empty: from the tag."""
    symbol: SymbolView | None = None
    """The ELF symbol of the same name, for ``section`` and ``symbol`` uses."""

    @property
    def kind(self) -> str:
        return self.view or ("tag" if self.tag else "member")


@dataclass
class SymbolView:
    """An ELF symbol as ``readelf -s`` shows it."""

    name: str
    binding: str
    visibility: str
    section: str
    """The section the symbol is defined in; ``UND`` for an extern."""
    btf_linkage: str = ""
    """The linkage of the BTF ``VAR``/``FUNC`` of the same name (``global``, ``extern`` ...)."""


@dataclass
class FieldRow:
    """A member of a map's key or value record."""

    offset: int
    size: int
    name: str
    type: str
    special: str | None = None
    bitfield: bool = False


@dataclass
class MapView:
    """A map as libbpf creates it, with its value record laid out."""

    name: str
    type: str
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    key_type: str = ""
    value_type: str = ""
    pinning: str | None = None
    flag_names: list[str] = field(default_factory=list)
    fields: list[FieldRow] = field(default_factory=list)
    holes: list[tuple[int, int]] = field(default_factory=list)
    svg: str = ""
    sample: str = ""
    kind: str = "map"
    """``map`` for a BTF-defined map, ``global`` for a data section's variables."""


@dataclass
class VerifierRun:
    """What the running kernel's verifier said about one program."""

    verdict: str
    kernel_release: str
    libbpf_version: str
    clang_version: str
    insns_processed: int | None
    log: str
    reason: str = ""
    outcome: str = ""
    """A :class:`kptrdoc.expectations.Outcome` value."""
    status: str = ""
    """A :class:`kptrdoc.expectations.Status` value: how the outcome stands."""
    status_detail: str = ""
    matches_expectation: bool = True
    """As annotated, drifted (another build's wording) or not verifiable here: not a failure."""
    missing_msgs: list[str] = field(default_factory=list)
    run_trigger: str = ""
    """The ``__run`` trigger the program was attached to and fired with ("" when not run)."""
    run_counts: tuple[int, int] | None = None
    """Its run count before and after the trigger."""
    run_error: str = ""

    @property
    def ran(self) -> bool:
        return (
            bool(self.run_counts) and not self.run_error and self.run_counts[1] > self.run_counts[0]
        )


@dataclass
class ProgramView:
    """One program of a sample, with what it expects and what happened."""

    name: str
    section: str
    sample: str
    expect: str
    """``success``, ``failure`` or ``""``."""
    description: str = ""
    msgs: list[str] = field(default_factory=list)
    source: str = ""
    first_line: int = 1
    hl_lines: list[int] = field(default_factory=list)
    """Line numbers relative to ``first_line`` (1 = first line of ``source``)."""
    verifier: VerifierRun | None = None
    checks: list[str] = field(default_factory=list)
    """Its ``__run_check`` lines, as written: what user space reads back after a run."""

    @property
    def mistake(self) -> bool:
        """A ``__failure`` program, or any program of a ``mistakes*.bpf.c`` sample: one the
        kernel loads, and which then reads the wrong thing (a ``__run_check`` says what)."""
        return self.expect == "failure" or self.sample.startswith("mistakes")


@dataclass
class SampleView:
    """One ``*.bpf.c`` of the folder."""

    name: str
    path: str
    source: str
    hl_lines: list[int] = field(default_factory=list)
    programs: list[ProgramView] = field(default_factory=list)
    listing: str = ""
    """The sample as a user writes it: without the harness annotations of ``kptrdoc.h``
    (:mod:`kptrdoc.project.listing`); ``""`` when it could not be made."""
    listing_lines: list[int] = field(default_factory=list)
    """The number in the real sample of each line of ``listing``."""

    @property
    def listing_hl_lines(self) -> list[int]:
        """``hl_lines`` as lines of ``listing`` (1 = its first line)."""
        index = {number: i for i, number in enumerate(self.listing_lines, start=1)}
        return [index[n] for n in self.hl_lines if n in index]

    error: str = ""
    """Why this sample could not be compiled or inspected ("" when it could)."""


@dataclass
class ExternView:
    """A kernel symbol (kfunc, ksym, kconfig) a sample needs."""

    name: str
    kind: str
    signature: str
    samples: list[str] = field(default_factory=list)


@dataclass
class RelatedLink:
    name: str
    url: str | None
    """Relative URL of its page here, or ``None`` when there is no page yet."""
    defined: bool = True
    note: str = ""


@dataclass
class Provenance:
    """What produced the page."""

    date: str
    kernel: str
    libbpf: str
    clang: str
    machine: str = ""
    verified: str = ""
    """When the samples were compiled and loaded (cached evidence keeps its own date)."""


@dataclass
class KernelCell:
    verdict: str
    short: str
    """``✓`` or a short reason."""
    reason: str = ""
    kernel_release: str = ""
    status: str = ""
    """How the cell stands against the expectation (``as expected``, ``not on this kernel`` ...)."""


@dataclass
class KernelRow:
    sample: str
    program: str
    expect: str
    cells: dict[str, KernelCell] = field(default_factory=dict)
    """Kernel id -> cell."""


@dataclass
class KernelColumn:
    id: str
    label: str
    release: str
    build: str = ""
    """The first digits of the sha256 of the kernel's BTF: which build of the release."""


@dataclass
class KernelMatrix:
    """The kernel matrix's recorded verdicts for the page's samples (``make matrix``)."""

    statement: str
    minimum: str | None = None
    """The measured floor."""
    derived: DerivedFloor | None = None
    """The cited floor, derived from what the samples use and the kernel history facts
    (:mod:`kptrdoc.floors`)."""
    kernels: list[KernelColumn] = field(default_factory=list)
    rows: list[KernelRow] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    not_measured: list[str] = field(default_factory=list)
    """Programs the record does not hold yet (``sample: program``)."""


@dataclass
class MacroPage:
    """Everything one macro's page shows."""

    identifier: str
    front: FrontMatter
    definition: DefinitionView | None
    history: list[HistoryRow] = field(default_factory=list)
    since_commit: str = ""
    """The libbpf commit that added the macro (kptrdoc/data/libbpf_since.json), with its
    subject: ``c87b3a6065d9 libbpf: Add BPF_CORE_READ/BPF_CORE_READ_INTO helpers``."""
    samples: list[SampleView] = field(default_factory=list)
    tag_uses: list[TagUse] = field(default_factory=list)
    evidence: list[Any] = field(default_factory=list)
    """What the evidence providers found in every sample (:mod:`kptrdoc.handler.evidence`),
    in provider order; each names the template that renders it."""
    symbol_marks: list[str] = field(default_factory=list)
    """What the definition asks of an ELF symbol: ``binding WEAK``, ``visibility HIDDEN``."""
    maps: list[MapView] = field(default_factory=list)
    externs: list[ExternView] = field(default_factory=list)
    related: list[RelatedLink] = field(default_factory=list)
    provenance: Provenance | None = None
    matrix: KernelMatrix | None = None
    problems: list[str] = field(default_factory=list)
    """Evidence that could not be gathered, one sentence each (shown as a warning)."""

    @property
    def examples(self) -> list[ProgramView]:
        return [p for s in self.samples for p in s.programs
                if p.expect == "success" and not p.mistake]  # fmt: skip

    @property
    def mistakes(self) -> list[ProgramView]:
        return [p for s in self.samples for p in s.programs if p.mistake]

    @property
    def example_samples(self) -> list[SampleView]:
        """Samples holding at least one example (a ``__success`` program, not a mistake)."""
        return [s for s in self.samples
                if any(p.expect == "success" and not p.mistake for p in s.programs)]  # fmt: skip
