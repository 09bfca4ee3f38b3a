"""A real IPython shell with the extension loaded, for the fast magics tests."""

from __future__ import annotations

import pytest
from ipython_shell import extension_shell


@pytest.fixture
def ip():
    with extension_shell() as shell:
        yield shell
