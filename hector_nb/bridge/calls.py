"""Calls into plugin clients, which block, made from the bridge's event loop without blocking it.

Every client call runs in a worker thread. A unary call is awaited until the
request's deadline; a stream is read by a worker thread into a queue that the
event loop drains, so a slow provider holds a thread, never the loop. When the
HTTP client goes away (or the deadline passes), the worker stops reading and
closes the provider's stream, which cancels the call (a gRPC plugin sees its
RPC cancelled; an in-kernel provider's generator is closed) at its next chunk.

An in-kernel provider cannot be stopped from outside its thread: past the
deadline the request is answered with 504 and the thread is left to finish.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from ..host.clients import EmbedderClient
from ..plugin import sdk
from .failures import BridgeError, http_failure

Result = TypeVar("Result")

#: Worker threads per bridge: enough for Hector's concurrent requests and 16+ concurrent streams.
WORKER_THREADS = 64
#: How long a stream's batch waits, once its first chunk has arrived, for the chunks right behind it: a fast
#: stream is written in batches of tens of chunks (about half the CPU per chunk of a write each, and as much
#: faster), for at most this much added latency per chunk of a slow one.
GATHER_SECONDS = 0.0005


def embeddings_of(client: EmbedderClient, texts: list[str], timeout: float) -> list[np.ndarray]:
    """One vector per text: one ``Embed`` for one text (what Hector sends), the client's batches for more."""
    if len(texts) == 1:
        return [client.embed(texts[0], timeout)]
    return list(client.embed_many(texts, timeout)) if texts else []


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def _deadline_error(what: str, deadline: float) -> BridgeError:
    return BridgeError(504, f"{what}: no answer within {deadline:g}s (the request's deadline); the provider may "
                       "hang: check it, or serve with a longer timeout")


class Workers:
    """The threads that make the bridge's calls into clients."""

    def __init__(self, threads: int = WORKER_THREADS) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="hector-bridge")

    async def call(self, function: Callable[[], Result], what: str, seconds: float, deadline: float) -> Result:
        """``function()`` in a worker thread; its exception, or a 504 past ``seconds``, as a :class:`BridgeError`.

        ``deadline`` is the request's whole deadline, as the 504 names it.
        """
        future = asyncio.get_running_loop().run_in_executor(self._pool, function)
        try:
            return await asyncio.wait_for(future, seconds)
        except asyncio.TimeoutError:
            raise _deadline_error(what, deadline) from None
        except Exception as error:  # noqa: BLE001 - every failure of a call becomes an HTTP answer
            raise http_failure(error) from error

    def stream(self, open_stream: Callable[[], Iterator[sdk.StreamChunk]], what: str, seconds: float,
               deadline: float) -> ChunkFeed:
        """A stream read in a worker thread; see :class:`ChunkFeed`."""
        return ChunkFeed(self._pool, open_stream, what, seconds, deadline)

    def close(self) -> None:
        """Stop taking calls; threads still in a provider are left to finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)


class ChunkFeed:
    """A provider's chunks, read by a worker thread and handed to the event loop in order, in batches.

    The worker appends to a list and wakes the event loop only when it waits
    for an empty list, so a fast stream costs one wake-up per batch, not per
    chunk. ``async for batch in feed`` gives the chunks that arrived since the
    last batch, up to DONE or the end; a failure raises a :class:`BridgeError`
    after the chunks before it (an ERROR chunk: 500; the call's exception; a 504
    once ``seconds`` have passed since the feed started, ``deadline`` being the
    request's whole deadline, as the 504 names it). :meth:`cancel` stops the
    reading and closes the provider's stream.
    """

    def __init__(self, pool: ThreadPoolExecutor, open_stream: Callable[[], Iterator[sdk.StreamChunk]], what: str,
                 seconds: float, deadline: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._arrived: list[Any] = []
        self._lock = threading.Lock()
        self._waiter: asyncio.Future[bool] | None = None
        self._cancelled = threading.Event()
        self._open_stream = open_stream
        self._what, self._whole_deadline = what, deadline
        self._deadline = self._loop.time() + seconds
        self._pending: list[Any] = []
        pool.submit(self._read)

    def _put(self, item: Any) -> None:
        with self._lock:
            self._arrived.append(item)
            waiter, self._waiter = self._waiter, None
        if waiter is not None:
            try:
                self._loop.call_soon_threadsafe(_wake, waiter)
            except RuntimeError:  # the loop is closed: the bridge stopped, nobody reads any more
                self._cancelled.set()

    def _read(self) -> None:
        try:
            chunks = self._open_stream()
            try:
                for chunk in chunks:
                    if self._cancelled.is_set():
                        return
                    self._put(chunk)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
        except BaseException as error:  # noqa: BLE001 - handed to the event loop, which answers with it
            self._put(_Failed(error))
        else:
            self._put(_END)

    async def _take(self) -> list[Any]:
        """Every item that arrived since the last take, waiting (up to the deadline) for at least one."""
        while True:
            with self._lock:
                if self._arrived:
                    items, self._arrived = self._arrived, []
                    return items
                self._waiter = self._loop.create_future()
                waiter = self._waiter
            # A timer of its own rather than asyncio.wait_for, which costs several times more, once per batch.
            timer = self._loop.call_at(self._deadline, _wake, waiter, False)
            try:
                arrived = await waiter
            finally:
                timer.cancel()
            if not arrived:
                self.cancel()
                raise _deadline_error(self._what, self._whole_deadline)
            # Woken by one chunk: the ones right behind it join it in this batch, one write instead of one each.
            await asyncio.sleep(GATHER_SECONDS)

    async def start(self) -> None:
        """Wait for the first chunk, so that a failure before it is raised here, before any byte is answered."""
        self._pending = await self._take()
        first = self._pending[0]
        if isinstance(first, _Failed) or (first is not _END and first.type == sdk.CHUNK_TYPE_ERROR):
            self._batch(self._pending)

    async def __aiter__(self) -> AsyncIterator[list[sdk.StreamChunk]]:
        while True:
            items, self._pending = self._pending, []
            batch, finished = self._batch(items or await self._take())
            if batch:
                yield batch
            if finished:
                return

    def _batch(self, items: list[Any]) -> tuple[list[sdk.StreamChunk], bool]:
        """The chunks of ``items`` and whether the stream ended with them; raises at a failure, if it is the first
        item (any chunks before a failure are answered first: the failure is taken again at the next batch)."""
        batch: list[sdk.StreamChunk] = []
        for index, item in enumerate(items):
            if item is _END:
                return batch, True
            failed = isinstance(item, _Failed) or item.type == sdk.CHUNK_TYPE_ERROR
            if failed and batch:
                self._pending = items[index:]
                return batch, False
            if isinstance(item, _Failed):
                raise http_failure(item.error) from item.error
            if item.type == sdk.CHUNK_TYPE_ERROR:
                self.cancel()
                raise BridgeError(500, f"{self._what}: {item.error or 'the provider failed without saying why'}")
            batch.append(item)
            if item.type == sdk.CHUNK_TYPE_DONE:
                return batch, True
        return batch, False

    def cancel(self) -> None:
        """Stop reading; the worker closes the provider's stream at its next chunk."""
        self._cancelled.set()


def _wake(waiter: asyncio.Future[bool], arrived: bool = True) -> None:
    """End a wait: something ``arrived``, or (False) the deadline passed."""
    if not waiter.done():
        waiter.set_result(arrived)
