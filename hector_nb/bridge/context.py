"""What every route of the bridge shares: the session, the names it serves, its limits and its log.

A name is looked up in the session at each request, so a provider cell run
again (which unloads the old provider and adds the new one under the same
name) answers the next request without restarting the bridge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import PluginNotFound
from ..host.clients import DatabaseClient, EmbedderClient, LLMClient, PluginClient
from .calls import Workers
from .failures import BridgeError
from .log import RequestLog

if TYPE_CHECKING:
    from ..sessions import Session

#: The client type each kind of model a route asks for.
KINDS: dict[str, type[PluginClient]] = {"llm": LLMClient, "embedder": EmbedderClient, "database": DatabaseClient}
#: How the kinds read in an error message.
KIND_WORDS = {"llm": "an LLM", "embedder": "an embedder", "database": "a vector database"}
#: The largest request body accepted, in bytes (a Hector v1 agent request is about 25 kB).
MAX_REQUEST_BYTES = 16 * 1024 * 1024
#: Ollama clients may name a model with a tag; a provider has one version only.
DEFAULT_TAG = ":latest"

__all__ = ["BridgeContext", "BridgeError", "KINDS"]


@dataclass
class BridgeContext:
    """The session and the names served, the bearer key, the limits, and the request log.

    ``names`` None serves every plugin the session has at the time of each
    request. ``timeout`` is each request's deadline in seconds (None: the
    session's timeout at the time of the request).
    """

    session: Session
    names: tuple[str, ...] | None = None
    api_key: str | None = None
    max_request_bytes: int = MAX_REQUEST_BYTES
    timeout: float | None = None
    log: RequestLog = field(default_factory=RequestLog)
    workers: Workers = field(default_factory=Workers)

    @property
    def deadline(self) -> float:
        """Seconds a request may take, from its arrival to its last byte (``math.inf``: no deadline)."""
        seconds = self.session.timeout if self.timeout is None else self.timeout
        return math.inf if seconds is None else seconds

    def served(self) -> list[str]:
        """The names this bridge answers to now (a served name not loaded at the moment is left out)."""
        loaded = self.session.names()
        return loaded if self.names is None else [name for name in self.names if name in loaded]

    def models(self, kinds: Sequence[str]) -> list[PluginClient]:
        """The clients of the served plugins that are of one of ``kinds``, in order."""
        wanted = tuple(KINDS[kind] for kind in kinds)
        clients = []
        for name in self.served():
            try:
                client = self.session.get(name)
            except PluginNotFound:  # unloaded since served() looked
                continue
            if isinstance(client, wanted):
                clients.append(client)
        return clients

    def resolve(self, model: str, kind: str) -> PluginClient:
        """The client serving ``model`` as a ``kind`` (``llm``, ``embedder`` or ``database``).

        Raises :class:`BridgeError`: 404 for a name not served (naming those
        that are), 400 for a plugin of another kind.
        """
        name = model.removesuffix(DEFAULT_TAG)
        served = self.served()
        if name not in served:
            listed = ", ".join(served) or "none"
            raise BridgeError(404, f"model {model!r} not found; this bridge serves: {listed}")
        try:
            client = self.session.get(name)
        except PluginNotFound:
            raise BridgeError(404, f"model {model!r} was unloaded; load it again (or run its cell)") from None
        if not isinstance(client, KINDS[kind]):
            actual = next(word for other, word in KIND_WORDS.items() if isinstance(client, KINDS[other]))
            raise BridgeError(400, f"model {model!r} is {actual}, not {KIND_WORDS[kind]}; ask a served "
                              f"{kind} for this (served: {', '.join(served)})")
        return client
