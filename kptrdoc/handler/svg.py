"""An inline SVG byte diagram of a record: one box per field, padding hatched.

The diagram is drawn on a grid of bytes (8 or 16 a row); a field wider than
what is left of a row continues on the next one. Colours come from CSS
classes whose rules use Material's CSS variables (with plain fallbacks), and
text uses ``currentColor``, so the same markup reads in the light and the
dark palette. Every name is escaped: field names come from BTF.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

CELL = 44
"""Width of one byte, in SVG user units."""
ROW_HEIGHT = 46
RULER = 18
"""Height of the offset labels above each row."""
MARGIN = 4

KPTR_KINDS = frozenset({"kptr", "kptr_ref", "kptr_untrusted", "percpu_kptr", "uptr"})
"""Special kinds drawn in the kptr colour; other special kinds get the generic one."""

STYLE = """
.kd-field{fill:var(--md-default-fg-color--lightest,#e0e0e0);stroke:currentColor;stroke-width:1}
.kd-kptr{fill:var(--md-accent-fg-color,#526cfe);fill-opacity:.3;
stroke:var(--md-accent-fg-color,#526cfe);stroke-width:2}
.kd-special{fill:var(--md-primary-fg-color--light,#9fa8da);fill-opacity:.45;
stroke:currentColor;stroke-width:1.5}
.kd-pad{stroke:currentColor;stroke-width:1;stroke-dasharray:3 2;stroke-opacity:.6}
.kd-hatch line{stroke:currentColor;stroke-opacity:.45;stroke-width:1}
.kd-text{fill:currentColor;font:12px var(--md-code-font-family,monospace)}
.kd-off{fill:currentColor;fill-opacity:.75;font:10px var(--md-code-font-family,monospace)}
"""


@dataclass(frozen=True)
class DiagramField:
    """One field of a record as the diagram needs it."""

    offset: int
    """Byte offset in the record."""
    size: int
    """Size in bytes (at least 1 is drawn)."""
    name: str
    special: str | None = None
    """The kernel-special kind (``kptr``, ``spin_lock``, ``timer``, ...) or ``None``."""


@dataclass(frozen=True)
class _Segment:
    offset: int
    size: int
    field: DiagramField | None
    """``None`` for padding."""
    first: bool
    """Whether this is the first piece of its field (labels go there)."""


def _pieces(
    fields: list[DiagramField], record_size: int
) -> list[tuple[int, int, DiagramField | None]]:
    """Fields in offset order with the padding between them as ``None`` pieces."""
    pieces: list[tuple[int, int, DiagramField | None]] = []
    cursor = 0
    for item in sorted(fields, key=lambda f: (f.offset, -f.size)):
        size = max(item.size, 1)
        if item.offset < cursor:
            continue  # overlapping (union member or bitfield sharing a byte): drawn once
        if item.offset > cursor:
            pieces.append((cursor, item.offset - cursor, None))
        pieces.append((item.offset, size, item))
        cursor = item.offset + size
    if record_size > cursor:
        pieces.append((cursor, record_size - cursor, None))
    return pieces


def _split(pieces: list[tuple[int, int, DiagramField | None]], per_row: int) -> list[_Segment]:
    segments = []
    for offset, size, item in pieces:
        start, first = offset, True
        while start < offset + size:
            row_end = (start // per_row + 1) * per_row
            end = min(offset + size, row_end)
            segments.append(_Segment(start, end - start, item, first))
            start, first = end, False
    return segments


def _fit(text: str, width: float, char_width: float = 7.2) -> str:
    room = int((width - 6) // char_width)
    if room <= 0:
        return ""
    return text if len(text) <= room else text[: max(room - 1, 1)] + "…"


def byte_diagram(
    fields: list[DiagramField], record_size: int, *, title: str = "", uid: str = "rec"
) -> str:
    """The SVG markup (a string starting with ``<svg``) of a record of ``record_size`` bytes.

    ``uid`` keeps the ids of the hatch pattern unique when a page holds
    several diagrams.
    """
    size = max(record_size, max((f.offset + max(f.size, 1) for f in fields), default=0), 1)
    per_row = 8 if size <= 8 else 16
    rows = (size + per_row - 1) // per_row
    width = MARGIN * 2 + per_row * CELL
    height = MARGIN * 2 + rows * (RULER + ROW_HEIGHT)
    pattern_id = f"kd-hatch-{escape(uid, quote=True)}"
    label = title or f"byte layout, {size} bytes"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="kd-bytes" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'style="max-width:100%;height:auto" aria-label="{escape(label, quote=True)}">',
        f"<title>{escape(label)}</title>",
        f"<style>{STYLE.strip()}</style>",
        f'<defs><pattern id="{pattern_id}" class="kd-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<line x1="0" y1="0" x2="0" y2="6"/></pattern></defs>',
    ]
    for segment in _split(_pieces(fields, size), per_row):
        row, column = divmod(segment.offset, per_row)
        x = MARGIN + column * CELL
        y = MARGIN + row * (RULER + ROW_HEIGHT) + RULER
        w = segment.size * CELL
        item = segment.field
        if item is None:
            offset = segment.offset
            out.append(
                f'<g class="kd-box" data-offset="{segment.offset}" data-size="{segment.size}" '
                f'data-kind="padding"><title>padding, {segment.size} bytes at +{offset}</title>'
                f'<rect class="kd-pad" x="{x}" y="{y}" width="{w}" height="{ROW_HEIGHT - 6}" '
                f'fill="url(#{pattern_id})"/></g>'
            )
        else:
            kind = item.special or "field"
            css = (
                "kd-kptr" if kind in KPTR_KINDS else ("kd-special" if item.special else "kd-field")
            )
            tip = f"{item.name}: {item.size} bytes at +{item.offset}"
            if item.special:
                tip += f" ({item.special})"
            out.append(
                f'<g class="kd-box" data-offset="{segment.offset}" data-size="{segment.size}" '
                f'data-kind="{escape(kind, quote=True)}" '
                f'data-name="{escape(item.name, quote=True)}">'
                f"<title>{escape(tip)}</title>"
                f'<rect class="{css}" x="{x}" y="{y}" width="{w}" '
                f'height="{ROW_HEIGHT - 6}" rx="3"/>'
            )
            if segment.first:
                text = item.name + (f" ({item.special})" if item.special else "")
                shown = _fit(text, w) or _fit(item.name, w)
                if shown:
                    out.append(
                        f'<text class="kd-text" x="{x + w / 2:g}" '
                        f'y="{y + (ROW_HEIGHT - 6) / 2 + 4:g}" '
                        f'text-anchor="middle">{escape(shown)}</text>'
                    )
            out.append("</g>")
        if segment.first:
            out.append(f'<text class="kd-off" x="{x + 2}" y="{y - 5}">+{segment.offset}</text>')
    segments = _split(_pieces(fields, size), per_row)
    if segments and segments[-1].size >= 2:
        end_row, end_col = divmod(size, per_row)
        if end_col == 0:
            end_row, end_col = end_row - 1, per_row
        ex = MARGIN + end_col * CELL
        ey = MARGIN + end_row * (RULER + ROW_HEIGHT) + RULER
        out.append(
            f'<text class="kd-off" x="{ex - 2}" y="{ey - 5}" text-anchor="end">{size}</text>'
        )
    out.append("</svg>")
    return "".join(out)
