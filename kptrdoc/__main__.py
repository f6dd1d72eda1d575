"""``python -m kptrdoc`` is the ``kptrdoc`` command."""

import sys

from kptrdoc.cli import main

sys.exit(main())
