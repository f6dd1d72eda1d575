"""MkDocs hook for the site benchmark: copy every generated page out as a plain file.

Active only when ``$KPTRDOC_EXPORT_GENERATED`` names a directory; files that
mkdocs-gen-files created (they live outside ``docs_dir``) are written there
under their site paths.
"""

from __future__ import annotations

import os
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files


def on_files(files: Files, config: MkDocsConfig) -> Files:
    target = os.environ.get("KPTRDOC_EXPORT_GENERATED")
    if not target:
        return files
    docs_dir = Path(config["docs_dir"]).resolve()
    for file in files:
        if not file.src_uri.endswith(".md") or file.abs_src_path is None:
            continue
        source = Path(file.abs_src_path).resolve()
        if docs_dir in source.parents:
            continue
        destination = Path(target) / file.src_uri
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(source.read_bytes())
    return files
