"""Session-wide Go build for the interop tests."""

from __future__ import annotations

import pytest
from go_binaries import go_binaries


@pytest.fixture(scope="session")
def go_bin():
    return go_binaries()
