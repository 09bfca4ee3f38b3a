"""QdrantDatabase: the Qdrant vector database, embedded in the process or as a server or cluster.

Needs the ``qdrant`` extra: ``pip install -e ".[qdrant]"`` in the clone. The engine is
imported when the provider is initialized, so hector_nb imports without it.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from typing import Any

from .. import sdk
from .extras import install_command
from .results import search_result
from .vectors import floats

#: Config ``metric`` -> Qdrant's distance name.
DISTANCES = {"cosine": "Cosine", "dot": "Dot", "euclidean": "Euclid", "manhattan": "Manhattan"}
#: Payload key holding the caller's own id (Qdrant point ids must be UUIDs or integers).
ID_KEY = "_hector_id"
#: The namespace of the UUIDs that stand for ids that are not UUIDs themselves.
ID_NAMESPACE = "5d1c2f0e-8a47-4a53-9a8e-6f0c3b1e7d21"  # a literal, so that export can carry it
_WHERE = ("location", "path", "url")


def point_id(id: str) -> str:
    """The Qdrant point id for ``id``: ``id`` itself when it is a UUID in canonical form (Hector's ids), else a
    UUID derived from its exact text (the same every time). Only exact text maps to itself: ``{UUID}``, upper
    case or hyphen-free spellings of one UUID are different ids, kept apart (each keeps its text in the payload)."""
    try:
        if str(uuid.UUID(id)) == id:
            return id
    except ValueError:
        pass
    return str(uuid.uuid5(uuid.UUID(ID_NAMESPACE), id))


class QdrantDatabase(sdk.DatabaseProvider):
    """Qdrant through ``qdrant-client``.

    Where the data lives, one of: ``location`` (default ``:memory:``, embedded and
    gone at shutdown), ``path`` (embedded, persisted in that directory) or ``url``
    (a Qdrant server or cluster, with ``api_key``): the scale-out path is the
    same provider with one config key changed. ``metric``: cosine (default), dot,
    euclidean or manhattan; scores are higher-is-better (distances negated).
    ``hnsw_m``, ``hnsw_ef_construct`` (index build) and ``hnsw_ef`` (search) tune
    the HNSW index of a server; ``exact=true`` searches exhaustively. Embedded
    Qdrant always searches exactly, so these change nothing there.

    Collections are created on first upsert, sized by that vector, as Hector
    expects; searching one not written yet finds nothing, deleting a missing id
    does nothing. Metadata is the point's payload; a hit's ``content`` is its
    ``content`` (or ``text``) metadata. Ids that are not UUIDs are mapped to
    UUIDs deterministically; the hit carries the original id.
    """

    name = "qdrant"
    version = "0.1.0"
    description = "Qdrant vector database: embedded (memory or path) or a server/cluster by url."
    config_optional = ("location", "path", "url", "api_key", "metric", "hnsw_m", "hnsw_ef_construct", "hnsw_ef",
                       "exact")

    def __init__(self) -> None:
        self._client: Any = None
        self._lock: Any = contextlib.nullcontext()
        self._dimensions: dict[str, int] = {}

    def initialize(self, config: dict[str, str]) -> None:
        try:
            from qdrant_client import QdrantClient, models
        except ImportError:
            raise ImportError(f'builtin:qdrant needs qdrant-client: {install_command("qdrant")}') from None
        metric = config.get("metric") or "cosine"
        if metric not in DISTANCES:
            raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(DISTANCES)}")
        where = {key: config[key] for key in _WHERE if config.get(key)}
        if len(where) > 1:
            raise ValueError(f"give one of location, path or url, not {' and '.join(where)}")
        key, value = next(iter(where.items()), ("location", ":memory:"))
        self.shutdown()
        self._models = models
        self._distance = models.Distance(DISTANCES[metric])
        self._hnsw = models.HnswConfigDiff(m=sdk.config_positive_int(config, "hnsw_m"),
                                           ef_construct=sdk.config_positive_int(config, "hnsw_ef_construct"))
        self._search_params = models.SearchParams(hnsw_ef=sdk.config_positive_int(config, "hnsw_ef"),
                                                  exact=(config.get("exact") or "false").lower() == "true")
        self._negate = metric in ("euclidean", "manhattan")
        if key == "url":
            self._client = QdrantClient(url=value, api_key=config.get("api_key") or None, check_compatibility=False)
            self._client.get_collections()  # fail here, not at the first upsert, when the server is unreachable
        else:
            self._client = QdrantClient(path=value) if key == "path" else QdrantClient(location=value)
            # Embedded Qdrant is not thread-safe; the plugin server calls from several threads.
            self._lock = threading.Lock()
        self._dimensions = {}

    def shutdown(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _dimension(self, collection: str) -> int | None:
        """The collection's vector size, or None when it does not exist."""
        if collection not in self._dimensions and self._client.collection_exists(collection):
            params = self._client.get_collection(collection).config.params
            self._dimensions[collection] = params.vectors.size
        return self._dimensions.get(collection)

    def _require(self, collection: str, vector: list[float] | None = None, what: str = "got") -> None:
        dimension = self._dimension(collection)
        if dimension is None:
            raise KeyError(f"no collection {collection!r}; upsert into it or create it first")
        if vector is not None and len(vector) != dimension:
            raise ValueError(f"collection {collection!r} holds {dimension}-dimensional vectors, {what} {len(vector)}")

    def _create(self, collection: str, vector_size: int) -> None:
        params = self._models.VectorParams(size=vector_size, distance=self._distance, hnsw_config=self._hnsw)
        self._client.create_collection(collection, vectors_config=params)
        self._dimensions[collection] = vector_size

    def create_collection(self, collection: str, vector_size: int) -> None:
        if vector_size < 1:
            raise ValueError(f"vector_size must be positive, got {vector_size}")
        with self._lock:
            if self._dimension(collection) is not None:
                raise ValueError(f"collection {collection!r} exists already")
            self._create(collection, int(vector_size))

    def delete_collection(self, collection: str) -> None:
        with self._lock:
            self._require(collection)
            self._client.delete_collection(collection)
            self._dimensions.pop(collection, None)

    def upsert(self, collection: str, id: str, vector: sdk.VectorLike, metadata: dict[str, str]) -> None:
        self.upsert_many(collection, [id], [vector], [metadata])

    def upsert_many(self, collection: str, ids: list[str], vectors: Any, metadata: list[dict[str, str]]) -> None:
        """One Qdrant upsert for many points (the last of a repeated id wins)."""
        points = {}
        rows: dict[str, list[float]] = {}
        for id, vector, meta in zip(ids, vectors, metadata, strict=True):
            if ID_KEY in meta:
                raise ValueError(f"metadata key {ID_KEY!r} is reserved for the original id")
            row = rows[point_id(id)] = floats(vector)
            points[point_id(id)] = self._models.PointStruct(id=point_id(id), vector=row, payload={**meta, ID_KEY: id})
        if not points:
            return
        with self._lock:
            if self._dimension(collection) is None:
                self._create(collection, len(next(iter(rows.values()))))
            for row in rows.values():
                self._require(collection, row)
            self._client.upsert(collection, points=list(points.values()))

    def delete(self, collection: str, id: str) -> None:
        """Remove ``id``; a missing id or collection is nothing to do (Hector counts an error as a failure)."""
        with self._lock:
            if self._dimension(collection) is not None:
                self._client.delete(collection, points_selector=self._models.PointIdsList(points=[point_id(id)]))

    def search(self, collection: str, vector: sdk.VectorLike, top_k: int) -> list[sdk.SearchResult]:
        query = floats(vector)
        with self._lock:
            if self._dimension(collection) is None:
                return []  # nothing written yet: Hector's document store may search before its first upsert
            self._require(collection, query, "the query has")
            if top_k <= 0:
                return []
            hits = self._client.query_points(collection, query=query, limit=top_k,
                                             search_params=self._search_params, with_payload=True).points
        results = []
        for hit in hits:
            metadata = {k: str(v) for k, v in (hit.payload or {}).items() if k != ID_KEY}
            results.append(search_result(str((hit.payload or {}).get(ID_KEY, hit.id)),
                                         -hit.score if self._negate else hit.score, metadata))
        return results
