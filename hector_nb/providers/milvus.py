"""MilvusDatabase: Milvus, as Milvus Lite in a local file or as a Milvus server or cluster by URI.

Needs the ``milvus`` extra: ``pip install -e ".[milvus]"`` in the clone (pymilvus and
milvus-lite, a real Milvus engine shipped in a wheel). The engine is imported
when the provider is initialized, so hector_nb imports without it.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .. import sdk
from .extras import install_command
from .results import search_result
from .vectors import floats

#: Config ``metric`` -> Milvus's metric type.
METRICS = {"cosine": "COSINE", "dot": "IP", "euclidean": "L2"}
#: Milvus names collections with letters, digits and underscores only, starting with a letter or underscore.
_VALID_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,254}"  # a literal, so that export can carry it
MAX_ID_LENGTH = 65535


def collection_name(collection: str) -> str:
    """A name Milvus accepts for ``collection``: itself when valid, else a sanitized name with a hash (stable)."""
    if re.fullmatch(_VALID_NAME, collection):
        return collection
    digest = hashlib.blake2b(collection.encode(), digest_size=4).hexdigest()
    return f"c_{re.sub(r'[^A-Za-z0-9_]', '_', collection)[:200]}_{digest}"


class MilvusDatabase(sdk.DatabaseProvider):
    """Milvus through ``pymilvus``'s ``MilvusClient``.

    Config ``uri``: a local file for Milvus Lite (default: a file in a temporary
    directory, removed at shutdown), or a server or cluster URI
    (``http://host:19530``) with ``token``: the scale-out path is the same
    provider with one config key changed. ``metric``: cosine (default), dot or
    euclidean; scores are higher-is-better (euclidean distance negated).
    ``index_type``: AUTOINDEX (default), FLAT (exact), HNSW or IVF_FLAT, with
    ``hnsw_m``, ``hnsw_ef_construct`` and ``hnsw_ef`` for HNSW.

    Collections are created on first upsert, sized by that vector, with strong
    consistency (a search sees every upsert before it); searching one not written
    yet finds nothing, deleting a missing id does nothing. Names Milvus refuses
    (hyphens, dots) are mapped to valid ones. Metadata is a JSON field; a hit's
    ``content`` is its ``content`` (or ``text``) metadata.
    """

    name = "milvus"
    version = "0.1.0"
    description = "Milvus vector database: Milvus Lite in a local file, or a server/cluster by uri."
    config_optional = ("uri", "token", "metric", "index_type", "hnsw_m", "hnsw_ef_construct", "hnsw_ef")
    # pymilvus starts Milvus Lite for a local uri without importing it by name.
    export_requirements = ("milvus-lite>=2.5",)

    def __init__(self) -> None:
        self._client: Any = None
        self._scratch: Path | None = None
        self._dimensions: dict[str, int] = {}

    def initialize(self, config: dict[str, str]) -> None:
        try:
            from pymilvus import DataType, MilvusClient
        except ImportError:
            raise ImportError(f'builtin:milvus needs pymilvus and milvus-lite: {install_command("milvus")}'
                              ) from None
        metric = config.get("metric") or "cosine"
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
        self.shutdown()
        self.metric = metric
        self.index_type = (config.get("index_type") or "AUTOINDEX").upper()
        index_keys = (("M", "hnsw_m"), ("efConstruction", "hnsw_ef_construct"))
        self._index_params = {name: value for name, key in index_keys
                              if (value := sdk.config_positive_int(config, key)) is not None}
        ef = sdk.config_positive_int(config, "hnsw_ef")
        self._search_params = {"params": {"ef": ef}} if ef else {}
        uri = config.get("uri") or ""
        if not uri:
            self._scratch = Path(tempfile.mkdtemp(prefix="hector-milvus-"))
            uri = str(self._scratch / "milvus.db")
        self._types, self._client_class = DataType, MilvusClient
        self._client = MilvusClient(uri=uri, token=config.get("token") or "")
        self._dimensions = {}

    def shutdown(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _dimension(self, collection: str) -> int | None:
        """The collection's vector size, or None when it does not exist."""
        name = collection_name(collection)
        if name not in self._dimensions and self._client.has_collection(name):
            fields = self._client.describe_collection(name)["fields"]
            self._dimensions[name] = next(int(f["params"]["dim"]) for f in fields if f["name"] == "vector")
        return self._dimensions.get(name)

    def _require(self, collection: str, vector: Any = None, what: str = "got") -> str:
        dimension = self._dimension(collection)
        if dimension is None:
            raise KeyError(f"no collection {collection!r}; upsert into it or create it first")
        if vector is not None and len(vector) != dimension:
            raise ValueError(f"collection {collection!r} holds {dimension}-dimensional vectors, {what} {len(vector)}")
        return collection_name(collection)

    def _create(self, collection: str, vector_size: int) -> None:
        schema = self._client_class.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", self._types.VARCHAR, is_primary=True, max_length=MAX_ID_LENGTH)
        schema.add_field("vector", self._types.FLOAT_VECTOR, dim=vector_size)
        schema.add_field("metadata", self._types.JSON)
        index = self._client.prepare_index_params()
        index.add_index("vector", index_type=self.index_type, metric_type=METRICS[self.metric],
                        params=self._index_params)
        self._client.create_collection(collection_name(collection), schema=schema, index_params=index,
                                       consistency_level="Strong")
        self._dimensions[collection_name(collection)] = vector_size

    def create_collection(self, collection: str, vector_size: int) -> None:
        if vector_size < 1:
            raise ValueError(f"vector_size must be positive, got {vector_size}")
        if self._dimension(collection) is not None:
            raise ValueError(f"collection {collection!r} exists already")
        self._create(collection, int(vector_size))

    def delete_collection(self, collection: str) -> None:
        name = self._require(collection)
        self._client.drop_collection(name)
        self._dimensions.pop(name, None)

    def upsert(self, collection: str, id: str, vector: sdk.VectorLike, metadata: dict[str, str]) -> None:
        self.upsert_many(collection, [id], [vector], [metadata])

    def upsert_many(self, collection: str, ids: list[str], vectors: Any, metadata: list[dict[str, str]]) -> None:
        """One Milvus upsert for many rows (the last of a repeated id wins)."""
        rows = {}
        for id, vector, meta in zip(ids, vectors, metadata, strict=True):
            if len(id.encode()) > MAX_ID_LENGTH:
                raise ValueError(f"id is {len(id.encode())} bytes long; Milvus keeps at most {MAX_ID_LENGTH}")
            rows[id] = {"id": id, "vector": floats(vector), "metadata": dict(meta)}
        if not rows:
            return
        if self._dimension(collection) is None:
            self._create(collection, len(next(iter(rows.values()))["vector"]))
        for row in rows.values():
            name = self._require(collection, row["vector"])
        self._client.upsert(name, list(rows.values()))

    def delete(self, collection: str, id: str) -> None:
        """Remove ``id``; a missing id or collection is nothing to do (Hector counts an error as a failure)."""
        if self._dimension(collection) is not None:
            self._client.delete(collection_name(collection), ids=[id])

    def search(self, collection: str, vector: sdk.VectorLike, top_k: int) -> list[sdk.SearchResult]:
        vector = floats(vector)
        if self._dimension(collection) is None:
            return []  # nothing written yet: Hector's document store may search before its first upsert
        name = self._require(collection, vector, "the query has")
        if top_k <= 0:
            return []
        hits = self._client.search(name, data=[vector], limit=top_k, output_fields=["metadata"],
                                   search_params=self._search_params)[0]
        results = []
        for hit in hits:
            metadata = {str(k): str(v) for k, v in (hit["entity"].get("metadata") or {}).items()}
            # Milvus's L2 is the squared distance; report the negated distance (higher is better).
            score = -max(float(hit["distance"]), 0.0) ** 0.5 if self.metric == "euclidean" else float(hit["distance"])
            results.append(search_result(str(hit["id"]), score, metadata))
        return results
