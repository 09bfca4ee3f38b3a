"""Start a plugin executable exactly as go-plugin's host does and watch its raw stdout.

The process checks need what a host normally hides: every byte the plugin
writes on stdout before and after its handshake line, when the line came, and
whether the process leaves promptly when the controller asks. A
:class:`ProcessProbe` records those facts once; the checks in
:mod:`.process` read them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ..errors import PluginCrashed, PluginError, PluginTimeout
from ..host.handshake import Handshake, parse_handshake
from ..host.log import PluginLog, read_stdio
from ..host.process import PluginProcess
from ..host.rpc import ProviderStub
from ..host.rpc_errors import rpc_status
from ..plugin._wire import (
    database_pb2_grpc,
    embedder_pb2_grpc,
    grpc_controller_pb2,
    grpc_controller_pb2_grpc,
    grpc_stdio_pb2,
    llm_pb2_grpc,
)
from ..plugin.constants import HEALTH_SERVICE
from ..plugin.serve import GRPC_OPTIONS

#: How long go-plugin's host waits for a plugin to exit after GRPCController.Shutdown before killing it.
CONTROLLER_GRACE = 2.0
_STDERR_LINES = 20
_STUBS: dict[str, Callable[[grpc.Channel], ProviderStub]] = {
    "llm_provider": llm_pb2_grpc.LLMProviderStub,
    "database_provider": database_pb2_grpc.DatabaseProviderStub,
    "embedder_provider": embedder_pb2_grpc.EmbedderProviderStub,
}


@dataclass
class ProcessProbe:
    """What one start of the plugin executable showed."""

    command: list[str]
    #: Lines on stdout before the handshake line (go-plugin refuses the plugin for any of them).
    before: list[str] = field(default_factory=list)
    #: The handshake line as the plugin wrote it, if one came.
    handshake_line: str | None = None
    handshake: Handshake | None = None
    handshake_error: str = ""
    #: Seconds from the start of the process to its handshake line.
    startup_seconds: float | None = None
    #: Lines on raw stdout after the handshake (go-plugin reads and discards them).
    after: list[str] = field(default_factory=list)
    #: Bytes that came over GRPCStdio (where go-plugin plugins send what they print).
    stdio_bytes: int = 0
    stderr: list[str] = field(default_factory=list)
    exit_code: int | None = None
    start_error: str = ""
    #: The ``plugin`` health status right after the handshake, and after the plugin served a few calls.
    health: str = ""
    health_after_calls: str = ""
    #: What the probe called after the handshake (the calls during which a plugin typically prints).
    calls: list[str] = field(default_factory=list)
    #: GRPCController.Shutdown's error, if any, and how long the process took to exit (None: it did not).
    controller_error: str = ""
    exit_seconds: float | None = None
    #: Whether the provider's Shutdown RPC, called first as Hector does, returned.
    shutdown_returned: bool = True

    @property
    def printed_into_handshake(self) -> str:
        """What the plugin printed after a handshake it did not end with a newline: the text glued
        onto its protocol field (``1|1|unix|/p.sock|grpcready``), or ""."""
        fields = (self.handshake_line or "").split("|")
        if self.handshake is None and len(fields) >= 5 and fields[4].startswith("grpc"):
            return fields[4][len("grpc"):]
        return ""

    def stderr_tail(self) -> str:
        return " | ".join(line.rstrip() for line in self.stderr[-_STDERR_LINES:]) or "(nothing on stderr)"


class RunningProbe:
    """A plugin process under observation, started by the host's own :class:`PluginProcess` (so its reads
    are bounded and nothing it starts outlives it); :meth:`stop` always cleans it up."""

    def __init__(self, command: Sequence[str], env: dict[str, str] | None, timeout: float,
                 cookie: bool = True) -> None:
        self.facts = ProcessProbe(list(command))
        self._lock = threading.Lock()
        self.channel: grpc.Channel | None = None
        # Lenient: lines before the handshake are recorded, not refused, so that every check can run.
        self.process = PluginProcess(os.path.basename(command[0]), command, PluginLog(), env, strict_stdout=False,
                                     cookie=cookie)
        started = time.monotonic()
        try:
            self.facts.handshake = self.process.start(timeout)
            self.facts.startup_seconds = time.monotonic() - started
        except PluginTimeout:
            self.facts.start_error = f"no handshake line within {timeout:g}s"
        except PluginCrashed as exc:
            self.facts.start_error = f"exited with code {exc.exit_code} before a handshake"
        except PluginError as exc:  # it could not be run, or its handshake is malformed (see below)
            self.facts.start_error = exc.message
        self.facts.handshake_line = self.process.handshake_line
        if self.facts.handshake_line is not None and self.facts.handshake is None:
            try:
                parse_handshake(self.facts.handshake_line)
            except ValueError as exc:
                self.facts.handshake_error = str(exc)

    def connect(self, timeout: float) -> grpc.Channel | None:
        """Dial the handshake's address and open GRPCStdio, as go-plugin's host does; None if it cannot."""
        handshake = self.facts.handshake
        if handshake is None:
            return None
        channel = grpc.insecure_channel(handshake.target, options=GRPC_OPTIONS)
        try:
            grpc.channel_ready_future(channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            channel.close()
            return None
        self.channel = channel
        threading.Thread(target=self._mirror_stdio, args=(channel,), daemon=True).start()
        return channel

    def _mirror_stdio(self, channel: grpc.Channel) -> None:
        read_stdio(channel, self._count_stdio)

    def _count_stdio(self, data: grpc_stdio_pb2.StdioData) -> None:
        with self._lock:
            self.facts.stdio_bytes += len(data.data)

    def health(self, timeout: float) -> str:
        """The ``plugin`` health status name, or what went wrong."""
        if self.channel is None:
            return "no connection"
        try:
            reply = health_pb2_grpc.HealthStub(self.channel).Check(
                health_pb2.HealthCheckRequest(service=HEALTH_SERVICE), timeout=timeout)
        except grpc.RpcError as error:
            code, details = rpc_status(error)
            return f"gRPC {code.name}: {details}"
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))

    def alive(self) -> bool:
        return self.process.pid is not None and self.process.exit_code is None

    def controller_shutdown(self) -> tuple[str, float | None]:
        """Ask GRPCController to stop the plugin; ``(error or "", seconds until it exited or None)``.

        Waits twice go-plugin's grace period, enough to tell a slow exit from none."""
        if self.channel is None:
            return "no connection", None
        asked = time.monotonic()
        error = ""
        try:
            grpc_controller_pb2_grpc.GRPCControllerStub(self.channel).Shutdown(
                grpc_controller_pb2.Empty(), timeout=CONTROLLER_GRACE)
        except grpc.RpcError as failure:
            # A plugin that exits while answering may drop the connection: only an unimplemented
            # or refused call means the controller is missing.
            code, details = rpc_status(failure)
            if code in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.DEADLINE_EXCEEDED):
                error = f"gRPC {code.name}: {details}"
        if self.process.wait(2 * CONTROLLER_GRACE) is None:
            return error, None
        return error, time.monotonic() - asked

    def stop(self) -> ProcessProbe:
        """Kill whatever is left (its process group, and what escaped it holding its output), remove its
        socket directory; return the facts."""
        if self.channel is not None:
            self.channel.close()
        self.process.kill()
        self.facts.exit_code = self.process.exit_code
        self.facts.before = list(self.process.stdout_before)
        self.facts.after = list(self.process.stdout_after)
        self.facts.stderr = [line.removeprefix("[stderr] ")
                             for line in self.process.log.tail(_STDERR_LINES, "stderr").splitlines()]
        return self.facts


def _exercise(channel: grpc.Channel, plugin_type: str, config: dict[str, str], timeout: float) -> list[str]:
    """Initialize the plugin and make one ordinary call: where providers usually print something."""
    from ..hector import agent_request
    from ..plugin import sdk

    # The generated stubs on the bare channel, as Hector's go-plugin client dials it (no host interceptor).
    stub = _STUBS[plugin_type](channel)
    calls: list[tuple[str, Callable[[], object]]] = [
        ("Initialize", lambda: stub.Initialize(sdk.InitializeRequest(config=config), timeout=timeout))]
    if plugin_type == sdk.PLUGIN_TYPE_LLM:
        llm = llm_pb2_grpc.LLMProviderStub(channel)
        calls.append(("Generate", lambda: llm.Generate(agent_request("Say hello."), timeout=timeout)))
    elif plugin_type == sdk.PLUGIN_TYPE_DATABASE:
        database = database_pb2_grpc.DatabaseProviderStub(channel)
        query = sdk.SearchRequest(collection="hector-nb-probe", vector=[0.5] * 8, top_k=1)
        calls.append(("Search", lambda: database.Search(query, timeout=timeout)))
    elif plugin_type == sdk.PLUGIN_TYPE_EMBEDDER:
        embedder = embedder_pb2_grpc.EmbedderProviderStub(channel)
        calls.append(("Embed", lambda: embedder.Embed(sdk.EmbedRequest(text="hello"), timeout=timeout)))
    made = []
    for method, call in calls:
        try:
            call()
            made.append(method)
        except grpc.RpcError as error:
            made.append(f"{method} (gRPC {rpc_status(error)[0].name})")
    return made


def _shutdown_rpc(channel: grpc.Channel, plugin_type: str, timeout: float) -> bool:
    """The provider's Shutdown, as Hector calls it on unload before go-plugin stops the process; whether
    it returned within ``timeout`` (the shutdown check judges its answer; here it only has to come first)."""
    from ..plugin import sdk

    try:
        _STUBS[plugin_type](channel).Shutdown(sdk.ShutdownRequest(), timeout=timeout)
    except grpc.RpcError as failure:
        return rpc_status(failure)[0] != grpc.StatusCode.DEADLINE_EXCEEDED
    return True


def observe(command: Sequence[str], env: dict[str, str] | None, plugin_type: str | None,
            config: dict[str, str], start_timeout: float, call_timeout: float) -> ProcessProbe:
    """Start the plugin as go-plugin's host would, watch it serve a few calls, stop it as Hector
    unloads a plugin (its Shutdown RPC, then go-plugin's GRPCController.Shutdown), and return what
    was seen. The start waits at most ``start_timeout``, each call at most ``call_timeout``."""
    probe = RunningProbe(command, env, start_timeout)
    try:
        facts = probe.facts
        if probe.connect(start_timeout) is None:
            if facts.handshake is not None:
                facts.health = f"no connection to {facts.handshake.address} within {start_timeout:g}s"
            return probe.stop()
        facts.health = probe.health(call_timeout)
        if plugin_type is not None:
            assert probe.channel is not None
            facts.calls = _exercise(probe.channel, plugin_type, config, call_timeout)
        facts.health_after_calls = probe.health(call_timeout) if probe.alive() else "the process exited"
        if plugin_type is not None and probe.alive():
            assert probe.channel is not None
            # Hector's order: the plugin's Shutdown first; one that never returns keeps Hector from going on.
            facts.shutdown_returned = _shutdown_rpc(probe.channel, plugin_type, call_timeout)
        if facts.shutdown_returned:
            facts.controller_error, facts.exit_seconds = probe.controller_shutdown()
    finally:
        probe.stop()
    return probe.facts


def without_cookie(command: Sequence[str], env: dict[str, str] | None, timeout: float
                   ) -> tuple[ProcessProbe, bool | None]:
    """Start the plugin as a person would, by hand: without Hector's magic cookie. Returns what it
    did, and whether it exited by itself within ``timeout`` (None: it could not be started)."""
    probe = RunningProbe(command, env, timeout, cookie=False)  # waits for a handshake, or for its exit
    if probe.process.pid is None:
        return probe.stop(), None
    exited = probe.facts.handshake_line is None and probe.process.exit_code is not None
    return probe.stop(), exited
