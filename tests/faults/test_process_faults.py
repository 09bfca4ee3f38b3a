"""Processes and directories: nothing a plugin, a kernel or an unload leaves behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path


def test_a_kernel_leaves_no_cell_directory(tmp_path):
    # A kernel importing the magics, with a --subprocess provider cell, then exiting normally.
    script = textwrap.dedent('''
        from IPython.testing.globalipapp import start_ipython
        shell = start_ipython()
        shell.run_line_magic("load_ext", "hector_nb")
        shell.run_cell_magic("hector", "provider --subprocess --name shout", """
        from hector_nb import sdk
        class Shout(sdk.LLMProvider):
            def generate(self, messages, tools):
                return sdk.GenerateResponse(text=messages[-1].content.upper())
        """)
        assert shell.run_line_magic("hector", 'generate shout "hi" --no-stream').text == "HI"
        shell.run_line_magic("unload_ext", "hector_nb")
    ''')
    private = Path(tempfile.mkdtemp(prefix="k"))  # short: unix socket paths are limited to 107 bytes
    try:
        env = {**os.environ, "TMPDIR": str(private), "IPYTHONDIR": str(tmp_path / "ipython")}
        result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        assert [p.name for p in private.iterdir()] == []
    finally:
        shutil.rmtree(private)
