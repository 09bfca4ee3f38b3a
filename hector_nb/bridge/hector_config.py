"""What to write in Hector's config to use a running bridge: one line per served model and Hector line."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import HectorError
from ..host.clients import DatabaseClient, EmbedderClient, LLMClient, PluginClient
from .store_config import store_lines

#: How a served model reads in the first line.
_KIND_WORDS = {LLMClient: "LLM", EmbedderClient: "embedder", DatabaseClient: "vector store"}


def _kind_word(client: PluginClient) -> str:
    return next((word for kind, word in _KIND_WORDS.items() if isinstance(client, kind)), client.plugin_type)


def _joined(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _dimension(client: EmbedderClient) -> str:
    """``, dimension: N`` from the embedder's info, or nothing when it cannot say."""
    try:
        dimension = client.info().dimension
    except HectorError:
        return ""
    return f", dimension: {dimension}" if dimension > 0 else ""


def config_lines(url: str, clients: Sequence[PluginClient], api_key: str | None = None,
                 ca_certificate: str | None = None) -> str:
    """The lines that say what is served where, and the ``llms:``/``embedders:`` entries for Hector v1 and v2.

    Without a key, Hector's ``ollama`` flavour (v2.0.2 needs ``thinking: {enabled: true}``,
    CONTRACT section 6); with one, its ``openai`` flavour, the one that sends a key. A
    database's ``vector_stores:`` and ``document_stores:`` entries are :func:`store_lines`'
    (``ca_certificate``: the bridge serves TLS).
    """
    if not clients:
        return f"Serving nothing yet at {url}: every plugin loaded from now on is served under its name"
    lines = [f"Serving {_joined([f'{c.name} ({_kind_word(c)})' for c in clients])} at {url}"]
    models = [client for client in clients if not isinstance(client, DatabaseClient)]
    for client in models:
        section = "llms" if isinstance(client, LLMClient) else "embedders"
        extra = _dimension(client) if isinstance(client, EmbedderClient) else ""
        name = client.name
        if api_key is None:
            thinking = ", thinking: {enabled: true}" if isinstance(client, LLMClient) else ""
            v1 = f"{{type: ollama, host: {url}, model: {name}{extra}}}"
            v2 = f"{{provider: ollama, base_url: {url}, model: {name}{extra}{thinking}}}"
        else:
            v1 = f"{{type: openai, host: {url}/v1, api_key: YOUR_KEY, model: {name}{extra}}}"
            v2 = f"{{provider: openai, base_url: {url}/v1, api_key: YOUR_KEY, model: {name}{extra}}}"
        lines += [f"  Hector v1:  {section}: {{{name}: {v1}}}", f"  Hector v2:  {section}: {{{name}: {v2}}}"]
    key = ", api_key: YOUR_KEY (sent as 'Authorization: Bearer YOUR_KEY')" if api_key is not None else ""
    if models:
        lines.append(f"  OpenAI API: base_url {url}/v1{key}")
    if models and ca_certificate:
        lines.append("  Over TLS, Hector's ollama/openai clients trust only the system's authorities: serve LLMs and "
                     f"embedders from a bridge without --tls, or start Hector with SSL_CERT_FILE={ca_certificate}")
    embedder = next((client.name for client in clients if isinstance(client, EmbedderClient)), None)
    databases = [client.name for client in clients if isinstance(client, DatabaseClient)]
    lines += store_lines(url, databases, embedder, ca_certificate, api_key)
    return "\n".join(lines)
