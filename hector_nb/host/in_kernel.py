"""The in-kernel transport: a provider's servicer called directly, no socket, no serialization.

The servicers use only ``context.abort``, ``context.is_active`` and
``context.add_callback``, so a small local context stands in for gRPC's. Each
call runs in a daemon thread, so a provider that hangs costs a thread, not the
caller: the caller gets :class:`~hector_nb.errors.PluginTimeout` at its deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from ..errors import PluginTimeout, ProviderError
from ..plugin import sdk
from ..plugin.servicers import Servicer, servicer_for
from .transport import Transport, operation_name


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
        self.provider: sdk.Provider = provider
        self.start(0.0)

    def start(self, timeout: float) -> None:
        """A fresh servicer over the same provider object: nothing to wait for."""
        self.servicer: Servicer = servicer_for(self.provider, self.name)
        self.servicer.report_failure = self.record_failure  # type: ignore[method-assign]
        self._stopped = False

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

    def stop(self, timeout: float) -> None:
        if not self._stopped:
            self._stopped = True
            self.call("Shutdown", sdk.ShutdownRequest(), timeout)
