"""Processes and directories: nothing a plugin, a kernel or an unload leaves behind."""

from __future__ import annotations

import grp
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from plugin_process import START_TIMEOUT, host_env, read_line

SDK_PLUGINS = Path(__file__).parent.parent / "sdk" / "plugins"


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


# Item 12: PLUGIN_UNIX_SOCKET_GROUP gives the group a way in, as go-plugin does.
def test_socket_group_reaches_the_socket_through_its_directory(tmp_path):
    group = grp.getgrgid(os.getgid()).gr_name
    plugin = subprocess.Popen([sys.executable, str(SDK_PLUGINS / "echo_llm.py")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=host_env(PLUGIN_UNIX_SOCKET_GROUP=group,
                                                                   PLUGIN_UNIX_SOCKET_DIR=str(tmp_path)))
    try:
        socket_path = Path(read_line(plugin, START_TIMEOUT).strip().split("|")[3])
        for path, mode in ((socket_path.parent, 0o770), (socket_path, 0o660)):
            info = path.stat()
            assert (stat.S_IMODE(info.st_mode), info.st_gid) == (mode, os.getgid()), path
    finally:
        plugin.kill()
        plugin.communicate(timeout=30)
    shutil.rmtree(socket_path.parent, ignore_errors=True)
