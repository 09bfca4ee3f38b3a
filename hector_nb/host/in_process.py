"""The in-process transport: the provider served by the SDK server in threads of this process.

The server listens on a private unix socket and the host dials it with the
real stubs, so every call is wire-exact (what Hector would send and receive)
without starting a process.
"""

from __future__ import annotations

from ..errors import PluginError
from ..plugin import sdk
from ..plugin.serve import start_server
from .deadlines import STEP_TIMEOUT, bounded
from .grpc_client import GrpcTransport
from .instances import fresh_provider


class InProcessTransport(GrpcTransport):
    """The provider served by the SDK server in threads of this process, over a unix socket."""

    kind = "in-process"

    def __init__(self, name: str, provider: sdk.Provider, timeout: float | None) -> None:
        super().__init__(name, provider.plugin_type)
        self.provider: sdk.Provider = provider
        self._serve()

    def start(self, timeout: float | None) -> None:
        """Start afresh, as a new plugin process would: a new instance of the provider, served anew."""
        self.provider = fresh_provider(self.provider, self.name, "restart")
        self._serve()

    def _serve(self) -> None:
        try:
            self.server = start_server(self.provider, plugin_name=self.name)
        except OSError as exc:
            raise PluginError(self.name, "start", str(exc)) from None
        self.server.servicer.report_failure = self.record_failure  # type: ignore[method-assign]
        self._connect(self.server.address)  # a server of this process, listening already
        # Only once connected: a call the stop cut short may be judged while this restart runs.
        self._stopped = self._stopping = False

    def stop(self, timeout: float | None) -> None:
        if self._stopped:
            return
        self._stopped = self._stopping = True
        try:
            # Bounded as a subprocess's Shutdown is: closing a session always ends.
            self.own_stub.Shutdown(sdk.ShutdownRequest(), timeout=STEP_TIMEOUT if timeout is None else timeout)
        finally:
            self.close_channel()
            self.server.stop(grace=bounded(timeout, 1.0))
