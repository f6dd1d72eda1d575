"""The mkdocstrings handler ``bpf``: ``::: __kptr`` renders the evidence page of ``__kptr``.

:mod:`~kptrdoc.handler.collect` gathers the data into the dataclasses of
:mod:`~kptrdoc.handler.model`; the Jinja templates under ``templates/material``
(one per section) render it. The shim ``mkdocstrings_handlers/bpf`` exposes
:func:`get_handler`, which is how mkdocstrings finds handlers.

Options (global under ``plugins.mkdocstrings.handlers.bpf.options`` or per block):

``sections``
    the sections to render, in page order; default :data:`SECTIONS`.
``heading_level``
    level of the section headings (default 2).
``samples_dir``
    where the sample folders are, relative to ``mkdocs.yml`` (default ``samples``).
``load``
    load the programs into the running kernel (default true).
``show_log``
    include the folded verifier logs (default true).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from markupsafe import Markup
from mkdocstrings import BaseHandler, CollectionError, get_logger

from kptrdoc.errors import KptrdocError
from kptrdoc.handler.collect import CollectOptions, broken_page, collect_page
from kptrdoc.handler.model import MacroPage
from kptrdoc.handler.registers import register_table
from kptrdoc.handler.sources import log_lines_with

SECTIONS = (
    "title",
    "definition",
    "example",
    "emits",
    "maps",
    "verifier",
    "kernels",
    "mistakes",
    "externs",
    "related",
    "provenance",
)
"""Every section a page can have, in the order of the page anatomy (usage prose is the page's)."""

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

_logger = get_logger(__name__)


class BpfHandler(BaseHandler):
    """Collects a macro's evidence and renders it with one template per section."""

    name: ClassVar[str] = "bpf"
    domain: ClassVar[str] = "bpf"
    fallback_theme: ClassVar[str] = "material"

    default_options: ClassVar[dict[str, Any]] = {
        "sections": list(SECTIONS),
        "heading_level": 2,
        "samples_dir": "samples",
        "load": True,
        "show_log": True,
    }

    def __init__(
        self, config: Mapping[str, Any], base_dir: Path, strict: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.config = dict(config or {})
        self.base_dir = base_dir
        self.strict = strict
        """A page that cannot be collected fails the build (``mkdocs build --strict``);
        otherwise (``mkdocs serve``) the page shows why, so the contributor sees it."""
        self.global_options = dict(self.config.get("options", {}) or {})
        self._pages: dict[tuple[str, str, bool], MacroPage] = {}
        self.env.trim_blocks = True
        self.env.lstrip_blocks = True
        self.env.filters["anchor"] = _anchor
        self.env.filters["text"] = _text
        self.env.filters["kd_log_lines"] = log_lines_with
        self.env.filters["kd_register_table"] = register_table
        self.env.filters["kd_numbered_as"] = numbered_as

    def get_templates_dir(self, handler: str | None = None) -> Path:
        return TEMPLATES_DIR

    def get_options(self, local_options: Mapping[str, Any]) -> MutableMapping[str, Any]:
        options = {**self.default_options, **self.global_options, **dict(local_options or {})}
        sections = options["sections"]
        if isinstance(sections, str):
            sections = [s.strip() for s in sections.split(",") if s.strip()]
        unknown = [s for s in sections if s not in SECTIONS]
        if unknown:
            raise CollectionError(
                f"bpf handler: unknown section(s) {', '.join(unknown)}; "
                f"known: {', '.join(SECTIONS)}"
            )
        options["sections"] = list(sections)
        return options

    def collect(self, identifier: str, options: MutableMapping[str, Any]) -> MacroPage:
        samples_dir = (self.base_dir / str(options["samples_dir"])).resolve()
        key = (identifier, str(samples_dir), bool(options["load"]))
        if key not in self._pages:
            try:
                self._pages[key] = collect_page(
                    identifier, CollectOptions(samples_dir=samples_dir, load=bool(options["load"]))
                )
            except KptrdocError as exc:
                if self.strict:
                    raise CollectionError(str(exc)) from exc
                _logger.warning("%s: %s", identifier, exc)
                self._pages[key] = broken_page(identifier, samples_dir, str(exc))
            for problem in self._pages[key].problems:
                _logger.info("%s: %s", identifier, problem)
        return self._pages[key]

    def render(self, data: MacroPage, options: MutableMapping[str, Any], **_: Any) -> str:
        template = self.env.get_template("page.html.jinja")
        return template.render(page=data, options=options, sections=options["sections"])


def _anchor(text: str) -> str:
    """An HTML id fragment from a name (``__kptr`` stays ``__kptr``)."""
    return "".join(c if c.isalnum() or c in "_-" else "-" for c in str(text)).strip("-") or "x"


def _text(value: Any) -> Markup:
    """Escape for an HTML text node: ``&``, ``<`` and ``>`` only, so quotes read as written."""
    return Markup(html.escape(str(value), quote=False))


_LINENO = re.compile(r'(<a href="#__codelineno-\d+-\d+">)\s*\d+(</a>)')
"""A line number of a highlighted listing's number column (pymdownx.highlight, table)."""


def numbered_as(listing: str, numbers: Sequence[int]) -> Markup:
    """A highlighted listing whose number column shows ``numbers`` (a line each) instead of
    1, 2, 3...: the lines of the real sample that the listing shows."""
    width = len(str(max(numbers, default=0)))
    found = iter(numbers)

    def renumber(match: re.Match[str]) -> str:
        number = next(found, None)
        if number is None:
            return match.group(0)
        return f"{match.group(1)}{number:>{width}}{match.group(2)}"

    return Markup(_LINENO.sub(renumber, str(listing)))


def get_handler(
    *,
    handler_config: MutableMapping[str, Any] | None = None,
    tool_config: Any = None,
    **kwargs: Any,
) -> BpfHandler:
    """What mkdocstrings calls to make the handler (through ``mkdocstrings_handlers.bpf``)."""
    base_dir = Path.cwd()
    config_file = getattr(tool_config, "config_file_path", None) or (
        tool_config.get("config_file_path") if isinstance(tool_config, Mapping) else None
    )
    if config_file:
        base_dir = Path(config_file).resolve().parent
    strict = getattr(tool_config, "strict", None)
    if strict is None and isinstance(tool_config, Mapping):
        strict = tool_config.get("strict")
    strict = True if strict is None else bool(strict)  # unknown: fail, never hide
    return BpfHandler(config=handler_config or {}, base_dir=base_dir, strict=strict, **kwargs)
