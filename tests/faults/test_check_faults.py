"""``python -m hector_nb check`` against plugins that misbehave as processes: bounded, and nothing left running."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from plugin_process import process_gone, wait_until

from faults.conftest import MARKER, marked_processes
from hector_nb.manifest import PluginManifest, write_manifest

PLUGINS = Path(__file__).parent / "plugins"
pytestmark = pytest.mark.timeout(300)


def unruly(directory: Path, mode: str) -> Path:
    """The ``unruly`` plugin in ``mode``, installed as Hector finds it: executable and manifest."""
    executable = directory / f"unruly-{mode}"
    source = (PLUGINS / "unruly.py").read_text().replace('MODE = "child"', f"MODE = {mode!r}")
    executable.write_text(f"#!{sys.executable}\n{source}")
    executable.chmod(0o755)
    write_manifest(PluginManifest(name="unruly", version="1.0.0", type="llm_provider"), executable)
    return executable


def pids(file: Path) -> list[int]:
    return [int(line) for line in file.read_text().split()] if file.exists() else []


def run_check(tmp_path: Path, mode: str, *options: str) -> tuple[subprocess.CompletedProcess, list[int], list[int]]:
    """``python -m hector_nb check`` on the plugin: its result, the plugin's starts and the children they left."""
    starts, children = tmp_path / "starts", tmp_path / "children"
    env = {**os.environ, "UNRULY_STARTS": str(starts), "UNRULY_CHILDREN": str(children)}
    result = subprocess.run([sys.executable, "-m", "hector_nb", "check", str(unruly(tmp_path, mode)), *options],
                            env=env, capture_output=True, text=True, timeout=240)
    return result, pids(starts), pids(children)


# Item 9: children holding the plugin's output, in its group or escaped to a session of their own.
@pytest.mark.parametrize("mode", ["child", "daemon"])
def test_check_kills_every_process_the_plugin_left_holding_its_output(tmp_path, mode):
    result, starts, children = run_check(tmp_path, mode, "--timeout", "3")
    assert "Traceback" not in result.stderr, result.stderr
    assert "handshake" in result.stdout and "controller_shutdown" in result.stdout, result.stdout
    assert len(children) == len(starts) >= 2, "each start left a child"
    assert wait_until(lambda: all(map(process_gone, children)), timeout=10), \
        f"left running: {[pid for pid in children if not process_gone(pid)]}"
    assert wait_until(lambda: not marked_processes(os.environ[MARKER]), timeout=10)


def test_a_plugin_that_never_handshakes_is_started_once(tmp_path):
    result, starts, _ = run_check(tmp_path, "silent", "--timeout", "1")
    assert result.returncode == 1
    assert "no handshake line within 4s" in result.stdout, result.stdout
    assert len(starts) == 1, f"started {len(starts)} times: a start that failed was tried again"
    assert wait_until(lambda: process_gone(starts[0]), timeout=10)


def test_a_stdout_flood_before_the_handshake_takes_no_gigabytes(tmp_path):
    # The check runs in a child that reports its own peak memory; the plugin writes 1.5 GB without a newline.
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so the child's would include the
    # pytest process it was forked from (700 MB late in a full run), not only its own memory.
    executable = unruly(tmp_path, "flood")
    script = textwrap.dedent(f"""
        import re
        import hector_nb.conformance
        report = hector_nb.conformance.check({str(executable)!r}, only=["stdout_before_handshake"])
        print(report)
        with open("/proc/self/status") as status:
            print("peak", re.search(r"^VmHWM:\\s+(\\d+) kB", status.read(), re.M).group(1))
    """)
    env = {**os.environ, "UNRULY_STARTS": str(tmp_path / "starts"), "UNRULY_CHILDREN": str(tmp_path / "c")}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=240)
    assert "peak" in result.stdout, result.stderr[-3000:]
    assert "stdout_before_handshake" in result.stdout and "fail" in result.stdout, result.stdout
    peak_kilobytes = int(result.stdout.split("peak")[-1])
    assert peak_kilobytes < 400 * 1024, f"the check took {peak_kilobytes // 1024} MB reading the flood"
