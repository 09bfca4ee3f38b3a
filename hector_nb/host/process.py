"""A plugin executable started and supervised the way go-plugin's host does it.

The child gets Hector's handshake environment, runs in its own session (so a
terminal's Ctrl-C reaches the host, not the plugin), and answers with one
handshake line on stdout. A line printed before it fails the start, as
go-plugin's host refuses such a plugin (Hector then never loads it); with
``strict_stdout=False`` (lenient fidelity) such lines are logged and skipped.
Everything the plugin writes to stderr lands in its :class:`PluginLog`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path

from ..errors import HandshakeError, PluginCrashed, PluginTimeout
from ..hector import stdout_before_handshake_message
from ..plugin.constants import (
    APP_PROTOCOL_VERSIONS,
    CLIENT_CERT_ENV,
    MAGIC_COOKIE_KEY,
    MAGIC_COOKIE_VALUE,
    MAX_PORT,
    MAX_PORT_ENV,
    MIN_PORT,
    MIN_PORT_ENV,
    MULTIPLEX_GRPC_ENV,
    PROTOCOL_VERSIONS_ENV,
    UNIX_SOCKET_DIR_ENV,
)
from .handshake import Handshake, is_handshake, parse_handshake
from .log import PluginLog

STDERR_TAIL_LINES = 20

_live: weakref.WeakSet[PluginProcess] = weakref.WeakSet()


def _kill_leftovers() -> None:
    # A host that exits normally or through an exception takes its plugins along.
    for process in list(_live):
        process.kill()


atexit.register(_kill_leftovers)


def plugin_environment(socket_dir: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The host's environment plus what go-plugin's host puts in a child's (CONTRACT.md section 1)."""
    env = {**os.environ, **(extra or {})}
    env[MAGIC_COOKIE_KEY] = MAGIC_COOKIE_VALUE
    env[PROTOCOL_VERSIONS_ENV] = ",".join(map(str, APP_PROTOCOL_VERSIONS))
    env[MIN_PORT_ENV] = str(MIN_PORT)
    env[MAX_PORT_ENV] = str(MAX_PORT)
    env[UNIX_SOCKET_DIR_ENV] = socket_dir
    for unsupported in (CLIENT_CERT_ENV, MULTIPLEX_GRPC_ENV):
        env.pop(unsupported, None)
    return env


class PluginProcess:
    """One running plugin executable: its handshake, log and exit."""

    def __init__(self, name: str, command: Sequence[str | os.PathLike[str]], log: PluginLog,
                 env: dict[str, str] | None = None, strict_stdout: bool = True) -> None:
        self.name = name
        self.command = [str(part) for part in command]
        self.env = env
        self.log = log
        #: Refuse a plugin that prints on stdout before its handshake, as go-plugin does.
        self.strict_stdout = strict_stdout
        self.handshake: Handshake | None = None
        self._handshake_ready = threading.Event()
        self._handshake_error: str | None = None
        self._refusal: str | None = None
        self._socket_dir = tempfile.mkdtemp(prefix="hector-nb-")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def exit_code(self) -> int | None:
        return self._process.poll() if self._process else None

    def stderr_tail(self) -> str:
        return self.log.tail(STDERR_TAIL_LINES, "stderr") or "(nothing on stderr)"

    def start(self, timeout: float) -> Handshake:
        """Start the executable and wait up to ``timeout`` seconds for its handshake."""
        try:
            self._process = subprocess.Popen(
                self.command,
                env=plugin_environment(self._socket_dir, self.env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            raise HandshakeError(self.name, "start", f"cannot run {self.command[0]}: {exc.strerror}; "
                                 "check the path and its execute bit") from None
        _live.add(self)
        threading.Thread(target=self._read_stdout, name=f"{self.name}-stdout", daemon=True).start()
        threading.Thread(target=self._read_stderr, name=f"{self.name}-stderr", daemon=True).start()
        if not self._handshake_ready.wait(timeout):
            self.kill()
            raise PluginTimeout(self.name, "start", f"no handshake within {timeout:g}s; "
                                f"stderr:\n{self.stderr_tail()}")
        if self._refusal is not None:
            self.kill()
            raise HandshakeError(self.name, "start", self._refusal)
        if self.handshake is not None:
            return self.handshake
        if self._handshake_error is not None:
            self.kill()
            raise HandshakeError(self.name, "start", f"{self._handshake_error}; stderr:\n{self.stderr_tail()}")
        code = self.wait(5.0)
        raise PluginCrashed(self.name, "start",
                            f"exited with code {code} before its handshake; stderr:\n{self.stderr_tail()}",
                            exit_code=code, stderr_tail=self.stderr_tail())

    def _read_stdout(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for raw in self._process.stdout:
            line = raw.decode(errors="replace")
            if self._handshake_ready.is_set() or not is_handshake(line):
                self.log.add("stdout", line)
                if self.strict_stdout and not self._handshake_ready.is_set():
                    self._refusal = stdout_before_handshake_message(line)
                    self._handshake_ready.set()
                continue
            try:
                self.handshake = parse_handshake(line)
            except ValueError as exc:
                self._handshake_error = f"bad handshake {line.strip()!r}: {exc}"
            self._handshake_ready.set()
        self._handshake_ready.set()
        self._process.stdout.close()

    def _read_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for raw in self._process.stderr:
            self.log.add("stderr", raw.decode(errors="replace"))
        self._process.stderr.close()

    def wait(self, timeout: float) -> int | None:
        """The exit code, once the process has exited within ``timeout`` seconds; else None."""
        if self._process is None:
            return None
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def terminate(self, timeout: float) -> bool:
        """SIGTERM, then wait up to ``timeout`` seconds; True when it exited."""
        return self._signal(signal.SIGTERM) and self.wait(timeout) is not None

    def kill(self) -> None:
        """SIGKILL the plugin (and anything in its session) and clean up its socket directory."""
        self._signal(signal.SIGKILL)
        self.wait(5.0)
        self.cleanup()

    def _signal(self, signum: int) -> bool:
        if self._process is None or self._process.poll() is not None:
            return True
        try:
            os.killpg(self._process.pid, signum)
        except ProcessLookupError:
            pass
        return True

    def cleanup(self) -> None:
        _live.discard(self)
        shutil.rmtree(self._socket_dir, ignore_errors=True)


def executable_command(path: str | os.PathLike[str]) -> list[str]:
    """How to start a plugin executable: itself, as Hector would."""
    return [str(Path(path).expanduser().resolve())]
