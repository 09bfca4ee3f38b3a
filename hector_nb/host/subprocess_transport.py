"""The subprocess transport: any plugin executable (Go or Python), started and stopped as go-plugin's host does.

Start: the process and its handshake (:mod:`.process`), a channel, a health
check of the ``plugin`` service, then the host mirrors the plugin's GRPCStdio
into its log. Stop: the provider's Shutdown, then ``GRPCController.Shutdown``,
then SIGTERM, then SIGKILL, each step bounded. A process that exits on its own
is reported to the supervisor (:attr:`Transport.on_crash`), which decides
about restarting it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ..errors import PluginCrashed, PluginError, PluginNotAnswering
from ..plugin import sdk
from ..plugin._wire import grpc_controller_pb2, grpc_controller_pb2_grpc
from ..plugin.constants import HEALTH_SERVICE
from .deadlines import STEP_TIMEOUT, bounded
from .grpc_client import GrpcTransport
from .log import read_stdio
from .process import PluginProcess, exit_text
from .rpc_errors import CUT_SHORT, operation_name, rpc_status


class SubprocessTransport(GrpcTransport):
    """A plugin executable in a process of its own, reached over the socket its handshake names."""

    kind = "subprocess"

    def __init__(self, name: str, plugin_type: str, command: Sequence[str], timeout: float | None,
                 env: dict[str, str] | None = None, strict_stdout: bool = True) -> None:
        super().__init__(name, plugin_type)
        self.command = list(command)
        self.env = env
        self.strict_stdout = strict_stdout
        self._stopping = False
        self.process: PluginProcess | None = None
        self.start(timeout)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float | None) -> None:
        """Start a new process (after killing any previous one) and connect to it."""
        self._discard()
        process = PluginProcess(self.name, self.command, self.log, self.env, strict_stdout=self.strict_stdout)
        handshake = process.start(timeout)
        self.process = process
        try:
            self._connect(handshake.target)
            # Only once connected: a call the discard cut short may be judged while this start runs.
            self._stopping = False
            # wait_for_ready: the health check makes the connection too (one round trip, no separate wait).
            health = health_pb2_grpc.HealthStub(self.channel)
            health.Check(health_pb2.HealthCheckRequest(service=HEALTH_SERVICE), timeout=timeout, wait_for_ready=True)
        except (grpc.RpcError, PluginError) as exc:
            process.kill()
            detail = rpc_status(exc)[1] if isinstance(exc, grpc.RpcError) else exc.message
            raise PluginNotAnswering(self.name, "start", f"handshake done but the plugin does not answer: "
                                     f"{detail}; stderr:\n{process.stderr_tail()}") from None
        self._mirror = threading.Thread(target=self._mirror_stdio, args=(self.channel,), daemon=True)
        self._mirror.start()
        threading.Thread(target=self._watch_exit, args=(process,), daemon=True).start()

    def _mirror_stdio(self, channel: grpc.Channel) -> None:
        sources = {1: "stdout", 2: "stderr"}
        read_stdio(channel, lambda data: self.log.add(sources.get(data.channel, "stdio"),
                                                      data.data.decode(errors="replace")))

    def _watch_exit(self, process: PluginProcess) -> None:
        process.wait(timeout=None)
        if not self._stopping and process is self.process:
            self.log.add("host", f"the plugin process (pid {process.pid}) {exit_text(process.exit_code)}; "
                         "it restarts on the next call, without what it held in memory")
            self.on_crash()

    def _crash(self, operation: str, status_code: grpc.StatusCode) -> PluginCrashed:
        process = self.process
        code = process.wait(STEP_TIMEOUT) if process else None
        if process is not None:
            process.death_reported = True
        self.on_crash()
        tail = process.stderr_tail() if process else ""
        return PluginCrashed(self.name, operation, f"the plugin process {exit_text(code)}, and whatever it held in "
                             f"memory with it; it restarts on the next call. stderr:\n{tail}", exit_code=code,
                             stderr_tail=tail, status_code=status_code)

    def unreported_death(self, operation: str) -> PluginCrashed | None:
        """The process's death between calls, once, if no call has reported it yet."""
        process = self.process
        if process is None or process.death_reported or process.wait(STEP_TIMEOUT) is None:
            return None
        process.death_reported = True
        code, tail = process.exit_code, process.stderr_tail()
        return PluginCrashed(self.name, operation, f"the plugin process {exit_text(code)} since the last call, "
                             "so whatever it held in memory (collections, caches, sessions) is gone; it was "
                             "restarted with its last config: fill it again if needed, then repeat this call. "
                             f"stderr:\n{tail}", exit_code=code, stderr_tail=tail)

    def failure(self, error: grpc.RpcError, method: str, timeout: float | None, generation: int) -> PluginError:
        """A call the plugin's death cut short is :class:`PluginCrashed`; any other failure as for every channel."""
        code = rpc_status(error)[0]
        if code in CUT_SHORT and not self.cut_by_host(generation):
            if self.process is not None and self.process.wait(STEP_TIMEOUT) is not None:
                return self._crash(operation_name(method), code)
        return super().failure(error, method, timeout, generation)

    def _discard(self) -> None:
        """Drop a previous process at once (it crashed, or a restart replaces it)."""
        self._stopping = True
        if self.generation:  # connected before
            self.close_channel()
        if self.process is not None:
            self.process.kill()

    def stop(self, timeout: float | None) -> None:
        """Shutdown RPC, GRPCController.Shutdown, closing the connection, then SIGTERM, then SIGKILL, each bounded."""
        process = self.process
        self._stopping = True
        if process is None:
            return
        step = bounded(timeout, STEP_TIMEOUT)
        if process.exit_code is None:
            for stop in (
                lambda: self.own_stub.Shutdown(sdk.ShutdownRequest(), timeout=step),
                lambda: grpc_controller_pb2_grpc.GRPCControllerStub(self.channel).Shutdown(
                    grpc_controller_pb2.Empty(), timeout=step),
            ):
                try:
                    stop()
                except (grpc.RpcError, PluginError):  # the provider's fails as PluginError, the controller's raw
                    break
            # As go-plugin: close the connection after the controller's Shutdown, so no stream of ours
            # holds the plugin's graceful stop; first the plugin's last words (its stdio stream ends once
            # they are sent).
            self._mirror.join(step)
            self.close_channel()
            if process.wait(step) is None and not process.terminate(step):
                process.kill()
        self.close_channel()
        process.cleanup()
