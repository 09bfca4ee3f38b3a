"""The command line: ordinary file-system errors in one line, checked first; no secret on a command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hector_nb.lab import start_lab

pytestmark = pytest.mark.timeout(300)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hector_nb", *args], capture_output=True, text=True, timeout=120)


def refused_in_one_line(result: subprocess.CompletedProcess, words: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and words in result.stderr, \
        result.stderr


# Item 21: one line with the fix, before any long work (the check never started: no report printed).
def test_export_onto_a_file_or_into_a_place_nobody_can_write_is_refused_at_once(tmp_path):
    (tmp_path / "taken").write_text("a file")
    refused_in_one_line(cli("export", "builtin:echo", "--out", str(tmp_path / "taken")),
                        "is a file, not a directory")
    refused_in_one_line(cli("export", "builtin:echo", "--out", str(tmp_path / "taken" / "plugin")),
                        "taken is a file, not a directory")
    # /sys refuses new entries even to root, who ignores permission bits.
    refused_in_one_line(cli("export", "builtin:echo", "--out", "/sys/hector-nb-out"), "cannot write into /sys")


def test_check_junit_into_a_missing_directory_is_refused_before_the_check_runs(tmp_path):
    result = cli("check", "builtin:echo", "--junit", str(tmp_path / "missing" / "report.xml"))
    refused_in_one_line(result, f"the directory {tmp_path / 'missing'} does not exist; create it first")
    assert result.stdout == "", "no check ran"
    refused_in_one_line(cli("check", "builtin:echo", "--junit", str(tmp_path)), "is a directory; give a file name")
    refused_in_one_line(cli("check", ""), "the path is empty; give the plugin's executable")


def command_lines_holding(secret: str) -> list[str]:
    """The command lines, of every process this user can see, that hold ``secret``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            line = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        if secret.encode() in line:
            found.append(line.replace(b"\0", b" ").decode(errors="replace"))
    return found


# Item 22: any local user reads /proc/PID/cmdline; the token travels in the server's environment.
@pytest.mark.slow  # starts a JupyterLab server
def test_the_notebook_servers_token_is_on_no_command_line(tmp_path):
    with start_lab(tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as lab:
        lab.wait_ready()
        assert command_lines_holding(lab.token) == []
        assert lab.token.encode() in Path(f"/proc/{lab.process.pid}/environ").read_bytes()  # readable by its user only
        assert os.stat(f"/proc/{lab.process.pid}/environ").st_mode & 0o077 == 0
    assert lab.process.poll() is not None
