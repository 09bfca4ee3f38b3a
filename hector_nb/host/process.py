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
import uuid
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

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
    UNIX_SOCKET_GROUP_ENV,
)
from ..plugin.serve import give_to_group
from .deadlines import STEP_TIMEOUT
from .handshake import Handshake, is_handshake, parse_handshake
from .log import PluginLog

STDERR_TAIL_LINES = 20
#: Stray stdout lines kept (before and after the handshake, each) for the conformance check to quote.
STDOUT_LINES_KEPT = 20
#: A line read from the plugin's stdout or stderr is cut here: a plugin may write megabytes without a newline.
MAX_LINE_BYTES = 64 * 1024

#: In every plugin's environment, with a value of its own: what the plugin leaves outside its process group (a
#: daemon in a session of its own, ``setsid``) still carries it, so the host finds and kills it too.
INSTANCE_ENV = "HECTOR_NB_PLUGIN_INSTANCE"

_live: weakref.WeakSet[PluginProcess] = weakref.WeakSet()


def _kill_leftovers() -> None:
    # A host that exits normally or through an exception takes its plugins along.
    for process in list(_live):
        process.kill()


atexit.register(_kill_leftovers)


def plugin_environment(socket_dir: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The host's environment plus what go-plugin's host puts in a child's (docs/protocol.md section 1)."""
    env = {**os.environ, **(extra or {})}
    env[MAGIC_COOKIE_KEY] = MAGIC_COOKIE_VALUE
    env[PROTOCOL_VERSIONS_ENV] = ",".join(map(str, APP_PROTOCOL_VERSIONS))
    env[MIN_PORT_ENV] = str(MIN_PORT)
    env[MAX_PORT_ENV] = str(MAX_PORT)
    env[UNIX_SOCKET_DIR_ENV] = socket_dir
    for unsupported in (CLIENT_CERT_ENV, MULTIPLEX_GRPC_ENV):
        env.pop(unsupported, None)
    return env


def _socket_dir(plugin: str, env: dict[str, str] | None) -> str:
    """A new private directory for the plugin's socket; group-writable (0770) for PLUGIN_UNIX_SOCKET_GROUP.

    As go-plugin's host: mkdtemp makes it 0700, which a group given the socket
    could not enter, so the directory is given to that group too.
    """
    directory = tempfile.mkdtemp(prefix="hector-nb-")
    group = {**os.environ, **(env or {})}.get(UNIX_SOCKET_GROUP_ENV)
    if group:
        try:
            give_to_group(directory, group, 0o770)
        except (LookupError, OSError) as exc:
            shutil.rmtree(directory, ignore_errors=True)
            raise HandshakeError(plugin, "start", f"cannot give the socket directory to group {group!r} "
                                 f"({UNIX_SOCKET_GROUP_ENV}): {exc}") from None
    return directory


class PluginProcess:
    """One running plugin executable: its handshake, log and exit."""

    def __init__(self, name: str, command: Sequence[str | os.PathLike[str]], log: PluginLog,
                 env: dict[str, str] | None = None, strict_stdout: bool = True, cookie: bool = True) -> None:
        self.name = name
        self.command = [str(part) for part in command]
        self.env = env
        self.log = log
        #: Refuse a plugin that prints on stdout before its handshake, as go-plugin does.
        self.strict_stdout = strict_stdout
        #: Give it Hector's magic cookie (without it, a plugin run by hand should say so and exit).
        self.cookie = cookie
        self.handshake: Handshake | None = None
        #: The handshake line as written, and the first lines printed on stdout before and after it.
        self.handshake_line: str | None = None
        self.stdout_before: list[str] = []
        self.stdout_after: list[str] = []
        self._handshake_ready = threading.Event()
        self._handshake_error: str | None = None
        self._refusal: str | None = None
        self.instance = uuid.uuid4().hex
        self._socket_dir = _socket_dir(name, env)
        self._process: subprocess.Popen[bytes] | None = None
        self._exited = threading.Event()
        self._reaping = threading.Lock()  # a group signal never races the reaper
        #: Whether a call has told the user that this process died (else the next call must).
        self.death_reported = False
        #: Whether something the plugin started outlived it, out of the host's reach (see the log).
        self.escaped = False
        self._readers: list[threading.Thread] = []

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def exit_code(self) -> int | None:
        return self._process.returncode if self._process and self._exited.is_set() else None

    def stderr_tail(self) -> str:
        return self.log.tail(STDERR_TAIL_LINES, "stderr") or "(nothing on stderr)"

    def start(self, timeout: float | None) -> Handshake:
        """Start the executable and wait up to ``timeout`` seconds for its handshake."""
        environment = plugin_environment(self._socket_dir, {**(self.env or {}), INSTANCE_ENV: self.instance})
        if not self.cookie:
            del environment[MAGIC_COOKIE_KEY]
        try:
            self._process = subprocess.Popen(
                self.command,
                env=environment,
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
        self._readers = [threading.Thread(target=self._read_stdout, name=f"{self.name}-stdout", daemon=True),
                         threading.Thread(target=self._read_stderr, name=f"{self.name}-stderr", daemon=True)]
        for reader in self._readers:
            reader.start()
        # After the readers: the reaper joins them once the plugin exits, which may be at once.
        threading.Thread(target=self._reap, name=f"{self.name}-reaper", daemon=True).start()
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
        self.kill()  # closing its stdout is no exit: a process still running goes now
        for reader in self._readers:  # its last words, read to the end before they are quoted
            reader.join(STEP_TIMEOUT)
        raise PluginCrashed(self.name, "start",
                            f"exited with code {code} before its handshake; stderr:\n{self.stderr_tail()}",
                            exit_code=code, stderr_tail=self.stderr_tail())

    def _reap(self) -> None:
        """Wait for the plugin to exit, kill what it left in its process group, then reap it.

        The group is killed while the exited plugin is a zombie, not yet reaped:
        until then its pid (the group's id) cannot be reused by another process.
        """
        assert self._process is not None
        try:
            os.waitid(os.P_PID, self._process.pid, os.WEXITED | os.WNOWAIT)
            self._kill_group(signal.SIGKILL)
        except ChildProcessError:  # reaped behind our back (SIGCHLD ignored): the group id is no longer safe
            pass
        escaped = kill_marked(INSTANCE_ENV, self.instance, self._process.pid)
        if escaped:
            self.log.add("host", f"killed {len(escaped)} process(es) the plugin left outside its process group "
                         f"(a daemon in a session of its own): pid {', '.join(map(str, escaped))}")
        with self._reaping:
            self._process.wait()
            self._exited.set()
        # The pipes close once nobody holds them: a holder still there escaped the kills above (it left the
        # process group and dropped the marker from its environment). Say so: nothing else would.
        for reader in self._readers:
            reader.join(STEP_TIMEOUT)
        if any(reader.is_alive() for reader in self._readers):
            self.escaped = True
            self.log.add("host", "a process the plugin started still holds its stdout or stderr: it escaped "
                         "the kill (a session of its own, without the plugin's environment); find it with "
                         f"`fuser` or `ps` and stop it. The plugin's pid was {self._process.pid}")

    def _lines(self, stream: IO[bytes]) -> Iterator[str]:
        """The stream's lines, each cut at MAX_LINE_BYTES: a line without end is read in bounded pieces."""
        cut = False
        while raw := stream.readline(MAX_LINE_BYTES):
            ends = raw.endswith(b"\n")
            if not cut:
                yield raw.decode(errors="replace") + ("" if ends else " ... [line cut]\n")
            cut = not ends

    def _read_stdout(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._lines(self._process.stdout):
            if self._handshake_ready.is_set() or not is_handshake(line):
                self.log.add("stdout", line)
                stray = self.stdout_before if self.handshake_line is None else self.stdout_after
                if len(stray) < STDOUT_LINES_KEPT:
                    stray.append(line.rstrip("\r\n"))
                if self.strict_stdout and not self._handshake_ready.is_set():
                    self._refusal = stdout_before_handshake_message(line)
                    self._handshake_ready.set()
                continue
            self.handshake_line = line.rstrip("\r\n")
            try:
                self.handshake = parse_handshake(line)
            except ValueError as exc:
                self._handshake_error = f"bad handshake {line.strip()!r}: {exc}"
            self._handshake_ready.set()
        self._handshake_ready.set()
        self._process.stdout.close()

    def _read_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for line in self._lines(self._process.stderr):
            self.log.add("stderr", line)
        self._process.stderr.close()

    def wait(self, timeout: float | None) -> int | None:
        """The exit code, once the process has exited within ``timeout`` seconds; else None."""
        if self._process is None or not self._exited.wait(timeout):
            return None
        return self._process.returncode

    def terminate(self, timeout: float | None) -> bool:
        """SIGTERM, then wait up to ``timeout`` seconds; True when it exited."""
        self._kill_group(signal.SIGTERM)
        return self.wait(timeout) is not None

    def kill(self) -> None:
        """SIGKILL the plugin and its whole process group, and clean up its socket directory."""
        self._kill_group(signal.SIGKILL)
        self.wait(5.0)
        self.cleanup()

    def _kill_group(self, signum: int) -> None:
        # Only before the reaper has reaped the plugin: from then on its pid may name another process.
        with self._reaping:
            if self._process is None or self._exited.is_set():
                return
            try:
                os.killpg(self._process.pid, signum)
            except ProcessLookupError:
                pass

    def cleanup(self) -> None:
        _live.discard(self)
        shutil.rmtree(self._socket_dir, ignore_errors=True)


def kill_marked(variable: str, value: str, killed_group: int) -> list[int]:
    """SIGKILL every process of this user whose environment holds ``variable=value``, outside the process
    group ``killed_group`` (killed already); their pids.

    Each is signalled through a pidfd opened before its environment is read, so a
    pid reused meanwhile is never hit.
    """
    needle = f"{variable}={value}".encode()
    killed = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if needle not in Path(entry.path, "environ").read_bytes().split(b"\0") or \
                    os.getpgid(int(entry.name)) == killed_group:
                continue
            pidfd = os.pidfd_open(int(entry.name))
        except OSError:  # gone, or not ours to read
            continue
        try:
            if needle in Path(entry.path, "environ").read_bytes().split(b"\0"):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                killed.append(int(entry.name))
        except OSError:
            pass
        finally:
            os.close(pidfd)
    return killed


def exit_text(code: int | None) -> str:
    """How a process ended, in words: ``exited with code 7``, ``was killed by signal 9 (SIGKILL)``."""
    if code is None or code >= 0:
        return f"exited with code {code}"
    try:
        return f"was killed by signal {-code} ({signal.Signals(-code).name})"
    except ValueError:
        return f"was killed by signal {-code}"


def executable_command(path: str | os.PathLike[str]) -> list[str]:
    """How to start a plugin executable: itself, as Hector would (by its path, symbolic links kept:
    a launcher may serve the plugin its own name says, as hector_nb's built-in launchers do)."""
    return [os.path.abspath(Path(path).expanduser())]
