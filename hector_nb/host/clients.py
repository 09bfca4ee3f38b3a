"""Pythonic clients for the three provider kinds, the same whatever the transport."""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from tqdm.auto import tqdm

from .. import hector, sdk
from ..errors import InvalidInput, PluginError, ProviderError, WrongPluginType
from ..manifest import PluginManifest
from ..plugin.bulk import uneven_vectors
from ..plugin.constants import Status
from . import bulk, deadlines, inputs
from .process import PluginProcess
from .rpc import DatabaseStub, EmbedderStub, LLMStub, ProviderStub, StreamMethod
from .subprocess_transport import SubprocessTransport
from .supervisor import Supervisor

#: Bulk calls smaller than this show no progress bar.
PROGRESS_THRESHOLD = 200

MessagesLike = str | Sequence[sdk.Message | Mapping[str, Any]]
ToolsLike = Sequence[sdk.ToolDefinition | Mapping[str, Any]] | None


def as_messages(prompt: MessagesLike, system: str | None = None, agent: bool = False,
                fidelity: str = hector.HECTOR) -> list[sdk.Message]:
    """The messages of a request, as a Hector agent would send them.

    A string is one ``ROLE_USER`` message, after ``system`` as a
    ``ROLE_UNSPECIFIED`` one; a sequence of messages or mappings keeps its
    order, roles translated from OpenAI's words (``assistant`` becomes
    ``ROLE_AGENT``). ``agent=True`` sends what a default Hector agent sends: its
    system prompt (or ``system``) and tool list before the prompt
    (:func:`hector_nb.hector.agent_messages`). ``fidelity="lenient"`` keeps the
    roles as given, and a string prompt and ``system`` become ``user`` and ``system``.
    """
    if agent:
        if not isinstance(prompt, str):
            raise TypeError("agent=True reproduces a Hector agent's request for one prompt; pass a string")
        return hector.agent_messages(prompt, system)
    if fidelity == hector.LENIENT:
        messages = [sdk.Message(role="system", content=system)] if system else []
        if isinstance(prompt, str):
            return [*messages, sdk.Message(role="user", content=prompt)]
        return messages + [m if isinstance(m, sdk.Message) else sdk.Message(**m) for m in prompt]
    if isinstance(prompt, str):
        return hector.conversation(prompt, system)
    return hector.conversation(system=system, history=prompt)


def as_tools(tools: ToolsLike) -> list[sdk.ToolDefinition]:
    return [t if isinstance(t, sdk.ToolDefinition) else sdk.ToolDefinition(**t) for t in tools or ()]


class PluginClient:
    """What every plugin client offers: lifecycle, status, manifest and logs."""

    #: The provider's service (each client type narrows it to its own: the plugin type decides the client).
    _stub: ProviderStub

    def __init__(self, supervisor: Supervisor, timeout: float | None, manifest: PluginManifest | None = None,
                 fidelity: str = hector.HECTOR) -> None:
        self._supervisor = supervisor
        self._transport = supervisor.transport
        self._stub = supervisor.stub
        self.timeout = timeout
        self._manifest = manifest
        #: ``"hector"`` or ``"lenient"``, see :class:`hector_nb.Session`.
        self.fidelity = hector.fidelity_mode(fidelity)

    @property
    def timeout(self) -> float | None:
        """The default deadline of this plugin's calls, in seconds; None for none (see :mod:`.deadlines`)."""
        return self._timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._timeout = deadlines.deadline(value, self.name, "timeout")

    def _deadline(self, timeout: float | None, operation: str) -> float | None:
        """A call's deadline: its own ``timeout=`` (``math.inf`` for none), else the plugin's default."""
        return self._timeout if timeout is None else deadlines.deadline(timeout, self.name, operation)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.transport} {self.status}>"

    @property
    def name(self) -> str:
        return self._transport.name

    @property
    def plugin_type(self) -> str:
        return self._transport.plugin_type

    @property
    def transport(self) -> str:
        """``subprocess``, ``in-process`` or ``in-kernel``."""
        return self._transport.kind

    @property
    def pid(self) -> int | None:
        return self._transport.pid

    @property
    def process(self) -> PluginProcess | None:
        """The plugin's process (its handshake, exit code), when it runs as a subprocess; else None."""
        return self._transport.process if isinstance(self._transport, SubprocessTransport) else None

    @property
    def status(self) -> Status:
        """The host's view, as Hector names it: loading, ready, error, crashed, shutdown, restarting."""
        return self._supervisor.status

    @property
    def provider(self) -> sdk.Provider | None:
        """The provider object behind this plugin, when it was given in Python."""
        return self._transport.provider

    @property
    def restarts(self) -> int:
        """How many times the plugin was started again, by hand or after a crash."""
        return self._supervisor.restarts

    @property
    def last_failure(self) -> BaseException | None:
        """The provider's last exception with its traceback, when it runs in this process (else None)."""
        return self._transport.last_failure

    def failed_since(self, moment: float) -> BaseException | None:
        """The provider's last exception if it was raised at or after ``moment`` (a ``time.monotonic()``)."""
        transport = self._transport
        return transport.last_failure if transport.last_failure_at >= moment else None

    @property
    def config(self) -> dict[str, str]:
        """The config of the last successful Initialize (empty before one)."""
        return self._supervisor.config or {}

    @property
    def manifest(self) -> PluginManifest:
        """The plugin's manifest: its ``.plugin.yaml``, or what the provider declares."""
        if self._manifest is None:
            reply = self._stub.GetManifest(sdk.ManifestRequest(), timeout=self._timeout)
            self._manifest = PluginManifest(
                name=reply.name, version=reply.version, type=reply.type or self.plugin_type,
                protocol=reply.protocol or sdk.PROTOCOL, author=reply.author, description=reply.description,
                hector_version=reply.hector_version, capabilities=dict(reply.capabilities))
        return self._manifest

    def _check(self, operation: str, reply: Any) -> None:
        if not reply.success:
            raise ProviderError(self.name, operation, reply.error or "failed without saying why")

    def initialize(self, config: Mapping[str, str] | None = None, timeout: float | None = None) -> None:
        """Send the provider its config (text values); replayed after a restart."""
        self._supervisor.initialize(dict(config or {}), self._deadline(timeout, "initialize"))

    def health(self, timeout: float | None = None) -> sdk.HealthResponse:
        """The provider's own health answer."""
        return self._stub.Health(sdk.HealthRequest(), timeout=self._deadline(timeout, "health"))

    def remote_status(self, timeout: float | None = None) -> str:
        """The status the plugin reports about itself (``GetStatus``)."""
        return self._stub.GetStatus(sdk.StatusRequest(), timeout=self._deadline(timeout, "get_status")).status

    def logs(self) -> list[str]:
        """What the plugin wrote (stderr, stdio, stray stdout), newest last."""
        return self._transport.log.lines()

    def shutdown(self, timeout: float | None = None) -> None:
        """Stop the plugin: its Shutdown RPC, then (for a subprocess) the process itself."""
        self._supervisor.close(self._deadline(timeout, "shutdown"))

    def restart(self, timeout: float | None = None) -> None:
        """Stop the provider and start a fresh instance with its last config, on every transport alike: a new
        process, or the provider's class made again with the arguments of the object given (its memory is gone)."""
        self._supervisor.restart(self._deadline(timeout, "restart"))

    @contextlib.contextmanager
    def _progress(self, total: int, description: str) -> Iterator[tqdm[Any]]:
        """A progress bar for a bulk call of ``total`` items (none for small ones)."""
        # disable=None: a bar in a notebook or a terminal, none where output is not a terminal (a log,
        # a pipe), where redrawn bars would run together on one line.
        show = total >= PROGRESS_THRESHOLD
        with tqdm(total=total, desc=f"{self.name}: {description}", disable=None if show else True,
                  leave=False) as bar:
            yield bar


class LLMClient(PluginClient):
    """An LLM provider: ``generate``, ``stream``, ``model_info``."""

    _stub: LLMStub

    def request(self, prompt: MessagesLike, tools: ToolsLike = None, system: str | None = None,
                agent: bool = False, tool_result: str | None = None) -> sdk.GenerateRequest:
        """The ``GenerateRequest`` that :meth:`generate` and :meth:`stream` send (see :func:`as_messages`).

        With ``agent=True`` and no ``tools``, the ten tools of a default Hector agent are offered.
        ``tool_result`` (with ``agent=True``) makes it the agent's next request, after the model
        called a tool that answered ``tool_result``: Hector adds the model's turn and the result as
        two ``ROLE_AGENT`` messages with empty content, so in ``hector`` fidelity the text is not
        sent (with a warning); ``lenient`` fidelity sends it as the last message's content.
        """
        if tool_result is not None and not agent:
            raise InvalidInput(self.name, "generate", "tool_result simulates an agent's follow-up turn; "
                               "pass agent=True too")
        with inputs.building(self.name, "generate", "the prompt, system text or tools"):
            messages = as_messages(prompt, system, agent, self.fidelity)
            if tool_result is not None:
                messages = self._after_tool_call(messages, tool_result)
            request = sdk.GenerateRequest(messages=messages)
            if agent and tools is None:
                request.tools.extend(hector.agent_tools())
            elif tools:  # an empty tools= still costs protobuf a conversion on every in-kernel call
                request.tools.extend(as_tools(tools))
            return request

    def _after_tool_call(self, messages: list[sdk.Message], tool_result: str) -> list[sdk.Message]:
        """``messages`` followed by the model's turn and the tool's result, as Hector sends them (or, lenient,
        with the result's text)."""
        if self.fidelity == hector.HECTOR and tool_result:
            hector.warn_tool_result_not_sent(self.name)
        result = tool_result if self.fidelity == hector.LENIENT else ""
        return [*messages, sdk.Message(role=hector.ROLE_AGENT, content=""),
                sdk.Message(role=hector.ROLE_AGENT, content=result)]

    def generate(self, prompt: MessagesLike, tools: ToolsLike = None, timeout: float | None = None, *,
                 system: str | None = None, agent: bool = False,
                 tool_result: str | None = None) -> sdk.GenerateResponse:
        """Answer at once: a string prompt is a ``ROLE_USER`` message (after ``system``, a
        ``ROLE_UNSPECIFIED`` one); ``agent=True`` sends a whole Hector agent request, and with
        ``tool_result`` the agent's next one, after a tool call (see :meth:`request`)."""
        request = self.request(prompt, tools, system, agent, tool_result)
        return self._stub.Generate(request, timeout=self._deadline(timeout, "generate"))

    def stream(self, prompt: MessagesLike, tools: ToolsLike = None, timeout: float | None = None, *,
               system: str | None = None, agent: bool = False,
               tool_result: str | None = None) -> Iterator[sdk.StreamChunk]:
        """The answer chunk by chunk, ending with DONE (or ERROR). Closing it cancels the call.

        Arguments as for :meth:`generate`. A ``TOOL_CALL`` chunk is passed on, with a
        warning in ``hector`` fidelity: Hector drops tool calls in streams.
        """
        request = self.request(prompt, tools, system, agent, tool_result)
        chunks = _chunks(self._stub.GenerateStreaming, request, self._deadline(timeout, "generate_streaming"))
        return chunks if self.fidelity == hector.LENIENT else _warn_on_tool_calls(self.name, chunks)

    def send(self, request: sdk.GenerateRequest, timeout: float | None = None) -> sdk.GenerateResponse:
        """``Generate`` with ``request`` exactly as given: no role translation (the bridge builds its own)."""
        return self._stub.Generate(request, timeout=self._deadline(timeout, "generate"))

    def send_streaming(self, request: sdk.GenerateRequest, timeout: float | None = None
                       ) -> Iterator[sdk.StreamChunk]:
        """``GenerateStreaming`` with ``request`` exactly as given; TOOL_CALL chunks pass without a warning.

        Closing the iterator cancels the call.
        """
        return _chunks(self._stub.GenerateStreaming, request, self.timeout if timeout is None else timeout)

    def model_info(self, timeout: float | None = None) -> sdk.ModelInfo:
        return self._stub.GetModelInfo(sdk.Empty(), timeout=self._deadline(timeout, "get_model_info"))


class DatabaseClient(PluginClient):
    """A vector database provider."""

    _stub: DatabaseStub

    def create_collection(self, collection: str, vector_size: int, timeout: float | None = None) -> None:
        request = sdk.CreateCollectionRequest(collection=collection, vector_size=int(vector_size))
        self._check("create_collection",
                    self._stub.CreateCollection(request, timeout=self._deadline(timeout, "create_collection")))

    def delete_collection(self, collection: str, timeout: float | None = None) -> None:
        request = sdk.DeleteCollectionRequest(collection=collection)
        self._check("delete_collection",
                    self._stub.DeleteCollection(request, timeout=self._deadline(timeout, "delete_collection")))

    def upsert(self, collection: str, id: str, vector: Sequence[float] | NDArray[Any],
               metadata: Mapping[str, Any] | None = None, timeout: float | None = None) -> None:
        request = self._upsert_request("upsert", collection, id, vector, metadata)
        self._check("upsert", self._stub.Upsert(request, timeout=self._deadline(timeout, "upsert")))

    def upsert_many(self, collection: str, items: Iterable[tuple[str, Any, Mapping[str, Any] | None]],
                    timeout: float | None = None) -> int:
        """Upsert ``(id, vector, metadata)`` tuples in batches; returns how many ids were written.

        In-kernel, each batch is one call of the provider's ``upsert_many`` (or
        ``upsert`` per item); an SDK plugin gets the batches over hector_nb's bulk
        service; any other plugin gets pipelined ``Upsert`` calls. ``timeout``
        bounds each batch, or each call. A repeated id is written once, with its
        last item: pipelined requests may be served in any order.
        """
        last = {inputs.item_id(self.name, "upsert_many", item[0], row): item for row, item in enumerate(items)}
        ids = list(last)
        batches = bulk.vector_batches(self.name, "upsert_many", ids, list(last.values()), self._metadata_texts)
        written = 0
        with self._progress(len(last), f"upsert into {collection}") as bar:
            try:
                for applied in self._supervisor.upsert_batches(collection, batches, len(last),
                                                               self._deadline(timeout, "upsert_many")):
                    written += applied
                    bar.update(applied)
            except PluginError as exc:
                raise _partly_written(exc, written, ids) from None
        return len(last)

    def _metadata_texts(self, id: str, metadata: Mapping[str, Any] | None) -> dict[str, str]:
        return inputs.metadata_texts(self.name, "upsert_many", id, metadata)

    def _upsert_request(self, operation: str, collection: str, id: Any, vector: Any,
                        metadata: Mapping[str, Any] | None) -> sdk.UpsertRequest:
        id = inputs.item_id(self.name, operation, id)
        floats = inputs.vector(self.name, operation, vector, f"the vector of id {id!r}")
        meta = inputs.metadata_texts(self.name, operation, id, metadata)
        with inputs.building(self.name, operation, f"the id, collection or metadata of id {id!r}"):
            return sdk.UpsertRequest(collection=collection, id=str(id), vector=floats, metadata=meta)

    def search(self, collection: str, vector: Sequence[float] | NDArray[Any], top_k: int = 5,
               timeout: float | None = None, *,
               threshold: float = hector.SEARCH_THRESHOLD) -> list[sdk.SearchResult]:
        """The ``top_k`` nearest entries, best first, all of them.

        In ``hector`` fidelity, hits scoring below ``threshold`` (Hector's
        ``search.threshold``, 0.5 by default; 0 for none) bring a one-line warning,
        once per database: Hector's document store would drop them.
        """
        name = self.name
        query = inputs.row(name, "search", vector, "the query vector")
        with inputs.building(name, "search", "the collection name"):
            request = sdk.SearchRequest(collection=collection, top_k=inputs.top_k(name, top_k))
        results = self._supervisor.search(request, query, self._deadline(timeout, "search"))
        if self.fidelity == hector.HECTOR:
            hector.warn_below_threshold(name, results, threshold)
        return results

    def delete(self, collection: str, id: str, timeout: float | None = None) -> None:
        request = sdk.DeleteRequest(collection=collection, id=id)
        self._check("delete", self._stub.Delete(request, timeout=self._deadline(timeout, "delete")))


class EmbedderClient(PluginClient):
    """An embedder provider: text in, numpy vectors out."""

    _stub: EmbedderStub

    def embed(self, text: str, timeout: float | None = None) -> NDArray[np.float32]:
        request = self._embed_request("embed", text, "the text")
        return self._vector(self._stub.Embed(request, timeout=self._deadline(timeout, "embed")))

    def embed_many(self, texts: Iterable[str], timeout: float | None = None) -> NDArray[np.float32]:
        """Embeddings of many texts as one 2-D float32 array, in batches.

        In-kernel, each batch is one call of the provider's ``embed_many`` (or
        ``embed`` per text); an SDK plugin gets the batches over hector_nb's bulk
        service; any other plugin gets pipelined ``Embed`` calls.
        """
        texts = [self._embed_request("embed_many", text, f"text {index}").text for index, text in enumerate(texts)]
        rows: list[NDArray[np.float32]] = []
        done = 0
        with self._progress(len(texts), "embed") as bar:
            for batch in self._supervisor.embed_batches(bulk.text_batches(texts),
                                                        self._deadline(timeout, "embed_many")):
                if rows and batch.shape[1] != rows[0].shape[1]:  # batches of different dimensions
                    raise ProviderError(self.name, "embed_many", uneven_vectors(
                        [texts[0], texts[done]], [rows[0][0], batch[0]]))
                rows.append(batch)
                done += len(batch)
                bar.update(len(batch))
        return np.vstack(rows) if rows else np.empty((0, 0), dtype=np.float32)

    def info(self, timeout: float | None = None) -> sdk.EmbedderInfo:
        return self._stub.GetEmbedderInfo(sdk.Empty(), timeout=self._deadline(timeout, "get_embedder_info"))

    def _embed_request(self, operation: str, text: Any, what: str) -> sdk.EmbedRequest:
        if not isinstance(text, str):
            raise InvalidInput(self.name, operation, f"{what} is {type(text).__name__} {text!r:.40}, not text; "
                               "embed strings (drop or fill missing values first)")
        with inputs.building(self.name, operation, what):
            return sdk.EmbedRequest(text=text)

    def _vector(self, reply: sdk.EmbedResponse) -> NDArray[np.float32]:
        if reply.error:
            raise ProviderError(self.name, "embed", reply.error)
        return np.asarray(reply.vector, dtype=np.float32)


def _chunks(method: StreamMethod[sdk.GenerateRequest, sdk.StreamChunk], request: sdk.GenerateRequest,
            timeout: float | None) -> Generator[sdk.StreamChunk, None, None]:
    """A stream's chunks, the call started at the first; closing this generator (or dropping it) cancels it."""
    stream = method(request, timeout=timeout)
    try:
        yield from stream
    finally:
        stream.cancel()


def _warn_on_tool_calls(plugin: str, chunks: Generator[sdk.StreamChunk, None, None]
                        ) -> Generator[sdk.StreamChunk, None, None]:
    """``chunks`` unchanged, with :func:`hector_nb.hector.warn_stream_tool_call` at the first TOOL_CALL.

    Closing this generator closes ``chunks``, which cancels the call.
    """
    try:
        for chunk in chunks:
            if chunk.type == sdk.CHUNK_TYPE_TOOL_CALL:
                hector.warn_stream_tool_call(plugin)
            yield chunk
    finally:
        chunks.close()


def _partly_written(error: PluginError, written: int, ids: list[str]) -> PluginError:
    """``error``, saying how far a bulk upsert got: the items before the first unconfirmed id were written."""
    if written < len(ids):
        note = (f" ({written} of {len(ids)} items were written, in order; the first not confirmed is id "
                f"{ids[written]!r}: upsert from there again)")
        error.message += note
        error.args = (str(error) + note,)
    error.written = written  # type: ignore[attr-defined]
    return error


ClientType = TypeVar("ClientType", bound=PluginClient)


def expect(client: PluginClient, kind: type[ClientType], operation: str = "get") -> ClientType:
    """``client`` as the client type ``kind`` (e.g. :class:`LLMClient`), or :class:`WrongPluginType`."""
    if not isinstance(client, kind):
        raise WrongPluginType.mismatch(client.name, operation, client.plugin_type, plugin_type_of(kind))
    return client


def plugin_type_of(kind: type[PluginClient]) -> str:
    """The plugin type a client type serves: ``LLMClient`` -> ``llm_provider``."""
    return next(plugin_type for plugin_type, client in CLIENTS.items() if issubclass(kind, client))


CLIENTS: dict[str, type[PluginClient]] = {
    sdk.PLUGIN_TYPE_LLM: LLMClient,
    sdk.PLUGIN_TYPE_DATABASE: DatabaseClient,
    sdk.PLUGIN_TYPE_EMBEDDER: EmbedderClient,
}
