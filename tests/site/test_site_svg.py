"""The byte diagram: well-formed SVG, one box per field at its offset, padding hatched."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kptrdoc.handler.svg import CELL, MARGIN, DiagramField, byte_diagram

NS = {"svg": "http://www.w3.org/2000/svg"}


def boxes(markup: str) -> list[ET.Element]:
    root = ET.fromstring(markup)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert float(root.get("width")) > 0 and float(root.get("height")) > 0
    return root.findall("svg:g", NS)


def test_single_kptr_field() -> None:
    markup = byte_diagram([DiagramField(0, 8, "cpumask", "kptr")], 8, title="value")
    (box,) = boxes(markup)
    assert (box.get("data-offset"), box.get("data-size"), box.get("data-kind")) == (
        "0",
        "8",
        "kptr",
    )
    rect = box.find("svg:rect", NS)
    assert rect.get("class") == "kd-kptr"
    assert float(rect.get("x")) == MARGIN and float(rect.get("width")) == 8 * CELL
    assert "cpumask" in "".join(box.itertext())


def test_padding_and_offsets() -> None:
    fields = [
        DiagramField(0, 4, "a"),
        DiagramField(8, 8, "p", "kptr_untrusted"),
        DiagramField(16, 1, "c"),
    ]
    found = [
        (b.get("data-offset"), b.get("data-size"), b.get("data-kind"))
        for b in boxes(byte_diagram(fields, 24))
    ]
    assert found == [
        ("0", "4", "field"),
        ("4", "4", "padding"),
        ("8", "8", "kptr_untrusted"),
        ("16", "1", "field"),
        ("17", "7", "padding"),
    ]
    markup = byte_diagram(fields, 24)
    root = ET.fromstring(markup)
    pattern = root.find("svg:defs/svg:pattern", NS)
    pads = [b for b in boxes(markup) if b.get("data-kind") == "padding"]
    assert all(p.find("svg:rect", NS).get("fill") == f"url(#{pattern.get('id')})" for p in pads)
    # byte 17 of a 16-byte row sits in the second row, second column
    second_row = pads[1].find("svg:rect", NS)
    assert float(second_row.get("x")) == MARGIN + 1 * CELL
    assert float(second_row.get("y")) > float(boxes(markup)[0].find("svg:rect", NS).get("y"))


def test_field_wrapping_rows_is_split() -> None:
    markup = byte_diagram([DiagramField(8, 16, "wide")], 32)
    wide = [b for b in boxes(markup) if b.get("data-name") == "wide"]
    assert [(b.get("data-offset"), b.get("data-size")) for b in wide] == [("8", "8"), ("16", "8")]


def test_names_are_escaped() -> None:
    markup = byte_diagram([DiagramField(0, 8, "<script>x</script>", "kptr")], 8, title="<b>")
    assert "<script>" not in markup and "<b>" not in markup
    assert "&lt;script&gt;" in markup
    boxes(markup)  # still well-formed


def test_colours_follow_the_theme() -> None:
    markup = byte_diagram([DiagramField(0, 8, "x", "kptr")], 8)
    assert "var(--md-accent-fg-color" in markup and "currentColor" in markup
