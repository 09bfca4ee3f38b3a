"""Three ways to reach a provider, behind one small interface the clients use.

- :class:`InKernelTransport`: the provider object's servicer called directly in
  this process; requests and responses are protobuf objects, never serialized.
- :class:`InProcessTransport`: the provider served by the SDK server on a
  private unix socket in threads of this process, called through the real stubs.
- :class:`SubprocessTransport`: any plugin executable (Go or Python), started
  and supervised as go-plugin's host does.

Every call has a deadline, and every failure becomes a :mod:`hector_nb.errors`
exception naming the plugin and the operation.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any

import grpc
from google.protobuf import empty_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ..errors import PluginCrashed, PluginError, PluginTimeout, ProviderError
from ..plugin import sdk
from ..plugin._wire import (
    database_pb2_grpc,
    embedder_pb2_grpc,
    grpc_controller_pb2,
    grpc_controller_pb2_grpc,
    grpc_stdio_pb2_grpc,
    llm_pb2_grpc,
)
from ..plugin.constants import HEALTH_SERVICE
from ..plugin.serve import GRPC_OPTIONS, start_server
from ..plugin.servicers import Servicer, servicer_for
from .log import PluginLog
from .process import PluginProcess

STUBS = {
    sdk.PLUGIN_TYPE_LLM: llm_pb2_grpc.LLMProviderStub,
    sdk.PLUGIN_TYPE_DATABASE: database_pb2_grpc.DatabaseProviderStub,
    sdk.PLUGIN_TYPE_EMBEDDER: embedder_pb2_grpc.EmbedderProviderStub,
}
_STEP_TIMEOUT = 2.0


def operation_name(method: str) -> str:
    """``GenerateStreaming`` -> ``generate_streaming``: how operations read in errors."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


class Transport:
    """What a client needs from the way its provider is reached."""

    kind = ""

    def __init__(self, name: str, plugin_type: str) -> None:
        self.name = name
        self.plugin_type = plugin_type
        self.status = "loading"
        self.restarts = 0
        self.log = PluginLog()
        #: The config of the last successful Initialize, replayed after a restart.
        self.config: dict[str, str] | None = None
        #: The provider object, when it was given in Python (not loaded from an executable).
        self.provider: sdk.Provider | None = None

    @property
    def pid(self) -> int | None:
        return None

    def call(self, method: str, request: Any, timeout: float) -> Any:
        """One unary RPC."""
        raise NotImplementedError

    def submit(self, method: str, request: Any, timeout: float) -> Any:
        """A unary RPC that may run while the caller sends the next (bulk pipelining).

        Returns an object with ``result()`` and ``cancel()``.
        """
        future: Future = Future()
        try:
            future.set_result(self.call(method, request, timeout))
        except PluginError as exc:
            future.set_exception(exc)
        return future

    def stream(self, method: str, request: Any, timeout: float) -> Iterator[Any]:
        """A server-streaming RPC; closing the iterator (or dropping it) cancels the call."""
        raise NotImplementedError

    def restart(self, timeout: float) -> None:
        """Start the provider afresh and replay its last config."""
        raise NotImplementedError

    def close(self, timeout: float) -> None:
        """Stop the provider: its Shutdown, then whatever the transport needs."""
        raise NotImplementedError


class _LocalContext:
    """The three ``ServicerContext`` methods the servicers use, for direct calls."""

    def __init__(self) -> None:
        self.callbacks: list[Callable[[], None]] = []

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise _Aborted(code, details)

    def is_active(self) -> bool:
        return True

    def add_callback(self, callback: Callable[[], None]) -> bool:
        self.callbacks.append(callback)
        return True


class _Aborted(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code, self.details = code, details


def _in_thread(function: Callable[[], Any], timeout: float) -> Any:
    """Run ``function`` in a daemon thread, so a hung provider costs a thread, not the caller."""
    outcome: list[Any] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(function())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError
    if failure:
        raise failure[0]
    return outcome[0]


class InKernelTransport(Transport):
    """The provider's servicer, called directly: no socket, no serialization."""

    kind = "in-kernel"

    def __init__(self, name: str, provider: sdk.Provider) -> None:
        super().__init__(name, provider.plugin_type)
        self.provider = provider
        self.servicer: Servicer = servicer_for(provider, name)

    def call(self, method: str, request: Any, timeout: float) -> Any:
        operation = operation_name(method)
        try:
            return _in_thread(lambda: getattr(self.servicer, method)(request, _LocalContext()), timeout)
        except TimeoutError:
            raise PluginTimeout(self.name, operation, f"no answer within {timeout:g}s; the provider is "
                                "stuck in this call. Pass a longer timeout= or fix the provider") from None
        except _Aborted as aborted:
            raise ProviderError(self.name, operation, aborted.details) from None

    def stream(self, method: str, request: Any, timeout: float) -> Iterator[Any]:
        chunks = getattr(self.servicer, method)(request, _LocalContext())
        deadline = time.monotonic() + timeout
        try:
            while True:
                remaining = deadline - time.monotonic()
                try:
                    yield _in_thread(lambda: next(chunks), max(remaining, 0.0))
                except StopIteration:
                    return
                except TimeoutError:
                    raise PluginTimeout(self.name, operation_name(method),
                                        f"stream not finished within {timeout:g}s; pass a longer timeout=",
                                        ) from None
        finally:
            chunks.close()

    def restart(self, timeout: float) -> None:
        self.call("Shutdown", sdk.ShutdownRequest(), timeout)
        self.servicer = servicer_for(self.provider, self.name)
        self.restarts += 1

    def close(self, timeout: float) -> None:
        if self.status != "shutdown":
            self.call("Shutdown", sdk.ShutdownRequest(), timeout)
        self.status = "shutdown"


class GrpcTransport(Transport):
    """A provider behind a gRPC channel: shared by the in-process and subprocess transports."""

    channel: grpc.Channel
    stub: Any

    def _connect(self, target: str, timeout: float) -> None:
        self.channel = grpc.insecure_channel(target, options=GRPC_OPTIONS)
        try:
            grpc.channel_ready_future(self.channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise PluginTimeout(self.name, "connect", f"no connection to {target} within {timeout:g}s") from None
        self.stub = STUBS[self.plugin_type](self.channel)

    def _failure(self, error: grpc.RpcError, method: str, timeout: float) -> PluginError:
        operation = operation_name(method)
        code = error.code()
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return PluginTimeout(self.name, operation, f"no answer within {timeout:g}s; pass a longer "
                                 f"timeout= or check the plugin (session.get({self.name!r}).logs())")
        if code == grpc.StatusCode.UNKNOWN:
            return ProviderError(self.name, operation, error.details() or "the provider failed")
        if code == grpc.StatusCode.UNIMPLEMENTED:
            return PluginError(self.name, operation, f"the plugin does not implement {method}; is it a "
                               f"{self.plugin_type}?")
        return PluginError(self.name, operation, f"gRPC {code.name}: {error.details()}")

    def _before_call(self, timeout: float) -> None:
        """Hook: the subprocess transport restarts a crashed plugin here."""

    def call(self, method: str, request: Any, timeout: float) -> Any:
        self._before_call(timeout)
        try:
            return getattr(self.stub, method)(request, timeout=timeout)
        except grpc.RpcError as error:
            raise self._failure(error, method, timeout) from None

    def submit(self, method: str, request: Any, timeout: float) -> _Pending:
        self._before_call(timeout)
        return _Pending(self, method, getattr(self.stub, method).future(request, timeout=timeout), timeout)

    def stream(self, method: str, request: Any, timeout: float) -> Iterator[Any]:
        self._before_call(timeout)
        call = getattr(self.stub, method)(request, timeout=timeout)
        try:
            yield from call
        except grpc.RpcError as error:
            raise self._failure(error, method, timeout) from None
        finally:
            call.cancel()


class _Pending:
    """A call in flight; :meth:`result` translates its failure as :meth:`GrpcTransport.call` does."""

    def __init__(self, transport: GrpcTransport, method: str, call: Any, timeout: float) -> None:
        self._transport, self._method, self._call, self._timeout = transport, method, call, timeout

    def result(self) -> Any:
        try:
            return self._call.result()
        except grpc.RpcError as error:
            raise self._transport._failure(error, self._method, self._timeout) from None

    def cancel(self) -> bool:
        return self._call.cancel()


class InProcessTransport(GrpcTransport):
    """The provider served by the SDK server in threads of this process, over a unix socket."""

    kind = "in-process"

    def __init__(self, name: str, provider: sdk.Provider, timeout: float) -> None:
        super().__init__(name, provider.plugin_type)
        self.provider = provider
        self._serve(timeout)

    def _serve(self, timeout: float) -> None:
        self.server = start_server(self.provider, plugin_name=self.name)
        self._connect(self.server.address, timeout)

    def restart(self, timeout: float) -> None:
        self.close(timeout)
        self._serve(timeout)
        self.restarts += 1

    def close(self, timeout: float) -> None:
        try:
            if self.status != "shutdown":
                self.call("Shutdown", sdk.ShutdownRequest(), timeout)
        finally:
            self.status = "shutdown"
            self.channel.close()
            self.server.stop(grace=min(timeout, 1.0))


class SubprocessTransport(GrpcTransport):
    """A plugin executable, supervised: crashes detected, restarted on the next call.

    Restarts are bounded: after ``max_restarts`` failed attempts in a row (with
    growing pauses between them) the plugin's status becomes ``error`` and it
    stays down until :meth:`restart` is called by hand.
    """

    kind = "subprocess"

    def __init__(self, name: str, plugin_type: str, command: Sequence[str], timeout: float,
                 max_restarts: int = 3, env: dict[str, str] | None = None) -> None:
        super().__init__(name, plugin_type)
        self.command = list(command)
        self.env = env
        self.max_restarts = max_restarts
        self._failed_restarts = 0
        self._stopping = False
        self._lock = threading.RLock()
        self.process: PluginProcess | None = None
        self._start(timeout)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def _start(self, timeout: float) -> None:
        self._stopping = False
        process = PluginProcess(self.name, self.command, self.log, self.env)
        handshake = process.start(timeout)
        self.process = process
        try:
            self._connect(handshake.target, timeout)
            health = health_pb2_grpc.HealthStub(self.channel)
            health.Check(health_pb2.HealthCheckRequest(service=HEALTH_SERVICE), timeout=timeout)
        except (grpc.RpcError, PluginError) as exc:
            process.kill()
            detail = exc.details() if isinstance(exc, grpc.RpcError) else exc.message
            raise PluginError(self.name, "start", f"handshake done but the plugin does not answer: {detail}; "
                              f"stderr:\n{process.stderr_tail()}") from None
        threading.Thread(target=self._mirror_stdio, args=(self.channel,), daemon=True).start()
        threading.Thread(target=self._watch_exit, args=(process,), daemon=True).start()

    def _mirror_stdio(self, channel: grpc.Channel) -> None:
        sources = {1: "stdout", 2: "stderr"}
        try:
            for data in grpc_stdio_pb2_grpc.GRPCStdioStub(channel).StreamStdio(empty_pb2.Empty()):
                self.log.add(sources.get(data.channel, "stdio"), data.data.decode(errors="replace"))
        except grpc.RpcError:
            pass  # the channel closed, or the plugin has no stdio service

    def _watch_exit(self, process: PluginProcess) -> None:
        process.wait(timeout=None)  # type: ignore[arg-type]
        if not self._stopping and process is self.process:
            self.status = "crashed"

    def _crash(self, operation: str) -> PluginCrashed:
        process = self.process
        code = process.wait(_STEP_TIMEOUT) if process else None
        self.status = "crashed"
        tail = process.stderr_tail() if process else ""
        return PluginCrashed(self.name, operation, f"the plugin process exited with code {code}; "
                             f"it restarts on the next call. stderr:\n{tail}", exit_code=code, stderr_tail=tail)

    def _failure(self, error: grpc.RpcError, method: str, timeout: float) -> PluginError:
        if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED, grpc.StatusCode.INTERNAL):
            if self.process is not None and self.process.wait(_STEP_TIMEOUT) is not None:
                return self._crash(operation_name(method))
        return super()._failure(error, method, timeout)

    def _before_call(self, timeout: float) -> None:
        with self._lock:
            if self.status == "crashed":
                self._recover(timeout)
            elif self.status == "error" and self._failed_restarts >= self.max_restarts:
                raise PluginCrashed(self.name, "restart", f"gave up after {self.max_restarts} failed restarts; "
                                    f"fix the plugin, then session.restart({self.name!r})")

    def _recover(self, timeout: float) -> None:
        while True:
            if self._failed_restarts:
                time.sleep(min(0.25 * 2 ** self._failed_restarts, 4.0))  # backoff between attempts
            try:
                self._relaunch(timeout)
                self._failed_restarts = 0
                return
            except PluginError:
                self._failed_restarts += 1
                if self._failed_restarts >= self.max_restarts:
                    self.status = "error"
                    raise

    def _relaunch(self, timeout: float) -> None:
        self.status = "restarting"
        self._discard()
        self._start(timeout)
        self.restarts += 1
        if self.config is not None:
            reply = self.stub.Initialize(sdk.InitializeRequest(config=self.config), timeout=timeout)
            if not reply.success:
                self.status = "error"
                raise ProviderError(self.name, "initialize", reply.error)
        self.status = "ready"

    def restart(self, timeout: float) -> None:
        with self._lock:
            self.close(timeout)
            self._failed_restarts = 0
            self._relaunch(timeout)

    def _discard(self) -> None:
        self._stopping = True
        if getattr(self, "channel", None) is not None:
            self.channel.close()
        if self.process is not None:
            self.process.kill()

    def close(self, timeout: float) -> None:
        """Shutdown RPC, then GRPCController.Shutdown, then SIGTERM, then SIGKILL, each bounded."""
        process = self.process
        self._stopping = True
        if process is None:
            return
        step = min(timeout, _STEP_TIMEOUT)
        if process.exit_code is None:
            for stop in (
                lambda: self.stub.Shutdown(sdk.ShutdownRequest(), timeout=step),
                lambda: grpc_controller_pb2_grpc.GRPCControllerStub(self.channel).Shutdown(
                    grpc_controller_pb2.Empty(), timeout=step),
            ):
                try:
                    stop()
                except grpc.RpcError:
                    break
            if process.wait(step) is None and not process.terminate(step):
                process.kill()
        self.channel.close()
        process.cleanup()
        self.status = "shutdown"
