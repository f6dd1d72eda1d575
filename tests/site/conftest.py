"""Fixtures of the site tests: the pinned headers, a strict site build, a local HTTP server."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``; under CI=true a missing piece is a failure, not a skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def releases() -> list:
    """The libbpf header releases ``make setup`` fetched (skip when there are none)."""
    from kptrdoc.errors import KptrdocError
    from kptrdoc.toolchain import header_releases

    try:
        found = header_releases()
    except KptrdocError as exc:
        skip_or_fail(f"libbpf headers are not set up: {exc}")
    return found


@pytest.fixture(scope="session")
def pinned(releases: list):
    return releases[-1]


@pytest.fixture(scope="session")
def old_1_1(releases: list):
    found = [r for r in releases if r.version.startswith("1.1.")]
    if not found:
        skip_or_fail("the libbpf 1.1 headers (Debian bookworm) are not set up: run 'make setup'")
    return found[0]


def mkdocs_build(config: Path, site_dir: Path, cwd: Path) -> subprocess.CompletedProcess:
    """``mkdocs build --strict`` of ``config`` into ``site_dir``, in a fresh process."""
    cmd = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--strict",
        "-f",
        str(config),
        "-d",
        str(site_dir),
    ]
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="session")
def kernel_access() -> None:
    """Pages load their samples into the running kernel: skip (fail under CI) without access."""
    from kptrdoc.loader import kernel_access

    reason = kernel_access()
    if reason:
        skip_or_fail(f"cannot load BPF programs, so no page can be built: {reason}")


@pytest.fixture(scope="session")
def build_mkdocs(kernel_access):
    """:func:`mkdocs_build`, for tests that build a site of their own."""
    return mkdocs_build


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory, releases: list, kernel_access) -> Path:
    """The whole site, built once with ``mkdocs build --strict`` into a temporary directory."""
    site = tmp_path_factory.mktemp("site")
    proc = mkdocs_build(REPO / "mkdocs.yml", site, REPO)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        pytest.fail(f"mkdocs build --strict failed:\n{tail}", pytrace=False)
    return site


@pytest.fixture(scope="session")
def kptr_page(built_site: Path) -> str:
    page = built_site / "macros" / "__kptr" / "index.html"
    assert page.is_file(), f"{page} was not generated"
    return page.read_text(encoding="utf-8")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    """The built site served by http.server on an ephemeral localhost port."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
