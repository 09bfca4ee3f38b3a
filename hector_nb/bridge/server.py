"""Start and stop the bridge: uvicorn serving the bridge's app in a thread of its own, with its own event loop."""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import socket
import tempfile
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import uvicorn

from ..errors import HectorError
from .app import make_app
from .context import BridgeContext
from .hector_config import config_lines
from .tls import ServerCertificate, make_certificate

if TYPE_CHECKING:
    import pandas

    from ..sessions import Session

#: Seconds to wait for the server to listen, and for it to stop.
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
#: Seconds an open stream may go on once the bridge is asked to stop.
GRACEFUL_STOP = 2


class _Server(uvicorn.Server):
    """uvicorn's server, telling another thread when it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()


class Bridge:
    """A running bridge: its ``url``, its request ``log`` and :meth:`stop`; a context manager.

    ``ca_certificate`` is the certificate a client trusts when the bridge serves
    TLS (None: plain HTTP).
    """

    def __init__(self, context: BridgeContext, server: _Server, thread: threading.Thread, url: str,
                 certificate: ServerCertificate | None = None) -> None:
        self.context = context
        self.url = url
        self.ca_certificate: str | None = None if certificate is None else str(certificate.ca_certificate)
        self._server = server
        self._thread = thread
        self._certificate = certificate

    def __repr__(self) -> str:
        return f"<Bridge {self.url} {'running' if self.running else 'stopped'}>"

    def __enter__(self) -> Bridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def describe(self) -> str:
        """What is served where, and the lines to put in Hector's config (v1 and v2) and an OpenAI client's."""
        return config_lines(self.url, self.context.models(("llm", "embedder", "database")), self.context.api_key,
                            self.ca_certificate)

    @property
    def log(self) -> pandas.DataFrame:
        """The requests answered so far: time, api, model, operation, roles, messages, tools, stream,
        latency_ms, status, detail."""
        return self.context.log.frame()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop serving: open streams get :data:`GRACEFUL_STOP` seconds, then the server closes."""
        self._server.should_exit = True
        self._thread.join(timeout)
        self.context.workers.close()
        if self._thread.is_alive():
            raise HectorError(f"the bridge at {self.url} did not stop within {timeout:g}s")
        if self._certificate is not None:
            shutil.rmtree(self._certificate.ca_certificate.parent, ignore_errors=True)


def start_bridge(session: Session, names: Sequence[str] | None = None, port: int = 0, host: str = "127.0.0.1",
                 api_key: str | None = None, timeout: float | None = None,
                 max_request_bytes: int | None = None, tls: bool = False) -> Bridge:
    """Serve ``session``'s plugins ``names`` (None: all, as they come and go) over the Ollama and OpenAI APIs.

    Returns once the server listens. ``port`` 0 picks a free one. A host other
    than loopback needs an ``api_key``, which every request must then send as
    ``Authorization: Bearer KEY``. ``timeout`` is each request's deadline
    (default: the session's), ``max_request_bytes`` the largest body accepted.
    ``tls`` serves HTTPS with a certificate made for this bridge (Hector v1's vector
    store needs it); the bridge's ``ca_certificate`` is the file a client trusts.
    """
    if api_key is None and not _loopback(host):
        raise HectorError(f"serving on {host} makes your providers reachable from other machines: pass an api_key "
                          "(every request must then send it as a bearer token), or serve on 127.0.0.1")
    context = BridgeContext(session, None if names is None else tuple(names), api_key=api_key, timeout=timeout)
    if max_request_bytes is not None:
        context.max_request_bytes = max_request_bytes
    listener = _listen(host, port)
    certificate = make_certificate(tempfile.mkdtemp(prefix="hector-bridge-tls-"), host) if tls else None
    config = uvicorn.Config(make_app(context), log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=GRACEFUL_STOP,
                            ssl_certfile=None if certificate is None else certificate.certificate_chain,
                            ssl_keyfile=None if certificate is None else certificate.private_key)
    server = _Server(config)
    thread = threading.Thread(target=_serve, args=(server, listener), name="hector-bridge", daemon=True)
    thread.start()
    # The thread sets `listening` once uvicorn listens; a failed start ends the thread, so wait for either.
    if not server.listening.wait(START_TIMEOUT) or not server.started:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        context.workers.close()
        if certificate is not None:
            shutil.rmtree(certificate.ca_certificate.parent, ignore_errors=True)
        raise HectorError(f"the bridge did not start on {host}:{port} within {START_TIMEOUT:g}s")
    bound_host, bound_port = listener.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    scheme = "http" if certificate is None else "https"
    return Bridge(context, server, thread, f"{scheme}://{shown}:{bound_port}", certificate)


def _serve(server: _Server, listener: socket.socket) -> None:
    try:
        asyncio.run(server.serve(sockets=[listener]))
    finally:
        listener.close()
        server.listening.set()  # wakes a start still waiting: the thread has ended


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio turns Nagle's algorithm off only on sockets that say TCP, and with it on,
    # a response's headers and body (two writes) meet the client's delayed ACK: 40 ms per request.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise HectorError(f"the bridge cannot listen on {host}:{port}: {exc.strerror}; choose another port "
                          "(port 0 picks a free one)") from None
    listener.listen(128)
    return listener


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
