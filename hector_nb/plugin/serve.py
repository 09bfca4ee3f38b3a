"""Serve a provider as a Hector plugin process: the plugin side of go-plugin.

What a go-plugin host (Hector) expects from its child, in order:

1. the magic cookie ``HECTOR_PLUGIN=hector_plugin_v1`` is checked, and app
   protocol version 1 must be among ``PLUGIN_PROTOCOL_VERSIONS``;
2. a gRPC server listens on a unix socket in a fresh private directory (or on
   127.0.0.1 inside ``PLUGIN_MIN_PORT..PLUGIN_MAX_PORT``) and carries the
   provider service, ``grpc.health.v1.Health``, ``plugin.GRPCController``,
   ``plugin.GRPCStdio`` and ``plugin.GRPCBroker`` (databases and embedders
   also carry hector_nb's own bulk service, :mod:`.bulk`, which Hector never calls);
3. exactly one line, ``1|1|unix|/path/plugin.sock|grpc``, goes to stdout;
4. from then on file descriptor 1 and ``sys.stderr`` are pipes whose bytes
   travel to the host over ``GRPCStdio``, so ``print()`` never corrupts the
   handshake;
5. the process exits when the host calls ``GRPCController.Shutdown``, on
   SIGTERM, or when its parent dies; SIGINT is ignored.

Like everything in ``hector_nb.plugin``, this module needs only the standard
library, grpc, protobuf and its own subpackage: exported plugins carry the
subpackage as their runtime.
"""

from __future__ import annotations

import collections
import io
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, NoReturn

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from . import sdk
from ._wire import (
    grpc_broker_pb2_grpc,
    grpc_controller_pb2,
    grpc_controller_pb2_grpc,
    grpc_stdio_pb2,
    grpc_stdio_pb2_grpc,
)
from .constants import (
    APP_PROTOCOL_VERSION,
    CLIENT_CERT_ENV,
    CORE_PROTOCOL_VERSION,
    HEALTH_SERVICE,
    MAGIC_COOKIE_KEY,
    MAGIC_COOKIE_VALUE,
    MAX_PORT,
    MAX_PORT_ENV,
    MIN_PORT,
    MIN_PORT_ENV,
    PROTOCOL,
    PROTOCOL_VERSIONS_ENV,
    UNIX_SOCKET_DIR_ENV,
    UNIX_SOCKET_GROUP_ENV,
    Status,
)
from .servicers import Servicer, add_to_server, servicer_for

#: Set to ``tcp`` to listen on 127.0.0.1 instead of a unix socket.
TRANSPORT_ENV = "HECTOR_NB_PLUGIN_TRANSPORT"
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
GRPC_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
]
#: Calls served at once. Go plugins under Hector serve each call in a goroutine, without a cap; the pool
#: grows a thread per concurrent call (idle threads are reused), up to this bound on a runaway host.
MAX_CONCURRENT_CALLS = 1024
PARENT_POLL_SECONDS = 0.5
STDIO_BACKLOG_CHUNKS = 4096

#: A unix socket's path fits in sockaddr_un's sun_path, 108 bytes on Linux (104 on macOS) with its final NUL.
UNIX_PATH_MAX = 104 if sys.platform == "darwin" else 108


class _Stdio(grpc_stdio_pb2_grpc.GRPCStdioServicer):
    """Bytes written to fd 1 and fd 2 after the handshake, for the host's StreamStdio call.

    Pipes are drained all the time, so a chatty provider never blocks on a full
    pipe; what arrives before the host asks is kept, up to a bound.
    """

    def __init__(self, stop: threading.Event) -> None:
        self._chunks: collections.deque[grpc_stdio_pb2.StdioData] = collections.deque(
            maxlen=STDIO_BACKLOG_CHUNKS
        )
        self._ready = threading.Condition()
        self._stop = stop
        self._drains: list[threading.Thread] = []
        self._finished = False

    def finish(self, timeout: float) -> None:
        """End StreamStdio once what the plugin wrote has been queued (not at the stream's next poll).

        The caller has closed the pipes' write ends, so each drain reads to the end
        of its pipe; a child process still holding one is waited for ``timeout`` at most.
        """
        deadline = time.monotonic() + timeout
        for drain in self._drains:
            drain.join(max(0.0, deadline - time.monotonic()))
        with self._ready:
            self._finished = True
            self._ready.notify_all()

    def pipe(self, channel: grpc_stdio_pb2.StdioData.Channel.ValueType) -> int:
        """A new pipe whose bytes are forwarded as ``channel``; returns its write end."""
        read_end, write_end = os.pipe()
        drain = threading.Thread(target=self._drain, args=(read_end, channel), daemon=True)
        drain.start()
        self._drains.append(drain)
        return write_end

    def _drain(self, read_end: int, channel: grpc_stdio_pb2.StdioData.Channel.ValueType) -> None:
        while data := os.read(read_end, 65536):
            with self._ready:
                self._chunks.append(grpc_stdio_pb2.StdioData(channel=channel, data=data))
                self._ready.notify_all()

    def StreamStdio(self, request: Any, context: grpc.ServicerContext) -> Iterator[grpc_stdio_pb2.StdioData]:
        # Ends, with everything written sent, as soon as the plugin stops (finish()): an open stream would
        # hold the server's grace period, and go-plugin kills a plugin still running 2 s after
        # GRPCController.Shutdown.
        while context.is_active():
            with self._ready:
                if not self._chunks:
                    if self._finished:  # checked under the lock: finish() cannot slip in between
                        return
                    self._ready.wait(timeout=0.5)
                    continue
                chunk = self._chunks.popleft()
            yield chunk


class _Health(health_pb2_grpc.HealthServicer):  # type: ignore[misc,unused-ignore] # grpc_health untyped
    """``grpc.health.v1.Health.Check``, as go-plugin's host calls it: the server and the ``plugin`` service serve.

    grpc_health's own servicer would also import its asyncio twin at start; ``Watch``, which
    no host calls, stays UNIMPLEMENTED.
    """

    def Check(self, request: health_pb2.HealthCheckRequest, context: grpc.ServicerContext
              ) -> health_pb2.HealthCheckResponse:
        if request.service not in ("", HEALTH_SERVICE):
            context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


class _Controller(grpc_controller_pb2_grpc.GRPCControllerServicer):
    def __init__(self, servicer: Servicer, stop: threading.Event) -> None:
        self._servicer = servicer
        self._stop = stop

    def Shutdown(self, request: Any, context: grpc.ServicerContext) -> grpc_controller_pb2.Empty:
        if self._servicer.status != Status.SHUTDOWN:
            self._servicer.Shutdown(sdk.ShutdownRequest(), context)
        self._stop.set()
        return grpc_controller_pb2.Empty()


class _Broker(grpc_broker_pb2_grpc.GRPCBrokerServicer):
    """Accepts the host's broker stream and holds it until the host leaves or the plugin stops
    (not longer, see :meth:`_Stdio.StreamStdio`): these plugins never dial back."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop

    def StartStream(self, request_iterator: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
        while context.is_active() and not self._stop.wait(0.5):
            pass
        return iter(())


@dataclass
class _Listener:
    network: str
    address: str
    directory: str | None = None

    def remove(self) -> None:
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)


def _new_server(servicer: Servicer) -> tuple[grpc.Server, futures.ThreadPoolExecutor]:
    """A server with the provider's service, the bulk services and health; and its workers, to shut down."""
    workers = futures.ThreadPoolExecutor(max_workers=MAX_CONCURRENT_CALLS, thread_name_prefix="plugin-call")
    # Beyond the bound a call is refused at once (RESOURCE_EXHAUSTED), never queued behind streams that
    # may run for minutes.
    server = grpc.server(workers, options=GRPC_OPTIONS, maximum_concurrent_rpcs=MAX_CONCURRENT_CALLS)
    add_to_server(server, servicer)
    if servicer.provider.plugin_type != sdk.PLUGIN_TYPE_LLM:  # an LLM has no bulk service: not imported
        from .bulk import add_bulk_to_server

        add_bulk_to_server(server, servicer)
    health_pb2_grpc.add_HealthServicer_to_server(_Health(), server)
    return server, workers


def _unix_listener(server: grpc.Server, parent_dir: str | None) -> _Listener:
    directory = tempfile.mkdtemp(prefix="plugin", dir=parent_dir)  # mode 0700
    path = os.path.join(directory, "plugin.sock")
    length = len(os.fsencode(path))
    if length >= UNIX_PATH_MAX:  # grpc would say only "Failed to bind"
        os.rmdir(directory)
        raise OSError(f"the socket path {path} is {length} bytes, longer than a unix socket allows "
                      f"({UNIX_PATH_MAX - 1}); set TMPDIR (or {UNIX_SOCKET_DIR_ENV}) to a shorter directory")
    server.add_insecure_port(f"unix:{path}")
    return _Listener("unix", path, directory)


def _tcp_listener(server: grpc.Server, min_port: int, max_port: int) -> _Listener:
    ports = list(range(min_port, max_port + 1))
    random.shuffle(ports)
    for port in ports[:200]:
        try:
            if server.add_insecure_port(f"127.0.0.1:{port}"):
                return _Listener("tcp", f"127.0.0.1:{port}")
        except RuntimeError:
            continue
    raise OSError(f"no free TCP port on 127.0.0.1 between {min_port} and {max_port}")


def _fail(message: str) -> NoReturn:
    sys.stderr.write(message.rstrip() + "\n")
    sys.stderr.flush()
    sys.exit(1)


def _check_host(plugin: str) -> None:
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        _fail(
            f"{plugin}: this binary is a plugin, run it through Hector "
            f"(or hector_nb's Session.load). It is not meant to be executed directly."
        )
    offered = [v.strip() for v in os.environ.get(PROTOCOL_VERSIONS_ENV, "").split(",") if v.strip()]
    if offered and str(APP_PROTOCOL_VERSION) not in offered:
        _fail(
            f"{plugin}: the host offers plugin protocol version(s) {', '.join(offered)}, "
            f"but this plugin speaks version {APP_PROTOCOL_VERSION}. Upgrade the plugin or the host."
        )
    if os.environ.get(CLIENT_CERT_ENV):
        _fail(
            f"{plugin}: the host asked for AutoMTLS ({CLIENT_CERT_ENV}), which hector_nb plugins "
            "do not support yet. Turn AutoMTLS off in the host."
        )


def give_to_group(path: str, group: str, mode: int) -> None:
    """go-plugin's setGroupWritable: ``path`` owned by ``group`` (a name or a numeric id), with ``mode``."""
    shutil.chown(path, group=int(group) if group.isdigit() else group)
    os.chmod(path, mode)


def _listen(server: grpc.Server, transport: str | None) -> _Listener:
    transport = transport or os.environ.get(TRANSPORT_ENV, "unix")
    if transport == "tcp":
        min_port = int(os.environ.get(MIN_PORT_ENV) or MIN_PORT)
        max_port = int(os.environ.get(MAX_PORT_ENV) or MAX_PORT)
        return _tcp_listener(server, min_port, max_port)
    if transport != "unix":
        _fail(f"unknown plugin transport {transport!r}: use 'unix' or 'tcp'")
    listener = _unix_listener(server, os.environ.get(UNIX_SOCKET_DIR_ENV) or None)
    group = os.environ.get(UNIX_SOCKET_GROUP_ENV)
    if group:
        # As go-plugin's setGroupWritable: the group owns the socket (0660) and, since ours sits
        # in a private directory, that directory too (0770), or the group could not reach it.
        try:
            assert listener.directory is not None  # a unix listener has its private directory
            give_to_group(listener.directory, group, 0o770)
            give_to_group(listener.address, group, 0o660)
        except (LookupError, OSError) as exc:
            listener.remove()
            _fail(f"cannot give the socket to group {group!r} ({UNIX_SOCKET_GROUP_ENV}): {exc}")
    return listener


def _watch_parent(parent: int, stop: threading.Event) -> None:
    # Polling rather than PR_SET_PDEATHSIG: that signal fires when the forking *thread*
    # exits, which a Go host's scheduler may do at any time.
    while not stop.wait(PARENT_POLL_SECONDS):
        if os.getppid() != parent:
            stop.set()


def serve_plugin(provider: sdk.Provider, plugin_type: str, *, transport: str | None = None) -> NoReturn:
    """Run ``provider`` as a go-plugin gRPC plugin of ``plugin_type`` until the host stops it.

    ``transport`` is ``"unix"`` (the default, as Go plugins on Linux) or
    ``"tcp"``; the environment variable ``HECTOR_NB_PLUGIN_TRANSPORT`` sets it too.
    """
    # Taken first: a host that dies during start-up must not leave us waiting for a parent we never saw.
    parent = os.getppid()
    name = sdk.plugin_name(provider)
    if provider.plugin_type != plugin_type:
        _fail(f"{name}: is a {provider.plugin_type or 'non-provider'}, but was served as a {plugin_type}")
    _check_host(name)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    servicer = servicer_for(provider)
    server, _ = _new_server(servicer)
    stdio = _Stdio(stop)
    grpc_stdio_pb2_grpc.add_GRPCStdioServicer_to_server(stdio, server)
    grpc_controller_pb2_grpc.add_GRPCControllerServicer_to_server(_Controller(servicer, stop), server)
    grpc_broker_pb2_grpc.add_GRPCBrokerServicer_to_server(_Broker(stop), server)
    try:
        listener = _listen(server, transport)
    except OSError as exc:
        _fail(f"{name}: cannot listen: {exc}")
    server.start()

    handshake = f"{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|{listener.network}|{listener.address}|{PROTOCOL}\n"
    sys.stdout.flush()
    os.write(1, handshake.encode())
    # fd 1 itself is redirected, so nothing (not even C code) can write after the handshake line.
    # stderr is redirected at the Python level only, as go-plugin does in Go: fd 2 stays the host's
    # stderr pipe, where a dying process's last words (fatal errors, faulthandler) still arrive.
    stdout_pipe = stdio.pipe(grpc_stdio_pb2.StdioData.STDOUT)
    os.dup2(stdout_pipe, 1)
    os.close(stdout_pipe)
    sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False), line_buffering=True)
    sys.stderr = io.TextIOWrapper(open(stdio.pipe(grpc_stdio_pb2.StdioData.STDERR), "wb"), line_buffering=True)

    threading.Thread(target=_watch_parent, args=(parent, stop), daemon=True).start()
    while not stop.wait(1.0):
        pass
    # Everything written so far reaches the stdio stream, which then ends, so the server's grace is not
    # spent waiting for it: the pipes' write ends are closed (later words go to fd 2, the host's stderr).
    sys.stdout.flush()
    stderr_pipe, sys.stderr = sys.stderr, sys.__stderr__
    stderr_pipe.close()
    os.dup2(2, 1)
    stdio.finish(timeout=1.0)
    server.stop(grace=2).wait(timeout=5)
    listener.remove()
    os._exit(0)  # grpc's worker threads must not keep a stopped plugin alive


@dataclass
class InProcessServer:
    """A provider served on a private unix socket by threads of this process."""

    servicer: Servicer
    address: str
    _server: grpc.Server = field(repr=False)
    _listener: _Listener = field(repr=False)
    _workers: futures.ThreadPoolExecutor = field(repr=False)

    def stop(self, grace: float = 1.0) -> None:
        """Stop serving, end the worker threads (grpc leaves them idle), remove the socket and its directory."""
        self._server.stop(grace).wait(timeout=grace + 5)
        self._workers.shutdown(wait=False, cancel_futures=True)
        self._listener.remove()


def start_server(provider: sdk.Provider, *, plugin_name: str | None = None) -> InProcessServer:
    """Serve ``provider`` (its service and health) in threads of this process.

    The in-process transport dials :attr:`InProcessServer.address` with the real
    stubs, so calls cross exactly the bytes Hector would exchange.
    """
    servicer = servicer_for(provider, plugin_name)
    server, workers = _new_server(servicer)
    listener = _unix_listener(server, None)
    server.start()
    return InProcessServer(servicer, f"unix://{listener.address}", server, listener, workers)


def main(argv: list[str] | None = None) -> NoReturn:
    """``python -m hector_nb.plugin.serve MODULE:CLASS``: serve an importable provider class as a plugin."""
    import importlib

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or ":" not in args[0]:
        _fail("usage: python -m hector_nb.plugin.serve MODULE:CLASS  (a provider class importable here)")
    module_name, _, qualname = args[0].partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    provider = target()
    serve_plugin(provider, provider.plugin_type)


if __name__ == "__main__":
    main()
