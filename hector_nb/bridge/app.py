"""The bridge's ASGI application: the API routes behind the bearer-key check and the request-size bound."""

from __future__ import annotations

import importlib.util
import secrets
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import ollama, openai_api
from .context import BridgeContext
from .failures import BridgeError

#: Each API answers errors in its own shape; the first prefix that matches the path chooses.
ERROR_SHAPES: list[tuple[str, Callable[[int, str], Response]]] = [
    ("/v1/", openai_api.error_response),
    ("/", ollama.error_response),
]


def error_response(path: str, status: int, message: str) -> Response:
    """An error answer in the shape of the API that ``path`` belongs to."""
    shape = next(shape for prefix, shape in ERROR_SHAPES if path.startswith(prefix))
    return shape(status, message)


def make_app(context: BridgeContext) -> Starlette:
    """The Ollama and OpenAI APIs (and the vector-store dialect, when present) over ``context``'s session."""
    routes: list[BaseRoute] = [*ollama.routes(context), *openai_api.routes(context)]
    # Hector's vector-store HTTP dialect (a module of its own, another issue) mounts here when it exists.
    if importlib.util.find_spec(f"{__package__}.vectorstore") is not None:
        vectorstore = importlib.import_module(f"{__package__}.vectorstore")
        routes += vectorstore.routes(context)
    return Starlette(routes=routes, middleware=[Middleware(RequestGuard, context=context)],
                     exception_handlers={HTTPException: _http_exception})


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # registered for HTTPException only
    if exc.status_code == 404:
        message = (f"no route {request.url.path}; this server speaks the Ollama API (/api/...), OpenAI's "
                   "(/v1/...) and Hector's vector store (/api/v1/...)")
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = exc.detail
    return error_response(request.url.path, exc.status_code, message)


class RequestGuard:
    """Refuses a request without the bearer key (401) or with a body past the size bound (413).

    The size is checked against ``Content-Length`` before anything is read, and
    counted while a body without one arrives.
    """

    def __init__(self, app: ASGIApp, context: BridgeContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, headers, limit = scope["path"], Headers(scope=scope), self.context.max_request_bytes
        if self.context.api_key is not None and not _authorized(headers.get("authorization", ""),
                                                                 self.context.api_key):
            message = "missing or wrong API key: send the header 'Authorization: Bearer KEY' with the bridge's key"
            await error_response(path, 401, message)(scope, receive, send)
            return
        too_large = f"the request body is larger than this bridge accepts ({limit} bytes)"
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await error_response(path, 413, too_large)(scope, receive, send)
            return
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BridgeError(413, too_large)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, watched_send)
        except BridgeError as failure:  # the size bound, hit while a route that is not an endpoint read the body
            if started:
                raise
            await error_response(path, failure.status, failure.message)(scope, receive, send)


def _authorized(header: str, key: str) -> bool:
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(), key.encode())
