"""A download's files, from templates, and its ``.tar.gz``.

Each file kind has its template under ``templates/``: ``Makefile.jinja``,
``loader.c.jinja`` (one loader per example file) and ``README.md.jinja``. The archive
is reproducible: entries sorted, owned by root, with one fixed time, gzip without a
name or time, so the same project always gives the same bytes.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

import jinja2

from kptrdoc import toolchain
from kptrdoc.floors import derive_floor, objects_uses
from kptrdoc.loader import UPROBE_ARGS, USDT_ARGS, USDT_NAME, USDT_PROVIDER, test_packet
from kptrdoc.project.spec import ExampleFile, Project
from kptrdoc.project.userspace import LOADER_HEADERS, PRELUDE

TEMPLATES = Path(__file__).resolve().parent / "templates"

TRIGGER_TEXT = {
    "fork": "forks a child that exits at once",
    "close": "opens /dev/null and closes it",
    "getpgid": "calls getpgid(getppid())",
    "test_run": "runs it once with BPF_PROG_TEST_RUN",
    "uprobe": "calls the function kptrdoc_uprobe_target(1001, ..., 6006) it is attached to",
    "usdt": "passes the USDT probe kptrdoc:args it is attached to",
    "iter": "reads the iterator to its end",
}
"""What each trigger does, in the README's words (the loader does the same)."""

ARCHIVE_TIME = 946684800
"""The time of every entry (2000-01-01): the archive does not change with the build."""


@dataclass(frozen=True, slots=True)
class FileNeeds:
    """Which parts of the loader template one example file needs."""

    wait: bool
    checks: bool
    trace: bool
    iter: bool
    packet: bool
    uprobe: bool
    usdt: bool


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def _needs(file: ExampleFile) -> FileNeeds:
    triggers = {r.trigger for r in file.runs}
    return FileNeeds(
        wait="fork" in triggers,
        checks=any(r.checks for r in file.runs),
        trace=any(r.printed for r in file.runs),
        iter="iter" in triggers,
        packet=any(r.packet for r in file.runs),
        uprobe="uprobe" in triggers,
        usdt="usdt" in triggers,
    )


def _packet_rows() -> list[str]:
    data = test_packet()
    return [
        " ".join(f"0x{b:02x}," for b in data[i : i + 12]).rstrip() for i in range(0, len(data), 12)
    ]


def _floor_text(project: Project) -> str:
    """The kernel the examples need, from the cited facts (what their objects use)."""
    from kptrdoc.compile import compile_main

    objects = [(f.source.name, compile_main(f.source).path) for f in project.files]
    floor = derive_floor(project.name, objects_uses(objects), (project.macro,))
    if floor.floor is None:
        return ""
    reasons = "; ".join(
        f"{item.use.kind_label} {item.use.name}: {item.counted.commit[:12]} "
        f'"{item.counted.subject}"'
        for item in floor.reasons
        if item.counted is not None
    )
    return f"Linux {floor.floor} or newer ({reasons})"


def project_files(project: Project, page_url: str) -> dict[str, str]:
    """Every file of the download, by its name in the project directory."""
    env = _environment()
    stems = [f.stem for f in project.files]
    debian = {r.source: r.version for r in toolchain.header_releases()}
    files = {
        "Makefile": env.get_template("Makefile.jinja").render(project=project, stems=stems),
        "README.md": env.get_template("README.md.jinja").render(
            project=project, stems=stems, page_url=page_url, trigger_text=TRIGGER_TEXT,
            debian={"bookworm": debian.get("bookworm", "an older libbpf"),
                    "trixie": debian.get("trixie", "an older libbpf")},
            floor=_floor_text(project),
        ),
    }  # fmt: skip
    loader = env.get_template("loader.c.jinja")
    for file in project.files:
        files[file.source.name] = file.listing.text
        files[f"{file.stem}.c"] = loader.render(
            project=project, file=file, file_needs=_needs(file), packet_rows=_packet_rows(),
            uprobe_args=UPROBE_ARGS, usdt_args=USDT_ARGS, usdt_provider=USDT_PROVIDER,
            usdt_name=USDT_NAME, prelude=PRELUDE, headers=LOADER_HEADERS,
        )  # fmt: skip
    return files


def archive(project: Project, files: dict[str, str]) -> bytes:
    """The ``.tar.gz`` of ``files`` under one directory named after the project."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        top = tarfile.TarInfo(project.name)
        top.type, top.mode, top.mtime = tarfile.DIRTYPE, 0o755, ARCHIVE_TIME
        tar.addfile(top)
        for name in sorted(files):
            data = files[name].encode()
            info = tarfile.TarInfo(f"{project.name}/{name}")
            info.size, info.mode, info.mtime = len(data), 0o644, ARCHIVE_TIME
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()
