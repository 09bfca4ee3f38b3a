"""Three ways to reach a provider, behind one small interface.

- :mod:`.in_kernel`: the provider object's servicer called directly in this
  process; requests and responses are protobuf objects, never serialized.
- :mod:`.in_process`: the provider served by the SDK server on a private unix
  socket in threads of this process, called through the real stubs.
- :mod:`.subprocess_transport`: any plugin executable (Go or Python), started
  and stopped as go-plugin's host does.

A transport only reaches a provider: it starts it, calls it and stops it.
What the host makes of that (the plugin's status, its last config, when to
restart it) belongs to :mod:`.supervisor`. Every call has a deadline, and every
failure becomes a :mod:`hector_nb.errors` exception naming the plugin and the
operation.
"""

from __future__ import annotations

import enum
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from ..errors import PluginCrashed
from ..plugin import sdk
from . import bulk
from .log import PluginLog
from .rpc import ProviderStub

__all__ = ["BeforeCall", "Transport", "TransportKind"]

#: The supervisor's step before every call through :attr:`Transport.stub`: the wire method and its deadline.
BeforeCall = Callable[[str, "float | None"], None]


def _no_check(method: str, timeout: float | None) -> None:
    """Without a supervisor (the conformance check's instances), calls go straight to the provider."""


class TransportKind(str, enum.Enum):
    """Where a provider runs; the plain strings (``"in-kernel"``...) work too."""

    #: The provider object's servicer called directly in the kernel: no serialization.
    IN_KERNEL = "in-kernel"
    #: The SDK server in threads of the kernel, on a private unix socket: real stubs, wire-exact.
    IN_PROCESS = "in-process"
    #: A plugin process started as go-plugin's host starts it (Go or Python).
    SUBPROCESS = "subprocess"

    def __str__(self) -> str:
        return self.value


class Transport:
    """What a supervisor needs from the way its provider is reached.

    A transport is started when it is made; :meth:`stop` and :meth:`start`
    stop it and start it afresh. When the provider goes away by itself (its
    process died), the transport calls :attr:`on_crash`. Calls go through
    :attr:`stub`, one object for the transport's whole life (it reaches
    whichever instance of the provider is current): the generated gRPC stub's
    methods, typed by :mod:`.rpc`.
    """

    #: ``in-kernel``, ``in-process`` or ``subprocess``.
    kind: ClassVar[str] = ""
    #: The provider's service, shaped as its generated stub (a :class:`~.rpc.LLMStub`,
    #: :class:`~.rpc.DatabaseStub` or :class:`~.rpc.EmbedderStub`, as :attr:`plugin_type` says).
    stub: ProviderStub

    def __init__(self, name: str, plugin_type: str) -> None:
        self.name = name
        self.plugin_type = plugin_type
        self.log = PluginLog()
        #: The provider object, when it was given in Python (not loaded from an executable).
        self.provider: sdk.Provider | None = None
        #: Called, from any thread, when the provider went away on its own; the supervisor listens.
        self.on_crash: Callable[[], None] = lambda: None
        #: The provider's last exception, when it runs in this process (in-kernel, in-process).
        self.last_failure: BaseException | None = None
        #: When (``time.monotonic()``) :attr:`last_failure` was raised.
        self.last_failure_at = 0.0
        #: Run before every call through :attr:`stub` (not the transport's own calls); the supervisor sets it.
        self.before_call: BeforeCall = _no_check

    def record_failure(self, operation: str, exc: BaseException) -> None:
        """Keep an exception the provider raised in this process: its traceback in the log, itself for ``%tb``."""
        self.last_failure, self.last_failure_at = exc, time.monotonic()
        self.log.add("traceback", f"{operation} raised:\n" + "".join(traceback.format_exception(exc)).rstrip())

    @property
    def pid(self) -> int | None:
        """The plugin's process id, when it runs in a process of its own."""
        return None

    def unreported_death(self, operation: str) -> PluginCrashed | None:
        """When the provider died between calls and no call said so yet: the error that says it (once)."""
        return None

    def start(self, timeout: float | None) -> None:
        """Start the provider afresh: after :meth:`stop`, or after it crashed."""
        raise NotImplementedError

    def search(self, request: sdk.SearchRequest, query: NDArray[np.float32], timeout: float | None
               ) -> list[sdk.SearchResult]:
        """``Search``'s hits, or the provider's error as :class:`ProviderError` (the supervisor's step taken).

        ``request`` comes without its vector: ``query``, the client's checked row, is added by a
        transport that sends it, and passed on as it is by one calling the servicer directly.
        """
        raise NotImplementedError

    def upsert_batches(self, collection: str, batches: Iterable[bulk.VectorBatch], items: int, timeout: float | None
                       ) -> Iterator[int]:
        """Apply batches of upserts in order, yielding how many items were applied as they are.

        ``items`` (the total) lets a transport bound a whole stream; the supervisor's step is taken.
        """
        raise NotImplementedError

    def embed_batches(self, batches: Iterable[list[str]], timeout: float | None) -> Iterator[NDArray[np.float32]]:
        """The embeddings of each batch of texts, as a 2-D float32 array (the supervisor's step taken)."""
        raise NotImplementedError

    def stop(self, timeout: float | None) -> None:
        """Stop the provider: its Shutdown, then whatever the transport needs. Stopping twice is harmless."""
        raise NotImplementedError
