"""Provider objects behind Hector's gRPC services, with Hector's error semantics.

The rules (docs/protocol.md, "How errors travel"):

- lifecycle and write RPCs never fail at the gRPC level: a provider error is
  ``success=false, error=...`` (Health: ``healthy=false, message=...``);
- ``Search`` and ``Embed`` carry a provider error in their ``error`` field;
- ``Generate``, ``GetModelInfo`` and ``GetEmbedderInfo`` fail with status
  UNKNOWN whose details are the provider's error text;
- ``GenerateStreaming`` ends with exactly one DONE chunk, or one ERROR chunk
  when the provider fails.

Servicer methods use only ``context.abort``, ``context.is_active`` and
``context.add_callback``, so the in-kernel transport can call them directly
with a small context of its own, without serializing anything.

Like everything in ``hector_nb.plugin``, this module imports nothing beyond the
standard library, grpc, protobuf and its own subpackage: exported plugins carry
the subpackage as their runtime.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import math
import numbers
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from itertools import repeat
from types import GeneratorType, MappingProxyType
from typing import Any, Generic, NoReturn, Protocol, TypeVar

import grpc

from . import sdk
from .constants import Status

#: An error's text, as gRPC percent-encodes it in a status trailer (Generate's errors travel there), is cut
#: to this many bytes: gRPC refuses a trailer over 8 KB, and a person reads the start anyway.
MAX_ERROR_BYTES = 4096


def error_text(exc: BaseException) -> str:
    """How a provider's exception reads on the wire: ``ValueError: bad prompt``, cut to :data:`MAX_ERROR_BYTES`."""
    message = str(exc)
    return bounded_error(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)


def bounded_error(text: str) -> str:
    """``text``, or its start with a note of how much was cut, so that it fits :data:`MAX_ERROR_BYTES` once
    percent-encoded as in a gRPC status (printable ASCII as itself, any other byte as ``%XX``)."""
    if len(text) * 12 <= MAX_ERROR_BYTES:  # even four-byte characters, each encoded, fit
        return text
    budget = MAX_ERROR_BYTES - 64  # room for the note
    for index, char in enumerate(text):
        budget -= 1 if " " <= char <= "~" and char != "%" else 3 * len(char.encode("utf-8", "surrogatepass"))
        if budget < 0:
            return f"{text[:index]} ... [error cut: {len(text) - index} more characters]"
    return text


def report_to_stderr(plugin: str, operation: str, exc: BaseException) -> None:
    """Write a provider's traceback to stderr: in a plugin process that is the host's log (and Hector's)."""
    sys.stderr.write(f"plugin {plugin!r}, {operation} raised:\n" + "".join(traceback.format_exception(exc)))
    sys.stderr.flush()


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


ReturnedT = TypeVar("ReturnedT")


def returned(method: str, value: Any, expected: type[ReturnedT], what: str) -> ReturnedT:
    """``value`` if a provider's ``method`` returned the right type; otherwise a TypeError saying what to return.

    Checked before anything is serialized, so every transport reports the same
    error (in-kernel calls never serialize; gRPC would fail with "Failed to
    serialize response").
    """
    if not isinstance(value, expected):
        raise TypeError(f"{method} returned {_shown(value)}; it must return {what}")
    return value


def returned_vector(method: str, value: Any) -> list[float]:
    """A provider's vector (list, tuple or numpy array of numbers) as a list of floats, or a TypeError."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(x, numbers.Real) and not isinstance(x, bool) for x in value):
        raise TypeError(f"{method} returned {_shown(value)}; it must return a list (or numpy array) of numbers")
    return list(value)


#: What an async provider method calling another one through a client gets, at once, instead of a deadlock.
NESTED_ASYNC_CALL = (
    "an async provider method called another async provider (through a client, in-kernel) from inside "
    "hector_nb's event loop, where every async method runs: waiting there would block the loop for good. "
    "Await the other provider's method directly (await client.provider.generate(...)), or run the other "
    "plugin as a subprocess")
#: How long the loop may take to answer after an interrupt before it is given up as blocked.
LOOP_ANSWER_SECONDS = 1.0


class _EventLoop:
    """One asyncio loop in a daemon thread, where every ``async def`` provider method runs."""

    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None:
                loop = asyncio.new_event_loop()
                cls._thread = threading.Thread(target=_run_until_stopped, args=(loop,), name="hector-provider-loop",
                                               daemon=True)
                cls._thread.start()
                cls._loop = loop
            return cls._loop

    @classmethod
    def submit(cls, awaitable: Any) -> Future[Any]:
        if threading.current_thread() is cls._thread:
            if inspect.iscoroutine(awaitable):
                awaitable.close()  # never awaited: say so here rather than in a RuntimeWarning
            raise RuntimeError(NESTED_ASYNC_CALL)

        async def run() -> Any:
            return await awaitable

        return asyncio.run_coroutine_threadsafe(run(), cls.get())

    @classmethod
    def give_up_if_blocked(cls) -> None:
        """After an interrupt: when the loop does not answer (a provider blocks it with synchronous code),
        later async calls get a new loop; the old one stops once whatever blocks it returns."""
        with cls._lock:
            loop = cls._loop
            if loop is None:
                return
            answered = threading.Event()
            loop.call_soon_threadsafe(answered.set)
            if answered.wait(LOOP_ANSWER_SECONDS):
                return
            cls._loop = cls._thread = None
            loop.call_soon_threadsafe(loop.stop)


def _run_until_stopped(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_forever()
    loop.close()


def resolve(value: Any) -> Any:
    """The value itself, or what it resolves to when a provider method was ``async``."""
    # inspect.isawaitable's ABC check costs more than a whole in-kernel call's bookkeeping: an awaitable's
    # type has __await__, or it is a generator-based coroutine, which only isawaitable tells apart.
    if hasattr(type(value), "__await__") or (type(value) is GeneratorType and inspect.isawaitable(value)):
        return _outcome_of(lambda: _EventLoop.submit(value))
    return value


def _outcome_of(submit: Callable[[], Future[Any]]) -> Any:
    """The result of the future ``submit`` returns. When the wait is interrupted (the kernel's interrupt), the
    coroutine is cancelled, and a loop left blocked is replaced, so other async providers keep working."""
    future = None
    try:
        future = submit()
        return future.result()
    except BaseException as exc:
        if future is not None:
            future.cancel()
        if not isinstance(exc, Exception):
            _EventLoop.give_up_if_blocked()
        raise


class ChunkStream(Iterator[sdk.StreamChunk]):
    """The chunks of one ``GenerateStreaming`` call, as Hector expects them.

    Turns what the provider yields (``str`` or ``StreamChunk``, from a generator
    or an async generator) into wire chunks, turns an exception into one ERROR
    chunk, adds the final DONE chunk when the provider does not send one, and
    closes the provider's generator (or cancels its pending step) on
    :meth:`close`, which may come from any thread.
    """

    def __init__(self, produce: Callable[[], Any],
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self._produce = produce
        self._on_error = on_error
        self._source: Any = None
        self._lock = threading.Lock()
        self._busy = False
        self._closed = False
        self._finished = False
        self._pending: Future[Any] | None = None
        self._text_chunks = 0
        self._tokens_reported = 0

    def __iter__(self) -> ChunkStream:
        return self

    def __next__(self) -> sdk.StreamChunk:
        with self._lock:
            if self._closed or self._finished:
                raise StopIteration
            self._busy = True
        try:
            chunk = self._next_chunk()
        finally:
            with self._lock:
                self._busy = False
                closed = self._closed
        if closed:
            self._close_source()
            raise StopIteration
        if self._finished:
            self._close_source()
        return chunk

    def close(self) -> None:
        """Stop the stream: the provider's generator is closed, its pending step cancelled."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            busy, pending = self._busy, self._pending
        if busy:
            # The serving thread is inside the provider; it closes the source when it returns.
            if pending is not None:
                pending.cancel()
        else:
            self._close_source()

    def _close_source(self) -> None:
        source, self._source = self._source, None
        if source is None:
            return
        if hasattr(source, "aclose"):
            try:
                _EventLoop.submit(source.aclose()).result(timeout=5)
            except Exception:  # noqa: BLE001 - a provider failing while closing changes nothing for the caller
                pass
        elif hasattr(source, "close"):
            try:
                source.close()
            except Exception:  # noqa: BLE001
                pass

    def _pull(self) -> Any:
        if self._source is None:
            produced = resolve(self._produce())
            if isinstance(produced, str):
                produced = [produced]
            self._source = produced if hasattr(produced, "__anext__") else iter(produced)
        if hasattr(self._source, "__anext__"):
            source = self._source

            def step() -> Future[Any]:
                future = _EventLoop.submit(source.__anext__())
                with self._lock:
                    self._pending = future
                return future

            try:
                return _outcome_of(step)
            finally:
                with self._lock:
                    self._pending = None
        return next(self._source)

    def _next_chunk(self) -> sdk.StreamChunk:
        try:
            item = self._pull()
        except (StopIteration, StopAsyncIteration):
            self._finished = True
            return sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=self._tokens())
        except BaseException as exc:  # noqa: BLE001 - any provider failure becomes an ERROR chunk
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            self._finished = True
            if self._on_error is not None:
                self._on_error(exc)
            return sdk.StreamChunk(type=sdk.CHUNK_TYPE_ERROR, error=error_text(exc))
        if isinstance(item, str):
            self._text_chunks += 1
            return sdk.StreamChunk(type=sdk.CHUNK_TYPE_TEXT, text=item)
        if not isinstance(item, sdk.StreamChunk):
            self._finished = True
            return sdk.StreamChunk(
                type=sdk.CHUNK_TYPE_ERROR,
                error=f"generate_streaming yielded a {type(item).__name__}; yield str or StreamChunk",
            )
        self._tokens_reported = max(self._tokens_reported, item.tokens_used)
        if item.type == sdk.CHUNK_TYPE_TEXT:
            self._text_chunks += 1
        elif item.type == sdk.CHUNK_TYPE_DONE:
            self._finished = True
            if not item.tokens_used:
                item = sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=self._tokens())
        elif item.type == sdk.CHUNK_TYPE_ERROR:
            self._finished = True
        return item

    def _tokens(self) -> int:
        # Providers that never report usage get one token per TEXT chunk, as most LLM streams send.
        return self._tokens_reported or self._text_chunks


class AbortingContext(Protocol):
    """What ``_unary_or_abort`` needs of a context: gRPC's, or the in-kernel transport's."""

    def abort(self, code: grpc.StatusCode, details: str) -> NoReturn:
        """End the call with ``code``; never returns."""


ProviderT = TypeVar("ProviderT", bound=sdk.Provider)
ResultT = TypeVar("ResultT")
CheckedT = TypeVar("CheckedT")
OutcomeT = TypeVar("OutcomeT")


class _Lifecycle(Generic[ProviderT]):
    """The five RPCs every provider service shares, and the provider's status."""

    def __init__(self, provider: ProviderT, plugin_name: str | None = None) -> None:
        self.provider: ProviderT = provider
        self.plugin_name = plugin_name or sdk.plugin_name(provider)
        self.status: Status = Status.LOADING

    def report_failure(self, operation: str, exc: BaseException) -> None:
        """Called whenever the provider raises, with its exception; the host may replace it.

        The caller gets the one-line error the contract prescribes; the traceback
        (the frames in the provider's own code) goes here, to stderr by default.
        """
        report_to_stderr(self.plugin_name, operation, exc)

    def _invoke(self, method: Callable[..., ResultT], *args: Any) -> ResultT:
        """The provider's bound ``method`` called with ``args`` (awaited when async); a failure is reported
        under the method's name, then raised."""
        try:
            result: ResultT = resolve(method(*args))
            return result
        except Exception as exc:
            self.report_failure(method.__name__, exc)
            raise

    def _invoke_checked(self, method: Callable[..., Any], check: Callable[[Any], CheckedT], *args: Any) -> CheckedT:
        """The provider's answer through ``check`` (its type checked); a wrong type is reported as a failure."""
        result = self._invoke(method, *args)
        try:
            return check(result)
        except Exception as exc:
            self.report_failure(method.__name__, exc)
            raise

    def _unary_or_abort(self, context: AbortingContext, method: Callable[..., Any], check: Callable[[Any], CheckedT],
                        *args: Any) -> CheckedT:
        # _invoke_checked's work in one frame: this is every in-kernel generate's path.
        try:
            return check(resolve(method(*args)))
        except Exception as exc:  # noqa: BLE001 - reported as the contract says, below
            self.report_failure(method.__name__, exc)
            failure = error_text(exc)
        context.abort(grpc.StatusCode.UNKNOWN, failure)

    def _outcome(self, response_type: Callable[..., OutcomeT], method: Callable[..., Any], *args: Any) -> OutcomeT:
        try:
            self._invoke(method, *args)
        except Exception as exc:  # noqa: BLE001 - provider errors travel in the response
            return response_type(success=False, error=error_text(exc))
        return response_type(success=True)

    def Initialize(self, request: sdk.InitializeRequest, context: Any) -> sdk.InitializeResponse:
        config = {**dict(type(self.provider).config_defaults), **dict(request.config)}
        self.provider.config = MappingProxyType(config)
        response = self._outcome(sdk.InitializeResponse, self.provider.initialize, config)
        self.status = Status.READY if response.success else Status.ERROR
        return response

    def Shutdown(self, request: sdk.ShutdownRequest, context: Any) -> sdk.ShutdownResponse:
        response = self._outcome(sdk.ShutdownResponse, self.provider.shutdown)
        self.status = Status.SHUTDOWN
        return response

    def Health(self, request: sdk.HealthRequest, context: Any) -> sdk.HealthResponse:
        try:
            result = self._invoke(self.provider.health)
        except Exception as exc:  # noqa: BLE001
            return sdk.HealthResponse(healthy=False, message=error_text(exc))
        if isinstance(result, tuple):
            healthy, message = result
            return sdk.HealthResponse(healthy=bool(healthy), message=str(message))
        healthy = result is None or bool(result)
        return sdk.HealthResponse(healthy=healthy, message="ok" if healthy else "unhealthy")

    def GetManifest(self, request: sdk.ManifestRequest, context: Any) -> sdk.ManifestResponse:
        manifest = sdk.manifest_of(self.provider)
        manifest.name = self.plugin_name
        return manifest

    def GetStatus(self, request: sdk.StatusRequest, context: Any) -> sdk.StatusResponse:
        return sdk.StatusResponse(status=self.status.value)


class LLMServicer(_Lifecycle[sdk.LLMProvider]):
    """``hector.plugin.LLMProvider`` over an :class:`~hector_nb.sdk.LLMProvider`."""

    def Generate(self, request: sdk.GenerateRequest, context: Any) -> sdk.GenerateResponse:
        return self._unary_or_abort(context, self.provider.generate, _generate_response, list(request.messages),
                                    list(request.tools))

    def GenerateStreaming(self, request: sdk.GenerateRequest, context: Any) -> ChunkStream:
        messages, tools = list(request.messages), list(request.tools)
        stream = ChunkStream(lambda: self.provider.generate_streaming(messages, tools),
                             lambda exc: self.report_failure("generate_streaming", exc))
        context.add_callback(stream.close)
        return stream

    def GetModelInfo(self, request: sdk.Empty, context: Any) -> sdk.ModelInfo:
        return self._unary_or_abort(context, self.provider.get_model_info, lambda info: returned(
            "get_model_info", info, sdk.ModelInfo, "sdk.ModelInfo"))


def _generate_response(result: Any) -> sdk.GenerateResponse:
    if isinstance(result, str):
        return sdk.GenerateResponse(text=result)
    return returned("generate", result, sdk.GenerateResponse, "a str or sdk.GenerateResponse")


#: Refused for every provider: stored, such a vector makes every later search score NaN.
_NOT_FINITE = "vector holds NaN or infinite values; fix or drop it"


def _finite(vector: Sequence[float]) -> bool:
    return all(map(math.isfinite, vector))


def _search_results(found: Any) -> list[sdk.SearchResult]:
    if type(found) is list and all(map(isinstance, found, repeat(sdk.SearchResult))):  # the usual answer, at C speed
        return found
    if isinstance(found, (str, bytes, Mapping, sdk.SearchResult)) or not hasattr(found, "__iter__"):
        raise TypeError(f"search returned {_shown(found)}; it must return a list of sdk.SearchResult (or dicts)")
    return [_search_result(item) for item in found]


def _search_result(item: Any) -> sdk.SearchResult:
    if isinstance(item, sdk.SearchResult):
        return item
    # An isinstance check against the ABC, as intended: any mapping of SearchResult's fields will do.
    returned("search", item, Mapping, "a list of sdk.SearchResult (or dicts of its fields)")  # type: ignore[type-abstract]
    fields = dict(item)
    if "vector" in fields and hasattr(fields["vector"], "tolist"):
        fields["vector"] = fields["vector"].tolist()
    if "metadata" in fields:
        fields["metadata"] = {str(k): str(v) for k, v in fields["metadata"].items()}
    return sdk.SearchResult(**fields)


class DatabaseServicer(_Lifecycle[sdk.DatabaseProvider]):
    """``hector.plugin.DatabaseProvider`` over a :class:`~hector_nb.sdk.DatabaseProvider`."""

    def Upsert(self, request: sdk.UpsertRequest, context: Any) -> sdk.UpsertResponse:
        if not _finite(request.vector):
            return sdk.UpsertResponse(success=False, error=f"ValueError: {_NOT_FINITE}")
        return self._outcome(
            sdk.UpsertResponse, self.provider.upsert, request.collection, request.id, list(request.vector),
            dict(request.metadata),
        )

    def Search(self, request: sdk.SearchRequest, context: Any) -> sdk.SearchResponse:
        if not _finite(request.vector):
            return sdk.SearchResponse(error=f"ValueError: the query {_NOT_FINITE}")
        found, error = self.search_hits(request.collection, list(request.vector), request.top_k)
        return sdk.SearchResponse(error=error) if error else sdk.SearchResponse(results=found)

    def search_hits(self, collection: str, vector: Any, top_k: int) -> tuple[list[sdk.SearchResult], str]:
        """The provider's hits, checked, and its error text (empty on success): ``Search`` without the messages.

        Not an RPC of Hector's: ``Search`` calls it with the request's list of floats, the in-kernel
        transport with the float32 array its client checked (and keeps the hits as they are). The
        array reaches the provider as a list unless it declares ``array_queries``.
        """
        if not self.provider.array_queries and hasattr(vector, "tolist"):
            vector = vector.tolist()
        # _invoke_checked's work in one frame: this is every in-kernel search's path.
        try:
            return _search_results(resolve(self.provider.search(collection, vector, top_k))), ""
        except Exception as exc:  # noqa: BLE001 - Search reports provider errors in its error field
            self.report_failure("search", exc)
            return [], error_text(exc)

    def Delete(self, request: sdk.DeleteRequest, context: Any) -> sdk.DeleteResponse:
        return self._outcome(sdk.DeleteResponse, self.provider.delete, request.collection, request.id)

    def CreateCollection(
        self, request: sdk.CreateCollectionRequest, context: Any
    ) -> sdk.CreateCollectionResponse:
        return self._outcome(
            sdk.CreateCollectionResponse, self.provider.create_collection, request.collection, request.vector_size
        )

    def DeleteCollection(
        self, request: sdk.DeleteCollectionRequest, context: Any
    ) -> sdk.DeleteCollectionResponse:
        return self._outcome(sdk.DeleteCollectionResponse, self.provider.delete_collection, request.collection)

    def upsert_batch(self, collection: str, ids: list[str], vectors: Any, metadata: Sequence[dict[str, str]]) -> str:
        """Many upserts in order: one ``upsert_many`` call when the provider has it, else ``upsert`` per item.

        Not an RPC of Hector's: the in-kernel transport and hector_nb's bulk
        service call it. Returns the provider's error text, empty on success.
        """
        try:
            if type(self.provider).upsert_many is not sdk.DatabaseProvider.upsert_many:
                self._invoke(self.provider.upsert_many, collection, ids, vectors, list(metadata))
                return ""
            rows = vectors.tolist() if hasattr(vectors, "tolist") else vectors  # lists, as Upsert passes them
            for id, row, meta in zip(ids, rows, metadata, strict=True):
                self._invoke(self.provider.upsert, collection, id, row, meta)
        except Exception as exc:  # noqa: BLE001 - reported in the answer, as Upsert does
            return error_text(exc)
        return ""


class EmbedderServicer(_Lifecycle[sdk.EmbedderProvider]):
    """``hector.plugin.EmbedderProvider`` over an :class:`~hector_nb.sdk.EmbedderProvider`."""

    def Embed(self, request: sdk.EmbedRequest, context: Any) -> sdk.EmbedResponse:
        try:
            vector = self._invoke_checked(self.provider.embed, lambda value: returned_vector("embed", value),
                                          request.text)
            return sdk.EmbedResponse(vector=vector)
        except Exception as exc:  # noqa: BLE001 - Embed reports provider errors in its error field
            return sdk.EmbedResponse(error=error_text(exc))

    def embed_batch(self, texts: list[str]) -> tuple[Any, str]:
        """Many embeddings: one ``embed_many`` call when the provider has it, else ``embed`` per text.

        Not an RPC of Hector's: the in-kernel transport and hector_nb's bulk
        service call it. Returns ``(rows, "")``, or ``(None, error text)``.
        """
        try:
            if type(self.provider).embed_many is not sdk.EmbedderProvider.embed_many:
                return self._invoke(self.provider.embed_many, texts), ""
            return [self._invoke(self.provider.embed, text) for text in texts], ""
        except Exception as exc:  # noqa: BLE001 - reported in the answer, as Embed does
            return None, error_text(exc)

    def GetEmbedderInfo(self, request: sdk.Empty, context: Any) -> sdk.EmbedderInfo:
        return self._unary_or_abort(context, self.provider.get_embedder_info, lambda info: returned(
            "get_embedder_info", info, sdk.EmbedderInfo, "sdk.EmbedderInfo"))


Servicer = LLMServicer | DatabaseServicer | EmbedderServicer

#: Per plugin type: the servicer class, and the generated module and function that register it. The module
#: is imported when a server is built, so a plugin process imports only its own type's stubs.
_SERVICERS: dict[str, tuple[Callable[[Any, str | None], Servicer], str, str]] = {
    sdk.PLUGIN_TYPE_LLM: (LLMServicer, "llm_pb2_grpc", "add_LLMProviderServicer_to_server"),
    sdk.PLUGIN_TYPE_DATABASE: (DatabaseServicer, "database_pb2_grpc", "add_DatabaseProviderServicer_to_server"),
    sdk.PLUGIN_TYPE_EMBEDDER: (EmbedderServicer, "embedder_pb2_grpc", "add_EmbedderProviderServicer_to_server"),
}


def servicer_for(provider: sdk.Provider, plugin_name: str | None = None) -> Servicer:
    """The servicer for a provider, chosen by its ``plugin_type``."""
    try:
        servicer_type, _, _ = _SERVICERS[provider.plugin_type]
    except (KeyError, AttributeError):
        raise TypeError(
            f"{type(provider).__name__} is not a provider: subclass hector_nb.sdk.LLMProvider, "
            "DatabaseProvider or EmbedderProvider"
        ) from None
    return servicer_type(provider, plugin_name)


def add_to_server(server: grpc.Server, servicer: Servicer) -> None:
    """Register a servicer on a gRPC server under its ``hector.plugin`` service name."""
    _, module, register = _SERVICERS[servicer.provider.plugin_type]
    getattr(importlib.import_module(f"._wire.{module}", __package__), register)(servicer, server)
