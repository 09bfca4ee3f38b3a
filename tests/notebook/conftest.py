"""A real IPython shell with the extension loaded, for the fast magics tests."""

from __future__ import annotations

import pytest
from IPython import get_ipython
from IPython.testing.globalipapp import start_ipython


@pytest.fixture
def ip():
    shell = start_ipython() or get_ipython()  # the test shell is a singleton: made once, then reused
    shell.run_line_magic("load_ext", "hector_nb")
    yield shell
    shell.run_line_magic("unload_ext", "hector_nb")
