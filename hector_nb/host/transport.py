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
import re
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, ClassVar, Protocol

import numpy as np

from ..errors import PluginCrashed, PluginError, ProviderError
from ..plugin import sdk
from . import bulk
from .log import PluginLog


def operation_name(method: str) -> str:
    """``GenerateStreaming`` -> ``generate_streaming``: how operations read in errors."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


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


class PendingCall(Protocol):
    """A unary call in flight (:meth:`Transport.submit`)."""

    def result(self) -> Any: ...

    def cancel(self) -> bool: ...


class Transport:
    """What a supervisor needs from the way its provider is reached.

    A transport is started when it is made; :meth:`stop` and :meth:`start`
    stop it and start it afresh. When the provider goes away by itself (its
    process died), the transport calls :attr:`on_crash`.
    """

    #: ``in-kernel``, ``in-process`` or ``subprocess``.
    kind: ClassVar[str] = ""

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

    def record_failure(self, operation: str, exc: BaseException) -> None:
        """Keep an exception the provider raised in this process: its traceback in the log, itself for ``%tb``."""
        self.last_failure = exc
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

    def call(self, method: str, request: Any, timeout: float | None) -> Any:
        """One unary RPC."""
        raise NotImplementedError

    def search(self, request: sdk.SearchRequest, vector: list[float], timeout: float | None) -> list[sdk.SearchResult]:
        """``Search``'s hits, or the provider's error as :class:`ProviderError`.

        ``vector`` is the query ``request`` carries, as the client built it: a transport
        that calls the servicer directly passes it on rather than reading it back.
        """
        reply = self.call("Search", request, timeout)
        if reply.error:
            raise ProviderError(self.name, "search", reply.error)
        return list(reply.results)

    def submit(self, method: str, request: Any, timeout: float | None) -> PendingCall:
        """A unary RPC that may run while the caller sends the next (bulk pipelining)."""
        future: Future = Future()
        try:
            future.set_result(self.call(method, request, timeout))
        except PluginError as exc:
            future.set_exception(exc)
        return future

    def stream(self, method: str, request: Any, timeout: float | None) -> Generator[Any, None, None]:
        """A server-streaming RPC; closing the iterator (or dropping it) cancels the call."""
        raise NotImplementedError

    def upsert_batches(self, collection: str, batches: Iterable[bulk.VectorBatch], items: int, timeout: float | None
                       ) -> Iterator[int]:
        """Apply batches of upserts in order, yielding how many items were applied as they are.

        Here, as Hector's wire has it: one pipelined ``Upsert`` per item, each
        bounded by ``timeout``. Transports that can do better override this;
        ``items`` (the total) lets them bound a whole stream.
        """
        requests = bulk.upsert_requests(collection, batches)
        for reply in bulk.pipelined(lambda request: self.submit("Upsert", request, timeout), requests):
            if not reply.success:
                raise ProviderError(self.name, "upsert_many", reply.error or "failed without saying why")
            yield 1

    def embed_batches(self, batches: Iterable[list[str]], timeout: float | None) -> Iterator[np.ndarray]:
        """The embeddings of each batch of texts, as a 2-D float32 array.

        Here, as Hector's wire has it: one pipelined ``Embed`` per text, each bounded by ``timeout``.
        """
        for texts in batches:
            requests = (sdk.EmbedRequest(text=text) for text in texts)
            replies = bulk.pipelined(lambda request: self.submit("Embed", request, timeout), requests)
            yield bulk.embedding_rows(self.name, [bulk.embedding(self.name, reply) for reply in replies], texts)

    def stop(self, timeout: float | None) -> None:
        """Stop the provider: its Shutdown, then whatever the transport needs. Stopping twice is harmless."""
        raise NotImplementedError
