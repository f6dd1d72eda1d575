"""Runs inside a matrix guest (or on the host): our loader on every object of a run.

``python -m kptrdoc.matrix.guest RUN_DIR COUNT`` loads every program of
``RUN_DIR/0.o`` ... ``RUN_DIR/<COUNT-1>.o`` with :mod:`kptrdoc.loader`, in one
Python process (starting Python takes seconds under TCG), and writes for each
object ``N.json`` (the loader's JSON list, as ``python -m kptrdoc.loader OBJ
--json`` prints it), ``N.err`` (a failure, one line) and ``N.rc`` last.
``RUN_DIR/triggers.json`` (optional) maps ``"N"`` to ``{program: trigger}``
for the programs a sample wants run (``__run``): those are attached and
triggered after loading. The values a run is given and must leave
(``__run_set``, ``__run_check``) need no entry there: the loader reads them
from the object's own BTF, writes and reads the globals, and puts what it
read under ``run.values``/``run.inputs``/``run.checks`` in ``N.json`` (a
``uprobe`` run builds its target program under ``$TMPDIR`` when the cache is
read-only, as it is in a guest). Standard library only, like the loader
(``python -S`` runs it).
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

from kptrdoc import loader
from kptrdoc.errors import KptrdocError


def run_object(obj: Path, triggers: dict[str, str]) -> tuple[list[dict] | None, str]:
    try:
        names = [p.name for p in loader.list_programs(obj)]
        results = [loader.load_program(obj, n, run=triggers.get(n)).to_json() for n in names]
        return results, ""
    except KptrdocError as exc:
        return None, f"kptrdoc: {exc}"
    except Exception as exc:  # report it for this object, go on with the others
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return None, f"{type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m kptrdoc.matrix.guest RUN_DIR COUNT", file=sys.stderr)
        return 2
    run_dir, count = Path(argv[0]), int(argv[1])
    try:
        triggers = json.loads((run_dir / "triggers.json").read_text())
    except (OSError, ValueError):
        triggers = {}
    for index in range(count):
        wanted = triggers.get(str(index)) if isinstance(triggers, dict) else None
        wanted = {str(k): str(v) for k, v in wanted.items()} if isinstance(wanted, dict) else {}
        results, error = run_object(run_dir / f"{index}.o", wanted)
        if results is not None:
            (run_dir / f"{index}.json").write_text(json.dumps(results, indent=1) + "\n")
        (run_dir / f"{index}.err").write_text(error + "\n" if error else "")
        (run_dir / f"{index}.rc").write_text("0\n" if results is not None else "1\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
