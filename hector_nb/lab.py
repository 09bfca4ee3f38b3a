"""JupyterLab on the loopback interface, opened straight at one notebook.

``python -m hector_nb notebook`` uses it, and so do the browser tests: the
server listens on 127.0.0.1 only, with a token, and :attr:`LabServer.url` is the
address of the notebook itself (``/lab/tree/NAME.ipynb?token=...``), not the
Launcher's. The token travels in the server's environment (``JUPYTER_TOKEN``),
never on its command line, which any local user can read in ``/proc/PID/cmdline``.
As root it passes ``--allow-root``; it never opens a browser, so it runs the
same on a desktop, a headless machine or a remote one.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import HectorError

#: Where jupyter_server reads its token when no option sets it: the environment is private to the process.
TOKEN_ENV = "JUPYTER_TOKEN"
#: The notebooks of a source checkout (an editable install): ``notebooks/`` beside the package.
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def lab_command(root: Path, port: int) -> list[str]:
    """The ``jupyter lab`` command line: loopback only, no browser, ``--allow-root`` as root; the token goes
    in the environment (:data:`TOKEN_ENV`)."""
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return command


@dataclass
class LabServer:
    """A running JupyterLab; stop it with :meth:`stop` (or use it as a context manager)."""

    process: subprocess.Popen[bytes]
    port: int
    token: str

    def url(self, notebook: str) -> str:
        """The address that opens ``notebook`` (a path under the server's root) itself."""
        return f"http://127.0.0.1:{self.port}/lab/tree/{notebook}?token={self.token}"

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Return once the server answers its status API; fail if it exits or ``timeout`` passes."""
        status = f"http://127.0.0.1:{self.port}/api/status?token={self.token}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HectorError(f"jupyter lab exited with code {self.process.returncode} before it was ready; "
                                  "is jupyterlab installed? (python3 -m pip install jupyterlab)")
            try:
                with urllib.request.urlopen(status, timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)  # the server is still starting: ask again shortly
        raise HectorError(f"jupyter lab did not answer on port {self.port} within {timeout:g}s")

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_lab(root: Path, port: int | None = None, token: str | None = None, env: dict[str, str] | None = None,
              *, stdout: int | IO[Any] | None = None, stderr: int | IO[Any] | None = None,
              cwd: str | Path | None = None) -> LabServer:
    """Start JupyterLab serving ``root`` on 127.0.0.1, with ``env`` (default: this process's) and the token
    in it; ``stdout``, ``stderr`` and ``cwd`` go to :class:`subprocess.Popen`."""
    port = port or free_port()
    token = token or secrets.token_hex(24)
    environment = {**(os.environ if env is None else env), TOKEN_ENV: token}
    process = subprocess.Popen(lab_command(Path(root), port), env=environment, stdout=stdout, stderr=stderr, cwd=cwd)
    return LabServer(process, port, token)
