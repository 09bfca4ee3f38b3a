"""One HTTP request's bookkeeping: what it asked, how it ended, in the log; failures in the API's own shape."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response

from ..plugin import sdk
from .calls import ChunkFeed
from .context import BridgeContext
from .failures import BridgeError, http_failure
from .translate import Conversation

Result = TypeVar("Result")
#: The least time given to a call (seconds), once the deadline has all but passed.
LAST_MOMENT = 0.001
#: The status logged for a stream the client left before its end (nginx's word for it).
CLIENT_WENT_AWAY = 499


@dataclass
class Exchange:
    """What one request asked, filled in as it is read; :meth:`finish` logs it once."""

    context: BridgeContext
    api: str
    operation: str
    model: str = ""
    roles: list[str] = field(default_factory=list)
    messages: int = 0
    tools: int = 0
    stream: bool = False
    detail: str = ""
    started: float = field(default_factory=time.perf_counter)
    finished: bool = False

    def asked(self, conversation: Conversation) -> None:
        """Note the conversation the request carries."""
        self.roles, self.messages, self.tools = conversation.roles, len(conversation.messages), len(conversation.tools)

    @property
    def elapsed(self) -> float:
        """Seconds since the request arrived."""
        return time.perf_counter() - self.started

    @property
    def seconds_left(self) -> float:
        """What remains of the request's deadline (``math.inf``: none), never quite 0: a client refuses a zero
        timeout, and the bridge's own wait ends the request with its 504 then."""
        return max(LAST_MOMENT, self.context.deadline - self.elapsed)

    async def call(self, function: Callable[[], Result], what: str) -> Result:
        """``function()`` in a worker thread, bounded by what is left of the request's deadline."""
        return await self.context.workers.call(function, what, self.seconds_left, self.context.deadline)

    async def open_stream(self, open_stream: Callable[[], Iterator[sdk.StreamChunk]], what: str) -> ChunkFeed:
        """A provider's stream read in a worker thread, started: a failure before its first chunk is raised here."""
        feed = self.context.workers.stream(open_stream, what, self.seconds_left, self.context.deadline)
        await feed.start()
        return feed

    def finish(self, status: int, detail: str = "") -> None:
        if self.finished:
            return
        self.finished = True
        self.context.log.record(self.api, self.model, self.operation, status,
                                self.elapsed * 1000, roles=self.roles,
                                messages=self.messages, tools=self.tools, stream=self.stream,
                                detail=detail or self.detail)


Handler = Callable[[Request, Exchange], Awaitable[Response]]


def endpoint(context: BridgeContext, api: str, operation: str, error_response: Callable[[int, str], Response],
             handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """``handler(request, exchange)`` as a route: its failures answered by ``error_response``, and logged.

    A streamed answer logs itself when its stream ends; any other answer is logged here.
    """

    async def route(request: Request) -> Response:
        exchange = Exchange(context, api, operation)
        try:
            response = await handler(request, exchange)
        except Exception as error:  # noqa: BLE001 - whatever failed, the client gets an answer in its API's shape
            failure = http_failure(error)
            exchange.finish(failure.status, failure.message)
            return error_response(failure.status, failure.message)
        if not exchange.stream:
            exchange.finish(response.status_code)
        return response

    return route


def require(condition: bool, status: int, message: str) -> None:
    """A :class:`BridgeError` unless ``condition``."""
    if not condition:
        raise BridgeError(status, message)
