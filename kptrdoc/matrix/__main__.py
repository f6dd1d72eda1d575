"""``python -m kptrdoc.matrix`` (what ``make matrix`` runs)."""

import sys

from kptrdoc.matrix.cli import main

sys.exit(main())
