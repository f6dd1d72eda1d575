"""Fixtures of the checked-run tests; they live in ``runs_support`` with the helpers.

Test modules import helpers from ``runs_support``, never from ``conftest``.
"""

import pytest
from runs_support import kernel  # noqa: F401 (a fixture, registered by being here)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "matrix: boots Debian kernels under QEMU (slow, ~30 s)")
