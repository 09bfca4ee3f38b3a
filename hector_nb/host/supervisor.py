"""One plugin's life as the host sees it: its status, its last config, and when it restarts.

go-plugin leaves restarts to the application; this module is where hector_nb
decides them, the same way for every transport. A :class:`Supervisor` wraps one
started :class:`~.transport.Transport` and is the only owner of:

- the plugin's :class:`~hector_nb.plugin.constants.Status`, as Hector names it;
- the config of its last successful ``Initialize``, replayed after every restart;
- its :class:`RestartPolicy`: a call after a crash restarts the plugin first,
  a bounded number of times in a row, with growing pauses. A crash no call has
  reported yet (the process died between calls) fails that call with
  :class:`~hector_nb.errors.PluginCrashed` after the restart: its memory is gone.

Every call goes through it, so a restart and an unload never run at once: an
unload waits for a restart in progress, and the restart stops what it started.
It takes its step once, for every method: it becomes the transport's
:attr:`~.transport.Transport.before_call`, which the transport's one stub runs
before each call (the channel transports in their client interceptor, the
in-kernel stub in its direct call). Clients call :attr:`Supervisor.stub`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import PluginError, PluginGaveUp, ProviderError
from ..plugin import sdk
from ..plugin.constants import Status
from .rpc import ProviderStub
from .rpc_errors import operation_name
from .transport import Transport

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from .bulk import VectorBatch


@dataclass(frozen=True)
class RestartPolicy:
    """When a crashed plugin starts again: on the next call, up to ``max_restarts`` failed attempts in a row.

    The pause before a repeated attempt doubles from ``first_pause`` up to
    ``max_pause`` seconds. After the last failed attempt the plugin's status is
    ``error`` and it stays down until it is restarted by hand.
    """

    max_restarts: int = 3
    first_pause: float = 0.5
    max_pause: float = 4.0

    def pause(self, failed: int) -> float:
        """Seconds to wait before the next attempt, after ``failed`` failed ones in a row."""
        return 0.0 if failed == 0 else min(self.first_pause * 2 ** (failed - 1), self.max_pause)


class Supervisor:
    """The one owner of a plugin's status, last config and restarts, over any transport."""

    def __init__(self, transport: Transport, policy: RestartPolicy | None = None) -> None:
        self.transport = transport
        self.policy = policy or RestartPolicy()
        self._status = Status.LOADING
        self._config: dict[str, str] | None = None
        self._restarts = 0
        self._failed_restarts = 0
        # Held while the plugin is (re)started or stopped; calls to a ready plugin never take it.
        self._lock = threading.RLock()
        self._closing = threading.Event()
        transport.on_crash = self._crashed
        transport.before_call = self._before_call

    @property
    def stub(self) -> ProviderStub:
        """The provider's service; each call restarts a crashed plugin first (see the module's docstring)."""
        return self.transport.stub

    @property
    def name(self) -> str:
        return self.transport.name

    @property
    def status(self) -> Status:
        """The host's view of the plugin, as Hector names it."""
        return self._status

    @property
    def config(self) -> dict[str, str] | None:
        """The config of the last successful Initialize (None before one)."""
        return None if self._config is None else dict(self._config)

    @property
    def restarts(self) -> int:
        """How many times the plugin was started again, by hand or after a crash."""
        return self._restarts

    def _crashed(self) -> None:
        if not self._closing.is_set():
            self._status = Status.CRASHED

    def _unloaded(self, operation: str) -> PluginError:
        return PluginError(self.name, operation, "the plugin was shut down (unloaded); load it again to use it")

    def initialize(self, config: dict[str, str], timeout: float | None) -> None:
        """Send the provider its config; on success it is ``ready`` and the config is kept for restarts."""
        try:
            reply = self.stub.Initialize(sdk.InitializeRequest(config=config), timeout=timeout)
            if not reply.success:
                raise ProviderError(self.name, "initialize", reply.error or "failed without saying why")
        except Exception:
            self._status = Status.ERROR
            raise
        self._config = dict(config)
        self._status = Status.READY

    def search(self, request: sdk.SearchRequest, query: NDArray[np.float32], timeout: float | None
               ) -> list[sdk.SearchResult]:
        """``Search`` (see :meth:`Transport.search`), after restarting a crashed plugin."""
        self._before_call("Search", timeout)
        return self.transport.search(request, query, timeout)

    def upsert_batches(self, collection: str, batches: Iterable[VectorBatch], items: int, timeout: float | None
                       ) -> Iterator[int]:
        """Batches of upserts (see :meth:`Transport.upsert_batches`), after restarting a crashed plugin."""
        self._before_call("UpsertMany", timeout)
        yield from self.transport.upsert_batches(collection, batches, items, timeout)

    def embed_batches(self, batches: Iterable[list[str]], timeout: float | None) -> Iterator[NDArray[np.float32]]:
        """Batches of texts to embed (see :meth:`Transport.embed_batches`), after restarting a crashed plugin."""
        self._before_call("EmbedMany", timeout)
        yield from self.transport.embed_batches(batches, timeout)

    def _before_call(self, method: str, timeout: float | None) -> None:
        """Before a call of wire method ``method``: restart a crashed plugin, refuse an unloaded or given-up one."""
        if self._status in (Status.READY, Status.LOADING):
            return
        with self._lock:
            if self._status == Status.SHUTDOWN:
                raise self._unloaded(operation_name(method))
            if self._status == Status.CRASHED:
                # A process that died between calls took its memory along: restart it, but never in silence.
                death = self.transport.unreported_death(operation_name(method))
                self._recover(timeout)
                if death is not None:
                    raise death
            elif self._status == Status.ERROR and self._failed_restarts >= self.policy.max_restarts:
                raise PluginGaveUp(self.name, "restart", f"gave up after {self.policy.max_restarts} failed "
                                   f"restarts; fix the plugin, then session.restart({self.name!r})")

    def _recover(self, timeout: float | None) -> None:
        while True:
            if self._closing.wait(self.policy.pause(self._failed_restarts)):
                raise self._unloaded("restart")
            try:
                self._relaunch(timeout)
            except PluginError:
                if self._closing.is_set():
                    raise
                self._failed_restarts += 1
                if self._failed_restarts >= self.policy.max_restarts:
                    self._status = Status.ERROR
                    raise
            else:
                self._failed_restarts = 0
                return

    def _relaunch(self, timeout: float | None) -> None:
        self._status = Status.RESTARTING
        self.transport.start(timeout)
        self._restarts += 1
        if self._closing.is_set():
            # Unloaded while it was starting: nobody tracks this plugin any more, so stop it here.
            self.transport.stop(timeout)
            raise self._unloaded("restart")
        if self._config is not None:
            # Through the stub: the supervisor's step lets it pass, the plugin being restarted.
            reply = self.stub.Initialize(sdk.InitializeRequest(config=self._config), timeout=timeout)
            if not reply.success:
                self._status = Status.ERROR
                raise ProviderError(self.name, "initialize", reply.error or "failed without saying why")
        self._status = Status.READY

    def restart(self, timeout: float | None) -> None:
        """Stop the plugin and start it afresh with its last config, whatever its status."""
        with self._lock:
            if self._closing.is_set():
                raise self._unloaded("restart")
            self._status = Status.RESTARTING  # calls from now on wait for the new instance
            self.transport.stop(timeout)
            self._failed_restarts = 0
            try:
                self._relaunch(timeout)
            except BaseException:
                self._status = Status.ERROR
                raise

    def close(self, timeout: float | None) -> None:
        """Stop the plugin for good. A restart running in another thread finishes first, then stops too."""
        self._closing.set()
        with self._lock:
            if self._status == Status.SHUTDOWN:
                return
            try:
                self.transport.stop(timeout)
            finally:
                self._status = Status.SHUTDOWN
