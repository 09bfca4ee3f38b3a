"""Hector's ``milvus`` vector-store dialect (CONTRACT section 7) over the served database providers.

Hector's ``type: milvus`` vector store is Hector's own small HTTP JSON client, the
same in v1.9.9 and v2.0.2; any server answering these routes is its vector store:

    POST   /api/v1/entities      {"collection_name", "data": [{"id", "vector", ...metadata}]}  upsert
    DELETE /api/v1/entities      {"collection_name", "ids": [...]} or {"collection_name", "expr"}
    POST   /api/v1/search        {"collection_name", "vector", "top_k", "expr"?}  -> {"results": [...]}
    GET    /api/v1/collections[/NAME], POST /api/v1/collections, DELETE /api/v1/collections/NAME

Which database answers: Hector sends only a ``collection_name``. ``DB/COLLECTION``,
where DB is a served database, selects that database's COLLECTION; any other name is
a collection of the first database served. The semantics (creation on first upsert,
filters, listing) are :mod:`.store`'s; docs/store_bridge.md tells the whole story.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..host.clients import DatabaseClient
from . import filters
from .context import BridgeContext
from .failures import BridgeError
from .store import VectorStore, rows_of, vector_of

#: The ``api`` column of the request log for this dialect.
API = "milvus"


@dataclass
class _Entry:
    """What the request log keeps of one request, filled in as the request is understood."""

    model: str = ""
    detail: str = ""


Handler = Callable[[Request, _Entry], Awaitable[Any]]


def routes(context: BridgeContext) -> list[BaseRoute]:
    """The dialect's routes over ``context``'s served databases."""
    store = VectorStore()

    def endpoint(operation: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            started, entry = time.perf_counter(), _Entry()
            try:
                body, status = await handler(request, entry), 200
            except BridgeError as exc:
                body, status = {"error": exc.message}, exc.status
                entry.detail = f"{entry.detail}: {exc.message}" if entry.detail else exc.message
            context.log.record(API, entry.model, operation, status, (time.perf_counter() - started) * 1000,
                               detail=entry.detail)
            return JSONResponse(body, status_code=status)

        return answer

    def database(collection_name: str, entry: _Entry) -> tuple[DatabaseClient, str]:
        """The served database and its collection that ``collection_name`` names."""
        databases = context.models(["database"])
        if not databases:
            raise BridgeError(404, "this bridge serves no vector database; serve one (a database provider's "
                              "name among those given to serve)")
        prefix, slash, rest = collection_name.partition("/")
        client = next((db for db in databases if slash and rest and db.name == prefix), None)
        db, collection = (client, rest) if client is not None else (databases[0], collection_name)
        assert isinstance(db, DatabaseClient)  # models(["database"]) holds database clients only
        entry.model, entry.detail = db.name, collection
        return db, collection

    async def call(function: Callable[[], Any], what: str) -> Any:
        return await context.workers.call(function, what, context.deadline)

    async def upsert(request: Request, entry: _Entry) -> Any:
        body = await _body(request)
        db, collection = database(_collection_name(body), entry)
        rows = rows_of(body.get("data"))
        created = await call(lambda: store.upsert(db, collection, rows), f"upsert into {collection!r}")
        entry.detail = f"{collection}: {len(rows)} row(s), {rows[0].id}{' (collection created)' if created else ''}"
        return {"upsert_count": len(rows), "collection_created": created}

    async def delete(request: Request, entry: _Entry) -> Any:
        body = await _body(request)
        db, collection = database(_collection_name(body), entry)
        ids, expr = body.get("ids"), body.get("expr")
        if isinstance(ids, list) and ids:
            deleted = await call(lambda: store.delete_ids(db, collection, ids), f"delete from {collection!r}")
            entry.detail = f"{collection}: {len(ids)} id(s) asked, {deleted} deleted"
        elif isinstance(expr, str) and expr.strip():
            wanted = _filter(expr)
            deleted = await call(lambda: store.delete_matching(db, collection, wanted), f"delete from {collection!r}")
            entry.detail = f"{collection}: {expr}, {deleted} deleted"
        else:
            raise BridgeError(400, "a delete needs ids (a non-empty list) or expr (key == \"value\" terms)")
        return {"delete_count": deleted}

    async def search(request: Request, entry: _Entry) -> Any:
        body = await _body(request)
        db, collection = database(_collection_name(body), entry)
        vector, top_k, expr = vector_of(body.get("vector"), "vector"), body.get("top_k", 10), body.get("expr") or ""
        if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
            raise BridgeError(400, f"top_k must be a whole number of at least 1, got {top_k!r}")
        if not isinstance(expr, str):
            raise BridgeError(400, f"expr must be text (key == \"value\" terms), got {expr!r:.40}")
        wanted = _filter(expr) if expr.strip() else {}
        outcome = await call(lambda: store.search(db, collection, vector, top_k, wanted), f"search {collection!r}")
        entry.detail = "; ".join([f"{collection}: top_k {top_k}{f', {expr}' if expr else ''}, "
                                  f"{len(outcome.hits)} hit(s)", *outcome.notes])
        return {"results": outcome.hits}

    async def list_collections(request: Request, entry: _Entry) -> Any:
        databases = context.models(["database"])
        entry.model = ",".join(db.name for db in databases)
        names = [name if index == 0 else f"{db.name}/{name}" for index, db in enumerate(databases)
                 if isinstance(db, DatabaseClient) for name in store.collections(db)]
        return {"collections": names}

    async def create_collection(request: Request, entry: _Entry) -> Any:
        body = await _body(request)
        db, collection = database(_collection_name(body), entry)
        dimension = body.get("dimension")
        if not isinstance(dimension, int) or isinstance(dimension, bool) or dimension < 1:
            raise BridgeError(400, f"dimension must be a whole number of at least 1, got {dimension!r}")
        await call(lambda: store.create(db, collection, dimension), f"create {collection!r}")
        return {"collection_name": collection, "dimension": dimension}

    async def describe_collection(request: Request, entry: _Entry) -> Any:
        db, collection = database(request.path_params["name"], entry)
        dimension = store.dimension(db, collection)
        if dimension is None:
            raise BridgeError(404, f"this bridge knows no collection {collection!r} of {db.name!r} (it knows those "
                              "it created or that an upsert or search reached)")
        return {"collection_name": collection, "dimension": dimension}

    async def drop_collection(request: Request, entry: _Entry) -> Any:
        db, collection = database(request.path_params["name"], entry)
        await call(lambda: store.drop(db, collection), f"drop {collection!r}")
        return {"collection_name": collection}

    return [
        Route("/api/v1/entities", endpoint("upsert", upsert), methods=["POST"]),
        Route("/api/v1/entities", endpoint("delete", delete), methods=["DELETE"]),
        Route("/api/v1/search", endpoint("search", search), methods=["POST"]),
        Route("/api/v1/collections", endpoint("list collections", list_collections), methods=["GET"]),
        Route("/api/v1/collections", endpoint("create collection", create_collection), methods=["POST"]),
        Route("/api/v1/collections/{name:path}", endpoint("describe collection", describe_collection),
              methods=["GET"]),
        Route("/api/v1/collections/{name:path}", endpoint("drop collection", drop_collection), methods=["DELETE"]),
    ]


async def _body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a 400."""
    try:
        body = json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BridgeError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BridgeError(400, f"the body must be a JSON object, got {type(body).__name__}")
    return body


def _collection_name(body: dict[str, Any]) -> str:
    name = body.get("collection_name")
    if not isinstance(name, str) or not name:
        raise BridgeError(400, "collection_name (text) is required")
    return name


def _filter(expr: str) -> dict[str, str]:
    try:
        return filters.parse(expr)
    except filters.FilterError as exc:
        raise BridgeError(400, str(exc)) from None
