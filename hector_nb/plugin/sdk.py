"""Write Hector providers in Python.

Subclass :class:`LLMProvider`, :class:`DatabaseProvider` or :class:`EmbedderProvider`,
implement its methods (plain or ``async def``), and either serve it as a plugin
executable with :func:`serve_llm_plugin` and friends, or hand it to a
:class:`hector_nb.Session` to call it from a notebook.

The message types are the wire messages themselves (protobuf classes generated
from ``proto/``), so what a provider returns is exactly what Hector receives.

Manifest facts may be declared as class attributes::

    class MyLLM(LLMProvider):
        name = "my-llm"
        version = "1.2.0"
        description = "Says everything twice"
        config_required = ("api_key",)
        config_optional = ("prefix",)
        config_defaults = {"prefix": "Echo: "}
        capabilities = {"function_calling": True}
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, TypeVar, Union, overload

from ._wire.common_pb2 import (
    Empty,
    HealthRequest,
    HealthResponse,
    InitializeRequest,
    InitializeResponse,
    ManifestRequest,
    ManifestResponse,
    ShutdownRequest,
    ShutdownResponse,
    StatusRequest,
    StatusResponse,
)
from ._wire.database_pb2 import (
    CreateCollectionRequest,
    CreateCollectionResponse,
    DeleteCollectionRequest,
    DeleteCollectionResponse,
    DeleteRequest,
    DeleteResponse,
    SearchRequest,
    SearchResponse,
    SearchResult,
    UpsertRequest,
    UpsertResponse,
)
from ._wire.embedder_pb2 import EmbedderInfo, EmbedRequest, EmbedResponse
from ._wire.llm_pb2 import (
    GenerateRequest,
    GenerateResponse,
    Message,
    ModelInfo,
    StreamChunk,
    ToolCall,
    ToolDefinition,
)
from .constants import (
    PLUGIN_TYPE_DATABASE,
    PLUGIN_TYPE_EMBEDDER,
    PLUGIN_TYPE_LLM,
    PLUGIN_TYPES,
    PROTOCOL,
    STATUSES,
    Status,
    bool_text,
)
from .roles import (
    HECTOR_ROLES,
    ROLE_AGENT,
    ROLE_UNSPECIFIED,
    ROLE_USER,
    normalize_role,
    openai_role,
)

__all__ = [
    # provider base classes
    "Provider",
    "LLMProvider",
    "DatabaseProvider",
    "EmbedderProvider",
    # serving
    "serve_llm_plugin",
    "serve_database_plugin",
    "serve_embedder_plugin",
    # constants
    "PLUGIN_TYPE_LLM",
    "PLUGIN_TYPE_DATABASE",
    "PLUGIN_TYPE_EMBEDDER",
    "PLUGIN_TYPES",
    "CHUNK_TYPE_TEXT",
    "CHUNK_TYPE_TOOL_CALL",
    "CHUNK_TYPE_DONE",
    "CHUNK_TYPE_ERROR",
    "STATUSES",
    "Status",
    "PROTOCOL",
    "HECTOR_VERSION",
    # message roles as Hector sends them, and helpers that read either vocabulary
    "ROLE_USER",
    "ROLE_AGENT",
    "ROLE_UNSPECIFIED",
    "HECTOR_ROLES",
    "normalize_role",
    "openai_role",
    # reading config (Hector sends every value as text)
    "config_positive_int",
    # manifest facts
    "plugin_name",
    "plugin_capabilities",
    "manifest_of",
    # wire messages
    "Empty",
    "InitializeRequest",
    "InitializeResponse",
    "ShutdownRequest",
    "ShutdownResponse",
    "HealthRequest",
    "HealthResponse",
    "ManifestRequest",
    "ManifestResponse",
    "StatusRequest",
    "StatusResponse",
    "Message",
    "ToolDefinition",
    "ToolCall",
    "GenerateRequest",
    "GenerateResponse",
    "StreamChunk",
    "ModelInfo",
    "UpsertRequest",
    "UpsertResponse",
    "SearchRequest",
    "SearchResult",
    "SearchResponse",
    "DeleteRequest",
    "DeleteResponse",
    "CreateCollectionRequest",
    "CreateCollectionResponse",
    "DeleteCollectionRequest",
    "DeleteCollectionResponse",
    "EmbedRequest",
    "EmbedResponse",
    "EmbedderInfo",
]

CHUNK_TYPE_TEXT = StreamChunk.TEXT
CHUNK_TYPE_TOOL_CALL = StreamChunk.TOOL_CALL
CHUNK_TYPE_DONE = StreamChunk.DONE
CHUNK_TYPE_ERROR = StreamChunk.ERROR

HECTOR_VERSION = ">=0.1.0"
#: What the default ``LLMProvider.get_model_info`` answers when neither an attribute nor the config says.
DEFAULT_MAX_TOKENS = 4096
DEFAULT_TEMPERATURE = 1.0

#: What a provider's ``health()`` may return: a bool, or ``(healthy, message)``.
HealthResult = Union[bool, tuple[bool, str], None]  # noqa: UP007 - evaluated at import on 3.10
class ArrayLike(Protocol):
    """A numpy array, or anything else that turns itself into a list of floats."""

    def tolist(self) -> Any: ...


#: What ``embed`` may return: a sequence of floats or a 1-D numpy array (numpy is not needed to import this).
VectorLike = Union[Sequence[float], ArrayLike]  # noqa: UP007 - evaluated at import on 3.10
#: What a streaming method may yield: a ``StreamChunk``, or a ``str`` for a TEXT chunk.
ChunkLike = Union[StreamChunk, str]  # noqa: UP007


_ProviderT = TypeVar("_ProviderT", bound="Provider")


class Provider:
    """What the three provider kinds share: lifecycle methods and manifest facts.

    Every method may be a plain function or ``async def``. Raising an exception
    is how a provider reports an error; the server turns it into the answer the
    contract prescribes for that RPC.
    """

    plugin_type: ClassVar[str] = ""

    #: Manifest facts. ``name`` defaults to the class name in kebab case.
    name: ClassVar[str] = ""
    version: ClassVar[str] = "0.1.0"
    author: ClassVar[str] = ""
    description: ClassVar[str] = ""
    hector_version: ClassVar[str] = HECTOR_VERSION
    #: Config keys: those Hector must pass, those it may pass, and defaults.
    config_required: ClassVar[Sequence[str]] = ()
    config_optional: ClassVar[Sequence[str]] = ()
    config_defaults: ClassVar[Mapping[str, str]] = {}
    #: Declared capabilities, e.g. ``{"function_calling": True}``.
    capabilities: ClassVar[Mapping[str, Any]] = {}
    #: The positional and keyword arguments this instance was made with (see ``__new__``).
    _constructor_arguments: tuple[tuple[Any, ...], dict[str, Any]]
    #: pip requirements an exported plugin needs beyond the distributions its imports name (export finds
    #: those itself): packages it only finds at run time, such as a model shipped as a package.
    export_requirements: ClassVar[Sequence[str]] = ()
    #: The config of the last ``Initialize``, ``config_defaults`` applied: the SDK sets it just before
    #: calling ``initialize()``, so every method can read it.
    config: Mapping[str, str] = MappingProxyType({})

    def __new__(cls: type[_ProviderT], *args: Any, **kwargs: Any) -> _ProviderT:  # not Any: MyLLM() is a MyLLM
        # The host makes fresh instances of a provider (a restart, the conformance check, a sweep) from
        # the arguments the user's own was made with, so it never has to touch the user's object.
        instance = super().__new__(cls)
        instance._constructor_arguments = (args, kwargs)
        return instance

    def initialize(self, config: dict[str, str]) -> None:
        """Receive the plugin's configuration (all values are strings).

        Called once before any other call, and again after a restart.
        """

    def shutdown(self) -> None:
        """Release resources; the process or session is about to drop this provider."""

    def health(self) -> HealthResult:
        """Report whether the provider can serve: ``True``, ``False`` or ``(healthy, message)``."""
        return True


class LLMProvider(Provider):
    """A language model: ``generate``, ``generate_streaming`` and ``get_model_info``."""

    plugin_type: ClassVar[str] = PLUGIN_TYPE_LLM

    def generate(
        self, messages: list[Message], tools: list[ToolDefinition]
    ) -> GenerateResponse:
        """Answer a conversation at once. Return a :class:`GenerateResponse`."""
        raise NotImplementedError(f"{type(self).__name__} does not implement generate()")

    async def generate_streaming(
        self, messages: list[Message], tools: list[ToolDefinition]
    ) -> Iterator[ChunkLike] | AsyncIterator[ChunkLike]:
        """Answer a conversation chunk by chunk.

        Yield ``str`` (a TEXT chunk) or :class:`StreamChunk` objects, from a
        generator or an async generator. A final DONE chunk is added for you
        when you do not send one. The default streams ``generate()``'s answer
        as a single TEXT chunk, its tool calls, then DONE.
        """
        response = self.generate(messages, tools)
        if inspect.isawaitable(response):
            response = await response
        if response.text:
            yield response.text
        for call in response.tool_calls:
            yield StreamChunk(type=CHUNK_TYPE_TOOL_CALL, tool_call=call)
        yield StreamChunk(type=CHUNK_TYPE_DONE, tokens_used=response.tokens_used)

    def get_model_info(self) -> ModelInfo:
        """Describe the model: name, maximum tokens, temperature (Hector asks when it registers the LLM).

        The default answers the plugin's name (:func:`plugin_name`) and, for ``max_tokens`` and
        ``temperature``, the provider's attribute of that name (a class attribute, or one set in
        ``initialize``), else the config key of that name (see :attr:`Provider.config`), else
        4096 and 1.0. Override it to describe a real model.
        """
        return ModelInfo(model_name=plugin_name(self),
                         max_tokens=int(self._model_setting("max_tokens", DEFAULT_MAX_TOKENS)),
                         temperature=float(self._model_setting("temperature", DEFAULT_TEMPERATURE)))

    def _model_setting(self, key: str, default: float) -> Any:
        value = getattr(self, key, None)
        if value is None:
            value = self.config.get(key) or default
        return value


class DatabaseProvider(Provider):
    """A vector database: collections of ``(id, vector, metadata)`` searched by similarity."""

    plugin_type: ClassVar[str] = PLUGIN_TYPE_DATABASE
    #: Set True when :meth:`search` also takes its query as a 1-D float32 numpy array: in the kernel,
    #: hector_nb then passes the caller's checked array as it is, instead of converting it to a list
    #: of floats that the provider converts back (over the wire, the query is always a list).
    array_queries: ClassVar[bool] = False

    def upsert(
        self, collection: str, id: str, vector: Sequence[float], metadata: dict[str, str]
    ) -> None:
        """Insert or replace one vector."""
        raise NotImplementedError(f"{type(self).__name__} does not implement upsert()")

    def search(
        self, collection: str, vector: Sequence[float], top_k: int
    ) -> Iterable[SearchResult | Mapping[str, Any]]:
        """Return the ``top_k`` nearest entries, best first, as :class:`SearchResult`
        objects or mappings with the same keys (id, score, content, vector, metadata,
        model_name)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement search()")

    def delete(self, collection: str, id: str) -> None:
        """Remove one entry."""
        raise NotImplementedError(f"{type(self).__name__} does not implement delete()")

    def create_collection(self, collection: str, vector_size: int) -> None:
        """Create a collection of vectors of ``vector_size`` dimensions."""
        raise NotImplementedError(f"{type(self).__name__} does not implement create_collection()")

    def delete_collection(self, collection: str) -> None:
        """Drop a collection and everything in it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement delete_collection()")

    def upsert_many(
        self, collection: str, ids: list[str], vectors: Any, metadata: list[dict[str, str]]
    ) -> None:
        """Optional: insert or replace many vectors at once, in order (the last of a repeated id wins).

        ``vectors`` holds one row per id: a 2-D float32 numpy array when numpy is
        installed, else a list of lists of floats. hector_nb calls this for bulk
        loads, in the kernel and over its own bulk service (Hector never does);
        without it, hector_nb calls :meth:`upsert` once per item.
        """
        raise NotImplementedError(f"{type(self).__name__} has no upsert_many(); hector_nb calls upsert() per item")


class EmbedderProvider(Provider):
    """An embedder: text in, vector out."""

    plugin_type: ClassVar[str] = PLUGIN_TYPE_EMBEDDER

    def embed(self, text: str) -> VectorLike:
        """Return the embedding of ``text`` as a list of floats or a 1-D numpy array."""
        raise NotImplementedError(f"{type(self).__name__} does not implement embed()")

    def get_embedder_info(self) -> EmbedderInfo:
        """Describe the embedder: model name and dimension."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_embedder_info()")

    def embed_many(self, texts: list[str]) -> Any:
        """Optional: the embeddings of many texts at once, one row per text (a 2-D array or a list of vectors).

        hector_nb calls this for bulk embedding, in the kernel and over its own
        bulk service (Hector never does); without it, hector_nb calls
        :meth:`embed` once per text.
        """
        raise NotImplementedError(f"{type(self).__name__} has no embed_many(); hector_nb calls embed() per text")


@overload
def config_positive_int(config: Mapping[str, str], key: str) -> int | None: ...
@overload
def config_positive_int(config: Mapping[str, str], key: str, default: int) -> int: ...
def config_positive_int(config: Mapping[str, str], key: str, default: int | None = None) -> int | None:
    """``config[key]`` read as a positive integer, or ``default`` when the key is missing or empty.

    Hector sends every config value as text (and drops the ones that are not
    strings in hector.yaml), so a number arrives as ``"16"``; anything else
    raises ValueError naming the key, which ``Initialize`` reports to the host.
    """
    text = config.get(key) or ""
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"config {key} must be a positive integer, got {text!r}")
    return int(text)


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def plugin_name(provider: Provider | type[Provider]) -> str:
    """The provider's declared ``name``, or its class name in kebab case."""
    cls = provider if isinstance(provider, type) else type(provider)
    return cls.name or _kebab(cls.__name__)


def plugin_capabilities(provider: Provider | type[Provider]) -> dict[str, Any]:
    """Declared capabilities, with ``streaming`` inferred for LLMs that implement it."""
    cls = provider if isinstance(provider, type) else type(provider)
    caps: dict[str, Any] = {}
    if issubclass(cls, LLMProvider):
        caps["streaming"] = cls.generate_streaming is not LLMProvider.generate_streaming
        caps["function_calling"] = False
    caps.update(cls.capabilities)
    return caps


def _capability_text(value: Any) -> str:
    if isinstance(value, bool):
        return bool_text(value)
    return str(value)


def manifest_of(provider: Provider | type[Provider]) -> ManifestResponse:
    """The manifest a provider declares, as the ``GetManifest`` RPC answers it."""
    cls = provider if isinstance(provider, type) else type(provider)
    return ManifestResponse(
        name=plugin_name(cls),
        version=cls.version,
        author=cls.author,
        description=cls.description,
        type=cls.plugin_type,
        protocol=PROTOCOL,
        hector_version=cls.hector_version,
        capabilities={k: _capability_text(v) for k, v in plugin_capabilities(cls).items()},
    )


def serve_llm_plugin(provider: LLMProvider, **options: Any) -> None:
    """Serve an LLM provider as a Hector plugin process (never returns)."""
    from .serve import serve_plugin

    serve_plugin(provider, PLUGIN_TYPE_LLM, **options)


def serve_database_plugin(provider: DatabaseProvider, **options: Any) -> None:
    """Serve a database provider as a Hector plugin process (never returns)."""
    from .serve import serve_plugin

    serve_plugin(provider, PLUGIN_TYPE_DATABASE, **options)


def serve_embedder_plugin(provider: EmbedderProvider, **options: Any) -> None:
    """Serve an embedder provider as a Hector plugin process (never returns)."""
    from .serve import serve_plugin

    serve_plugin(provider, PLUGIN_TYPE_EMBEDDER, **options)
