"""The hector.yaml entries that make a served database Hector's vector store (CONTRACT sections 7 and 8).

Hector v2.0.2 speaks to its ``milvus`` vector store over plain HTTP (its ``use_tls``
trusts only the system's authorities); Hector v1.9.9's client works only over TLS,
given ``enable_tls: true`` and ``ca_certificate``. A bridge therefore serves the vector
store to one of them: the entries shown are those that work against this bridge,
with a word on how to serve the other version.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit


def store_lines(url: str, databases: Sequence[str], embedder: str | None = None,
                ca_certificate: str | None = None, api_key: str | None = None) -> list[str]:
    """The config lines for the ``databases`` served at ``url`` (none when there are none).

    ``embedder`` names a served embedder for the document stores (else ``EMBEDDER``);
    ``ca_certificate`` is the bridge's TLS authority (None: plain HTTP). The first
    database answers any collection name, the others ``DATABASE/COLLECTION``; v1's
    collection is its document store's name, so a v1 store of another database is
    named ``DATABASE/docs``.
    """
    if not databases:
        return []
    where = urlsplit(url)
    key = ", api_key: YOUR_KEY" if api_key is not None else ""
    embedder = embedder or "EMBEDDER"
    lines = []
    for position, database in enumerate(databases):
        prefix = "" if position == 0 else f"{database}/"
        if ca_certificate:
            lines += [
                f"  Hector v1:  vector_stores: {{{database}: {{type: milvus, host: {where.hostname}, port: "
                f"{where.port}, enable_tls: true, ca_certificate: {ca_certificate}{key}}}}}",
                f"  Hector v1:  document_stores: {{{prefix or database + '_'}docs: {{source: directory, path: DIR, "
                f"enable_watch_changes: false, vector_store: {database}, embedder: {embedder}}}}}",
            ]
        else:
            lines += [
                f"  Hector v2:  vector_stores: {{{database}: {{type: milvus, host: {where.hostname}, port: "
                f"{where.port}{key}}}}}",
                f"  Hector v2:  document_stores: {{{database}_docs: {{source: {{type: directory, path: DIR}}, "
                f"vector_store: {database}, embedder: {embedder}, collection: {prefix}docs, watch: false}}}}",
                f"  Hector v2:  document_stores: {{{database}_notebook: {{source: {{type: collection, collection: "
                f"{prefix}COLLECTION}}, vector_store: {database}, embedder: {embedder}}}}}"
                "   (a collection the notebook built, searched as it is)",
            ]
    if ca_certificate:
        lines.append("  Hector v2's vector store needs plain HTTP: serve it from a bridge without --tls")
    else:
        lines.append("  Hector v1's vector store works only over TLS: serve it from a bridge with --tls")
    return lines
