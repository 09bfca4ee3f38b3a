"""Helpers shared by tests that start plugin processes the way a go-plugin host does."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest

from hector_nb.plugin import constants

HOST_ENV = {
    constants.MAGIC_COOKIE_KEY: constants.MAGIC_COOKIE_VALUE,
    constants.PROTOCOL_VERSIONS_ENV: ",".join(map(str, constants.APP_PROTOCOL_VERSIONS)),
    constants.MIN_PORT_ENV: str(constants.MIN_PORT),
    constants.MAX_PORT_ENV: str(constants.MAX_PORT),
}
START_TIMEOUT = 30.0


def host_env(**overrides: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in HOST_ENV}
    env.update(HOST_ENV)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def read_line(process: subprocess.Popen, timeout: float) -> str:
    """The first stdout line, or fail the test after ``timeout`` with the stderr."""
    line: list[bytes] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not line:
        process.kill()
        pytest.fail(f"no handshake within {timeout}s; stderr: {process.stderr.read().decode()}")
    return line[0].decode()


def process_gone(pid: int) -> bool:
    """Whether ``pid`` has exited (a zombie waiting for its reaper counts as exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].startswith("Z")
    except FileNotFoundError:
        return True
