"""Sample sources: which lines use a macro, a program's text, what the verifier log says.

Plain text work on the sample's C source and the verifier log; no I/O.
"""

from __future__ import annotations

import re

from kptrdoc.handler.model import DefinitionView


def usage_names(name: str, definition: DefinitionView | None) -> list[str]:
    """What a sample writes when it uses ``name``: the name, and for an enum its values."""
    names = [name.split()[-1]]
    if definition is not None and definition.kind == "enum" and "{" in definition.text:
        body = definition.text.split("{", 1)[1]
        body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
        names += re.findall(r"^\s*([A-Za-z_]\w*)\s*(?:=[^,]*)?,?", body, re.M)
    return names


def macro_lines(source: str, name: str | list[str]) -> list[int]:
    """1-based lines of ``source`` that use ``name`` (or any of the names) in code.

    Comments and string literals do not count.
    """
    names = [name] if isinstance(name, str) else name
    alternatives = "|".join(re.escape(n.split()[-1]) for n in names)
    pattern = re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])")
    found = []
    in_comment = False
    for number, line in enumerate(source.splitlines(), start=1):
        code = line
        if in_comment:
            if "*/" not in code:
                continue
            code = code.split("*/", 1)[1]
            in_comment = False
        code = re.sub(r"/\*.*?\*/", "", code)
        if "/*" in code:
            code, in_comment = code.split("/*", 1)[0], True
        code = code.split("//", 1)[0]
        code = re.sub(r'"(?:\\.|[^"\\])*"', '""', code)
        if pattern.search(code):
            found.append(number)
    return found


def function_source(source: str, program: str) -> tuple[str, int]:
    """The program's text from its ``SEC(...)`` line to its closing brace, and its first line."""
    lines = source.splitlines()
    name = re.compile(rf"(?<![\w]){re.escape(program)}\s*[,(]")
    for index, line in enumerate(lines):
        if not name.search(line) or line.lstrip().startswith(("//", "/*", "*")):
            continue
        start = index
        while (
            start > 0
            and lines[start - 1].strip()
            and not lines[start - 1].rstrip().endswith(("}", ";"))
        ):
            start -= 1
            if lines[start].lstrip().startswith("SEC("):
                break
        depth, opened = 0, False
        for end in range(index, len(lines)):
            depth += lines[end].count("{") - lines[end].count("}")
            opened = opened or "{" in lines[end]
            if opened and depth <= 0:
                return "\n".join(lines[start : end + 1]), start + 1
    return "", 1


def log_source_line(log: str, sample_name: str) -> int | None:
    """The last source line the verifier annotated (``; ... @ file.c:NN``) before it stopped."""
    found = re.findall(rf"@ {re.escape(sample_name)}:(\d+)", log)
    return int(found[-1]) if found else None


def log_lines_with(log: str, msgs: list[str]) -> list[str]:
    """The verifier log's lines containing each expected message, in order."""
    lines = log.splitlines()
    out = []
    for msg in msgs:
        hit = next((ln for ln in lines if msg in ln), None)
        if hit is not None and hit not in out:
            out.append(hit)
    return out


# --------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------
