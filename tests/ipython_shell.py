"""IPython's test shell with hector_nb loaded, for tests that drive magics without a kernel.

The test shell is a singleton shared by every test in the run, so names a test puts
into its namespace are taken out again afterwards: one test's variables must not
change what another test's magics find.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from IPython import get_ipython
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython


@contextmanager
def extension_shell() -> Iterator[InteractiveShell]:
    shell = start_ipython() or get_ipython()
    names_before = set(shell.user_ns)
    shell.run_line_magic("load_ext", "hector_nb")
    try:
        yield shell
    finally:
        shell.run_line_magic("unload_ext", "hector_nb")
        for name in set(shell.user_ns) - names_before:
            del shell.user_ns[name]
