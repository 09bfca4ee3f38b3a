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
import threading
import time
from pathlib import Path

import pytest
from plugin_process import START_TIMEOUT, host_env, process_gone, read_line, wait_until

from hector_nb import Session
from hector_nb.errors import CallCancelled, HandshakeError, PluginCrashed, PluginError
from hector_nb.host.log import DEFAULT_CHARACTERS
from hector_nb.host.subprocess_transport import STEP_TIMEOUT
from hector_nb.manifest import PluginManifest, write_manifest
from hector_nb.providers import EchoLLM

PLUGINS = Path(__file__).parent / "plugins"
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


def installed(directory: Path, script: str, name: str) -> Path:
    """``directory/name`` runs ``plugins/script`` with this interpreter, its manifest beside it."""
    executable = directory / name
    executable.write_text(f"#!{sys.executable}\n" + (PLUGINS / script).read_text())
    executable.chmod(0o755)
    write_manifest(PluginManifest(name=name, version="1.0.0", type="llm_provider"), executable)
    return executable


# Item 4: the whole process group goes, whether the plugin crashed or exited cleanly.
def test_a_crashed_plugins_child_does_not_outlive_it(tmp_path, session):
    llm = session.load(installed(tmp_path, "parent.py", "parent"), config={"child": "spawn"})
    child = int(llm.generate("pid?").text)
    with pytest.raises(PluginCrashed):
        llm.generate("crash")
    assert wait_until(lambda: process_gone(child), timeout=15), "the crashed plugin's child is still running"


def test_a_forked_child_keeping_the_sigterm_handler_goes_with_a_normal_unload(tmp_path, session):
    llm = session.load(installed(tmp_path, "parent.py", "parent"), config={"child": "fork"})
    child = int(llm.generate("pid?").text)
    session.unload("parent")
    assert wait_until(lambda: process_gone(child), timeout=15), "the plugin's forked child survived the unload"


# Item 7: go-plugin's stop (Shutdown, controller Shutdown, close): a healthy plugin exits at once, gracefully.
def test_a_healthy_plugin_exits_gracefully_before_the_host_escalates(tmp_path, session):
    llm = session.load(installed(tmp_path, "parent.py", "parent"))
    process = llm.process
    started = time.monotonic()
    session.unload("parent")
    # The host's first escalation (SIGTERM) comes STEP_TIMEOUT after the controller's Shutdown.
    assert time.monotonic() - started < STEP_TIMEOUT and process.exit_code == 0


def test_a_plugins_last_words_reach_the_log_before_the_connection_closes(tmp_path, session):
    executable = tmp_path / "my-llm"
    executable.write_text(f"#!{sys.executable}\n" + (SDK_PLUGINS / "echo_llm.py").read_text())
    executable.chmod(0o755)
    write_manifest(PluginManifest(name="my-llm", version="1.0.0", type="llm_provider"), executable)
    llm = session.load(executable)
    session.unload("my-llm")
    assert "[stdout] shutdown called" in llm.logs()  # printed by the provider's shutdown()


# Item 8: no socket directory is left by a plugin that exits before its handshake, even in a loop.
def test_no_socket_directory_left_by_a_plugin_dying_before_its_handshake(tmp_path, session):
    executable = tmp_path / "dies"
    executable.write_text(f"#!{sys.executable}\nimport sys\nsys.exit(3)\n")
    executable.chmod(0o755)
    write_manifest(PluginManifest(name="dies", version="1.0.0", type="llm_provider"), executable)
    before = set(Path(tempfile.gettempdir()).iterdir())
    for _ in range(3):
        with pytest.raises(PluginCrashed, match="exited with code 3 before its handshake"):
            session.load(executable)
    assert set(Path(tempfile.gettempdir()).iterdir()) == before


# Item 9: a plugin writing without a newline cannot grow its host's log without bound.
def test_stderr_without_newlines_is_bounded_in_the_log(tmp_path, session):
    llm = session.load(installed(tmp_path, "stderr_flood.py", "flood"), config={"megabytes": "64"})
    assert wait_until(lambda: "[stderr] flood done" in llm.logs(), timeout=60)
    logged = sum(map(len, llm.logs()))
    assert logged <= DEFAULT_CHARACTERS
    assert any("more characters cut]" in line for line in llm.logs())


# The peak is VmHWM, this process's own: getrusage's ru_maxrss survives exec, so it would start at the
# peak of the pytest process this one was forked from and hide any growth below that.
FLOOD_HOST = textwrap.dedent('''
    import re, sys
    from plugin_process import wait_until
    from hector_nb import Session

    def peak_kib():
        with open("/proc/self/status") as status:
            return int(re.search(r"^VmHWM:\\s+(\\d+) kB", status.read(), re.M).group(1))

    with Session(timeout=120, start_timeout=120) as session:
        before = peak_kib()
        llm = session.load(sys.argv[1], config={"megabytes": "128"})
        assert wait_until(lambda: "[stderr] flood done" in llm.logs(), timeout=120)
        print(peak_kib() - before)
''')


def test_a_flood_of_stderr_without_newlines_does_not_grow_the_host(tmp_path):
    # A fresh host process, so its peak memory is this flood's alone.
    tests = str(Path(__file__).parent.parent)
    result = subprocess.run([sys.executable, "-c", FLOOD_HOST, str(installed(tmp_path, "stderr_flood.py", "flood"))],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join([tests, *sys.path])})
    assert result.returncode == 0, result.stderr
    grown_kib = int(result.stdout.split()[-1])
    assert grown_kib < 64 * 1024, f"the host grew by {grown_kib // 1024} MiB reading 128 MiB of stderr"


# Item 10: closing the session while a stream is read ends the stream as cancelled, on every transport.
def test_closing_the_session_during_a_stream_ends_it_as_cancelled(transport):
    session = Session(timeout=30, start_timeout=30)
    llm = session.add("slow", EchoLLM(), transport=transport, config={"delay": "0.2"})
    chunks = llm.stream("one two three four five six")
    assert next(chunks).text
    session.close()
    with pytest.raises(PluginError) as raised:
        list(chunks)
    assert isinstance(raised.value, CallCancelled) and "cancelled: the plugin was stopped" in str(raised.value)


# Item 11: a client used after unload says so, the same on every transport.
def test_a_client_used_after_unload_says_it_was_unloaded(session, transport):
    llm = session.add("echo", EchoLLM(), transport=transport)
    session.unload("echo")
    for call in (lambda: llm.generate("hi"), lambda: list(llm.stream("hi")), llm.model_info):
        with pytest.raises(PluginError, match="unloaded"):
            call()


def test_socket_group_set_for_the_host_reaches_the_plugins_socket(tmp_path, session, monkeypatch):
    monkeypatch.setenv("PLUGIN_UNIX_SOCKET_GROUP", str(os.getgid()))
    llm = session.load(installed(tmp_path, "parent.py", "parent"))
    socket_path = Path(llm.process.handshake.address)
    for directory in (socket_path.parent, socket_path.parent.parent):  # the plugin's, inside the host's
        assert stat.S_IMODE(directory.stat().st_mode) == 0o770 and directory.stat().st_gid == os.getgid()


# Found while building the suite: every in-process unload left the server's idle worker threads behind.
def test_in_process_load_and_unload_cycles_leave_no_threads():
    before = threading.active_count()
    for _ in range(5):
        with Session(timeout=30, start_timeout=30) as session:
            llm = session.add("echo", EchoLLM(), transport="in-process")
            assert [chunk.text for chunk in llm.stream("a b")][:2] == ["a ", "b"]
    assert wait_until(lambda: threading.active_count() <= before + 1, timeout=15), [
        thread.name for thread in threading.enumerate()]


def test_a_socket_group_that_does_not_exist_is_named_by_host_and_plugin(tmp_path, session, monkeypatch):
    plugin = subprocess.run([sys.executable, str(SDK_PLUGINS / "echo_llm.py")], capture_output=True, text=True,
                            timeout=60, env=host_env(PLUGIN_UNIX_SOCKET_GROUP="no-such-group-hnb",
                                                     PLUGIN_UNIX_SOCKET_DIR=str(tmp_path)))
    assert plugin.returncode == 1 and "cannot give the socket to group 'no-such-group-hnb'" in plugin.stderr
    assert list(tmp_path.iterdir()) == []  # its socket directory went with it
    monkeypatch.setenv("PLUGIN_UNIX_SOCKET_GROUP", "no-such-group-hnb")
    with pytest.raises(HandshakeError, match="cannot give the socket directory to group 'no-such-group-hnb'"):
        session.load(installed(tmp_path, "parent.py", "parent"))


@pytest.mark.parametrize("transport", ["subprocess", "in-process"])
def test_a_temporary_directory_too_deep_for_a_socket_path_is_named(tmp_path, session, monkeypatch, transport):
    deep = tmp_path / ("d" * 60) / ("e" * 60)  # grpc said only "Failed to bind to address unix:..."
    deep.mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(deep))
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    with pytest.raises(PluginError, match=r"(?s)plugin 'echo', start: .*the socket path .* is \d+ bytes, longer than "
                                          r"a unix socket allows \(107\); set TMPDIR .* to a shorter directory"):
        session.load("builtin:echo", transport=transport)
    assert list(deep.iterdir()) == []
