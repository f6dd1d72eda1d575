"""Fixtures of the sample-harness tests; they live in ``harness_support`` with the helpers.

Test modules import helpers from ``harness_support``, never from ``conftest``:
with several test folders, the name ``conftest`` means whichever was loaded last.
"""

from harness_support import kernel  # noqa: F401 (a fixture, registered by being here)
