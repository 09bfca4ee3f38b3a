"""A real IPython shell with the extension loaded, and cells run into its history as a notebook's."""

from __future__ import annotations

import pytest
from IPython import get_ipython
from IPython.testing.globalipapp import start_ipython


@pytest.fixture
def notebook():
    shell = start_ipython() or get_ipython()  # the test shell is a singleton: made once, then reused
    shell.run_line_magic("load_ext", "hector_nb")

    def run(cell: str):
        result = shell.run_cell(cell, store_history=True)
        if result.error_in_exec is not None:
            raise result.error_in_exec
        return result.result

    run.shell = shell
    yield run
    shell.run_line_magic("unload_ext", "hector_nb")
