"""Start SDK plugin scripts the way a go-plugin host does, and dial them with the stubs."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from plugin_process import START_TIMEOUT, host_env, read_line

PLUGINS = Path(__file__).parent / "plugins"
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
