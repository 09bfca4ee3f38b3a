"""Pythonic clients for the three provider kinds, the same whatever the transport."""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .. import sdk
from ..errors import ProviderError
from ..manifest import PluginManifest
from .transport import Transport

#: How many bulk requests may be on the wire at once.
MAX_IN_FLIGHT = 64
#: Bulk calls smaller than this show no progress bar.
PROGRESS_THRESHOLD = 200

MessagesLike = str | Sequence[sdk.Message | Mapping[str, Any]]
ToolsLike = Sequence[sdk.ToolDefinition | Mapping[str, Any]] | None


def as_messages(prompt: MessagesLike) -> list[sdk.Message]:
    """A plain string is one user message; mappings become :class:`Message` objects."""
    if isinstance(prompt, str):
        return [sdk.Message(role="user", content=prompt)]
    return [m if isinstance(m, sdk.Message) else sdk.Message(**m) for m in prompt]


def as_tools(tools: ToolsLike) -> list[sdk.ToolDefinition]:
    return [t if isinstance(t, sdk.ToolDefinition) else sdk.ToolDefinition(**t) for t in tools or ()]


class PluginClient:
    """What every plugin client offers: lifecycle, status, manifest and logs."""

    def __init__(self, transport: Transport, timeout: float, manifest: PluginManifest | None = None) -> None:
        self._transport = transport
        self.timeout = timeout
        self._manifest = manifest

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
    def status(self) -> str:
        """The host's view, as Hector names it: loading, ready, error, crashed, shutdown, restarting."""
        return self._transport.status

    @property
    def provider(self) -> sdk.Provider | None:
        """The provider object behind this plugin, when it was given in Python."""
        return self._transport.provider

    @property
    def restarts(self) -> int:
        return self._transport.restarts

    @property
    def manifest(self) -> PluginManifest:
        """The plugin's manifest: its ``.plugin.yaml``, or what the provider declares."""
        if self._manifest is None:
            reply = self._call("GetManifest", sdk.ManifestRequest())
            self._manifest = PluginManifest(
                name=reply.name, version=reply.version, type=reply.type or self.plugin_type,
                protocol=reply.protocol or sdk.PROTOCOL, author=reply.author, description=reply.description,
                hector_version=reply.hector_version, capabilities=dict(reply.capabilities))
        return self._manifest

    def _call(self, method: str, request: Any, timeout: float | None = None) -> Any:
        return self._transport.call(method, request, self.timeout if timeout is None else timeout)

    def _check(self, operation: str, reply: Any) -> None:
        if not reply.success:
            raise ProviderError(self.name, operation, reply.error or "failed without saying why")

    def initialize(self, config: Mapping[str, str] | None = None, timeout: float | None = None) -> None:
        """Send the provider its config (text values); replayed after a restart."""
        config = dict(config or {})
        try:
            self._check("initialize", self._call("Initialize", sdk.InitializeRequest(config=config), timeout))
        except Exception:
            self._transport.status = "error"
            raise
        self._transport.config = config
        self._transport.status = "ready"

    def health(self, timeout: float | None = None) -> sdk.HealthResponse:
        """The provider's own health answer."""
        return self._call("Health", sdk.HealthRequest(), timeout)

    def remote_status(self, timeout: float | None = None) -> str:
        """The status the plugin reports about itself (``GetStatus``)."""
        return self._call("GetStatus", sdk.StatusRequest(), timeout).status

    def logs(self) -> list[str]:
        """What the plugin wrote (stderr, stdio, stray stdout), newest last."""
        return self._transport.log.lines()

    def shutdown(self, timeout: float | None = None) -> None:
        """Stop the plugin: its Shutdown RPC, then (for a subprocess) the process itself."""
        self._transport.close(self.timeout if timeout is None else timeout)

    def restart(self, timeout: float | None = None) -> None:
        """Start the provider afresh with its last config."""
        self._transport.restart(self.timeout if timeout is None else timeout)
        if self._transport.config is not None and self.transport != "subprocess":
            self.initialize(self._transport.config, timeout)

    def _bulk(self, method: str, requests: Iterable[Any], total: int | None, description: str,
              timeout: float | None) -> Iterator[Any]:
        """Pipelined unary calls, at most MAX_IN_FLIGHT on the wire, answers in order."""
        timeout = self.timeout if timeout is None else timeout
        pending: collections.deque[Any] = collections.deque()
        show = total is None or total >= PROGRESS_THRESHOLD
        with tqdm(total=total, desc=f"{self.name}: {description}", disable=not show, leave=False) as bar:
            try:
                for request in requests:
                    if len(pending) >= MAX_IN_FLIGHT:
                        yield pending.popleft().result()
                        bar.update()
                    pending.append(self._transport.submit(method, request, timeout))
                while pending:
                    yield pending.popleft().result()
                    bar.update()
            finally:
                for future in pending:
                    future.cancel()


class LLMClient(PluginClient):
    """An LLM provider: ``generate``, ``stream``, ``model_info``."""

    def generate(self, prompt: MessagesLike, tools: ToolsLike = None, timeout: float | None = None
                 ) -> sdk.GenerateResponse:
        """Answer a prompt (a string is one user message) at once."""
        request = sdk.GenerateRequest(messages=as_messages(prompt), tools=as_tools(tools))
        return self._call("Generate", request, timeout)

    def stream(self, prompt: MessagesLike, tools: ToolsLike = None, timeout: float | None = None
               ) -> Iterator[sdk.StreamChunk]:
        """The answer chunk by chunk, ending with DONE (or ERROR). Closing it cancels the call."""
        request = sdk.GenerateRequest(messages=as_messages(prompt), tools=as_tools(tools))
        return self._transport.stream("GenerateStreaming", request, self.timeout if timeout is None else timeout)

    def model_info(self, timeout: float | None = None) -> sdk.ModelInfo:
        return self._call("GetModelInfo", sdk.Empty(), timeout)


class DatabaseClient(PluginClient):
    """A vector database provider."""

    def create_collection(self, collection: str, vector_size: int, timeout: float | None = None) -> None:
        request = sdk.CreateCollectionRequest(collection=collection, vector_size=int(vector_size))
        self._check("create_collection", self._call("CreateCollection", request, timeout))

    def delete_collection(self, collection: str, timeout: float | None = None) -> None:
        request = sdk.DeleteCollectionRequest(collection=collection)
        self._check("delete_collection", self._call("DeleteCollection", request, timeout))

    def upsert(self, collection: str, id: str, vector: Sequence[float] | np.ndarray,
               metadata: Mapping[str, Any] | None = None, timeout: float | None = None) -> None:
        self._check("upsert", self._call("Upsert", _upsert_request(collection, id, vector, metadata), timeout))

    def upsert_many(self, collection: str, items: Iterable[tuple[str, Any, Mapping[str, Any] | None]],
                    timeout: float | None = None) -> int:
        """Upsert ``(id, vector, metadata)`` tuples, pipelined over one channel; returns the count."""
        total = len(items) if hasattr(items, "__len__") else None
        requests = (_upsert_request(collection, id, vector, metadata) for id, vector, metadata in items)
        count = 0
        for reply in self._bulk("Upsert", requests, total, f"upsert into {collection}", timeout):
            self._check("upsert_many", reply)
            count += 1
        return count

    def search(self, collection: str, vector: Sequence[float] | np.ndarray, top_k: int = 5,
               timeout: float | None = None) -> list[sdk.SearchResult]:
        """The ``top_k`` nearest entries, best first."""
        request = sdk.SearchRequest(collection=collection, vector=_floats(vector), top_k=int(top_k))
        reply = self._call("Search", request, timeout)
        if reply.error:
            raise ProviderError(self.name, "search", reply.error)
        return list(reply.results)

    def delete(self, collection: str, id: str, timeout: float | None = None) -> None:
        self._check("delete", self._call("Delete", sdk.DeleteRequest(collection=collection, id=id), timeout))


class EmbedderClient(PluginClient):
    """An embedder provider: text in, numpy vectors out."""

    def embed(self, text: str, timeout: float | None = None) -> np.ndarray:
        return self._vector(self._call("Embed", sdk.EmbedRequest(text=text), timeout))

    def embed_many(self, texts: Iterable[str], timeout: float | None = None) -> np.ndarray:
        """Embeddings of many texts as one 2-D array, pipelined over one channel."""
        texts = list(texts)
        requests = (sdk.EmbedRequest(text=text) for text in texts)
        rows = [self._vector(reply) for reply in self._bulk("Embed", requests, len(texts), "embed", timeout)]
        return np.vstack(rows) if rows else np.empty((0, 0), dtype=np.float32)

    def info(self, timeout: float | None = None) -> sdk.EmbedderInfo:
        return self._call("GetEmbedderInfo", sdk.Empty(), timeout)

    def _vector(self, reply: sdk.EmbedResponse) -> np.ndarray:
        if reply.error:
            raise ProviderError(self.name, "embed", reply.error)
        return np.asarray(reply.vector, dtype=np.float32)


def _floats(vector: Sequence[float] | np.ndarray) -> Any:
    return vector.tolist() if isinstance(vector, np.ndarray) else vector


def _metadata_text(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return str(value)


def _upsert_request(collection: str, id: Any, vector: Any, metadata: Mapping[str, Any] | None
                    ) -> sdk.UpsertRequest:
    meta = {str(k): _metadata_text(v) for k, v in (metadata or {}).items()}
    return sdk.UpsertRequest(collection=collection, id=str(id), vector=_floats(vector), metadata=meta)


CLIENTS: dict[str, type[PluginClient]] = {
    sdk.PLUGIN_TYPE_LLM: LLMClient,
    sdk.PLUGIN_TYPE_DATABASE: DatabaseClient,
    sdk.PLUGIN_TYPE_EMBEDDER: EmbedderClient,
}
