"""Start SDK plugin scripts the way a go-plugin host does, and dial them with the stubs."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

PLUGINS = Path(__file__).parent / "plugins"
HOST_ENV = {
    "HECTOR_PLUGIN": "hector_plugin_v1",
    "PLUGIN_PROTOCOL_VERSIONS": "1",
    "PLUGIN_MIN_PORT": "10000",
    "PLUGIN_MAX_PORT": "25000",
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


@dataclass
class RunningPlugin:
    process: subprocess.Popen
    network: str
    address: str
    channel: grpc.Channel
    handshake: str
    stdout_after: list[bytes] = field(default_factory=list)

    @property
    def target(self) -> str:
        return f"unix:{self.address}" if self.network == "unix" else self.address


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


@pytest.fixture
def start_plugin():
    started: list[RunningPlugin] = []

    def start(script: str, *args: str, **env: str | None) -> RunningPlugin:
        process = subprocess.Popen(
            [sys.executable, str(PLUGINS / script), *args],
            env=host_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        handshake = read_line(process, START_TIMEOUT)
        core, app, network, address, protocol = handshake.strip().split("|")
        assert (core, app, protocol) == ("1", "1", "grpc"), handshake
        target = f"unix:{address}" if network == "unix" else address
        channel = grpc.insecure_channel(target)
        grpc.channel_ready_future(channel).result(timeout=START_TIMEOUT)
        running = RunningPlugin(process, network, address, channel, handshake)
        started.append(running)
        return running

    yield start
    for running in started:
        running.channel.close()
        if running.process.poll() is None:
            running.process.kill()
        running.process.wait(timeout=10)
        for stream in (running.process.stdout, running.process.stderr):
            stream.close()
