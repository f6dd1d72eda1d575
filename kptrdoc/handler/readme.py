"""A sample folder's ``README.md``: YAML front matter, then Markdown prose."""

from __future__ import annotations

from pathlib import Path

import yaml

from kptrdoc.errors import KptrdocError
from kptrdoc.handler.model import FrontMatter


class ReadmeError(KptrdocError):
    """A README without usable front matter; the message names the file."""


def split_front_matter(text: str, path: Path | str) -> tuple[dict, str]:
    """The front matter as a dict and the prose after it."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ReadmeError(f"{path}: expected front matter ('---' on the first line)")
    for number, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            raw = "".join(lines[1:number])
            body = "".join(lines[number + 1 :])
            break
    else:
        raise ReadmeError(f"{path}: front matter is not closed by a '---' line")
    try:
        data = yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise ReadmeError(f"{path}: front matter is not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ReadmeError(f"{path}: front matter must be a mapping of keys to values")
    return data, body.lstrip("\n")


def front_matter(data: dict, path: Path | str, folder: str) -> FrontMatter:
    """Check the keys kptrdoc uses and build :class:`FrontMatter`."""
    macro = data.get("macro", folder)
    if not isinstance(macro, str) or not macro.strip():
        raise ReadmeError(f"{path}: 'macro' must be the macro's name")
    related = data.get("related", []) or []
    if isinstance(related, str):
        related = [r.strip() for r in related.split(",") if r.strip()]
    if not isinstance(related, list) or not all(isinstance(r, str) for r in related):
        raise ReadmeError(f"{path}: 'related' must be a list of macro names")
    also = data.get("also", []) or []
    if not isinstance(also, list) or not all(isinstance(a, str) and a.strip() for a in also):
        raise ReadmeError(f"{path}: 'also' must be a list of the other names the page covers")
    since = data.get("since", "")
    if since is not None and not isinstance(since, (str, int, float)):
        raise ReadmeError(f"{path}: 'since' must be a libbpf version such as v0.8.0")
    return FrontMatter(
        macro=macro.strip(),
        header=str(data.get("header", "") or ""),
        since=str(since or ""),
        related=list(related),
        title=str(data.get("title", "") or ""),
        also=[a.strip() for a in also],
    )


def read_readme(folder: Path) -> tuple[FrontMatter, str]:
    """Front matter and prose of ``folder/README.md``."""
    path = folder / "README.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReadmeError(f"{path}: cannot read ({exc.strerror})") from None
    data, body = split_front_matter(text, path)
    return front_matter(data, path, folder.name), body
