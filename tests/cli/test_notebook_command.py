"""`python -m hector_nb notebook`: JupyterLab on 127.0.0.1, and the printed address opens the notebook itself."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hector_nb.lab import lab_command

pytestmark = pytest.mark.slow  # starts a JupyterLab server


def read_until(process: subprocess.Popen, pattern: str, timeout: float) -> str:
    """What the process printed, up to the first text matching ``pattern`` (bounded by ``timeout``)."""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    printed = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not re.search(pattern.encode(), printed):
        if selector.select(timeout=max(deadline - time.monotonic(), 0)):
            data = os.read(process.stdout.fileno(), 65536)
            if not data:
                break
            printed += data
    return printed.decode()


@contextmanager
def notebook_command() -> Iterator[tuple[subprocess.Popen, re.Match, str]]:
    """``python -m hector_nb notebook`` running: the process, its address (port, token) and what it printed."""
    process = subprocess.Popen([sys.executable, "-m", "hector_nb", "notebook"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    try:
        printed = read_until(process, r"http://127\.0\.0\.1:\d+/\S+", timeout=120)
        url = re.search(r"http://127\.0\.0\.1:(\d+)/lab/tree/quickstart\.ipynb\?token=(\w+)", printed)
        assert url, printed
        yield process, url, printed
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


@pytest.mark.timeout(300)
def test_the_notebook_command_prints_the_notebooks_own_address_and_stops_on_ctrl_c():
    with notebook_command() as (process, url, printed):
        assert "ssh -L" in printed, "says what to do on a remote machine"
        with urllib.request.urlopen(url.group(0), timeout=30) as page:
            assert page.status == 200 and "JupyterLab" in page.read().decode()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        with pytest.raises(urllib.error.URLError):  # the server went with it
            urllib.request.urlopen(f"http://127.0.0.1:{url.group(1)}/api/status", timeout=5)


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``, read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended while we looked
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""  # it ended


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.timeout(300)
def test_sigterm_stops_the_server_and_its_kernels_as_ctrl_c_does():
    with notebook_command() as (process, url, _):
        started = urllib.request.Request(f"http://127.0.0.1:{url.group(1)}/api/kernels", data=b"{}", method="POST",
                                         headers={"Authorization": f"token {url.group(2)}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(started, timeout=60) as reply:
            assert reply.status == 201
        deadline = time.monotonic() + 60
        while not any("ipykernel" in command_line(pid) for pid in descendants(process.pid)) \
                and time.monotonic() < deadline:
            time.sleep(0.1)  # the kernel process is being started: look again
        below = descendants(process.pid)
        assert len(below) >= 2, "JupyterLab and a kernel run below the command"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        deadline = time.monotonic() + 60
        while any(alive(pid) for pid in below) and time.monotonic() < deadline:
            time.sleep(0.1)  # the server shuts its kernels down, then exits
        assert not [pid for pid in below if alive(pid)], "the server or a kernel outlived SIGTERM"


def test_an_unknown_notebook_names_the_ones_there():
    result = subprocess.run([sys.executable, "-m", "hector_nb", "notebook", "nope"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1 and "no notebook" in result.stderr and "quickstart" in result.stderr


def test_the_server_listens_on_loopback_only_and_allows_root_as_root():
    command = lab_command(Path("/tmp"), 8888)
    assert "--ip=127.0.0.1" in command and "--no-browser" in command
    assert not any("token" in part.lower() for part in command), "the token is passed in the environment"
    assert ("--allow-root" in command) == (os.geteuid() == 0)
