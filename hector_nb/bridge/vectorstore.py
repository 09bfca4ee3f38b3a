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

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..host.clients import DatabaseClient
from . import filters
from .context import BridgeContext
from .exchange import Exchange, endpoint
from .failures import BridgeError
from .fields import invalid, optional, read_object, required
from .ollama import error_response
from .store import VectorStore, rows_of, vector_of

#: The ``api`` column of the request log for this dialect.
API = "milvus"


def routes(context: BridgeContext) -> list[BaseRoute]:
    """The dialect's routes over ``context``'s served databases."""
    store = VectorStore()

    def route(operation: str, handler: Callable[[Request, Exchange], Awaitable[Any]]
              ) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request, exchange: Exchange) -> Response:
            return JSONResponse(await handler(request, exchange))

        return endpoint(context, API, operation, error_response, answer)

    def database(collection_name: str, exchange: Exchange) -> tuple[DatabaseClient, str]:
        """The served database and its collection that ``collection_name`` names."""
        databases = context.models(["database"])
        if not databases:
            raise BridgeError(404, "this bridge serves no vector database; serve one (a database provider's "
                              "name among those given to serve)")
        prefix, slash, rest = collection_name.partition("/")
        client = next((db for db in databases if slash and rest and db.name == prefix), None)
        db, collection = (client, rest) if client is not None else (databases[0], collection_name)
        assert isinstance(db, DatabaseClient)  # models(["database"]) holds database clients only
        exchange.model, exchange.detail = db.name, collection
        return db, collection

    async def upsert(request: Request, exchange: Exchange) -> Any:
        body = await read_object(request)
        db, collection = database(_collection_name(body), exchange)
        rows = rows_of(body.get("data"))
        created = await exchange.call(lambda: store.upsert(db, collection, rows), f"upsert into {collection!r}")
        exchange.detail = f"{collection}: {len(rows)} row(s), {rows[0].id}{' (collection created)' if created else ''}"
        return {"upsert_count": len(rows), "collection_created": created}

    async def delete(request: Request, exchange: Exchange) -> Any:
        body = await read_object(request)
        db, collection = database(_collection_name(body), exchange)
        ids, expr = body.get("ids"), body.get("expr")
        if isinstance(ids, list) and ids:
            deleted = await exchange.call(lambda: store.delete_ids(db, collection, ids), f"delete from {collection!r}")
            exchange.detail = f"{collection}: {len(ids)} id(s) asked, {deleted} deleted"
        elif isinstance(expr, str) and expr.strip():
            wanted = _filter(expr)
            deleted = await exchange.call(lambda: store.delete_matching(db, collection, wanted),
                                          f"delete from {collection!r}")
            exchange.detail = f"{collection}: {expr}, {deleted} deleted"
        else:
            raise BridgeError(400, "a delete needs ids (a non-empty list) or expr (key == \"value\" terms)")
        return {"delete_count": deleted}

    async def search(request: Request, exchange: Exchange) -> Any:
        body = await read_object(request)
        db, collection = database(_collection_name(body), exchange)
        vector = vector_of(body.get("vector"), "vector")
        top_k, expr = optional(body, "top_k", int, 10), optional(body, "expr", str, "")
        if top_k < 1:
            raise invalid("top_k", f"must be at least 1, not {top_k}")
        wanted = _filter(expr) if expr.strip() else {}
        outcome = await exchange.call(lambda: store.search(db, collection, vector, top_k, wanted),
                                      f"search {collection!r}")
        exchange.detail = "; ".join([f"{collection}: top_k {top_k}{f', {expr}' if expr else ''}, "
                                  f"{len(outcome.hits)} hit(s)", *outcome.notes])
        return {"results": outcome.hits}

    async def list_collections(request: Request, exchange: Exchange) -> Any:
        databases = context.models(["database"])
        exchange.model = ",".join(db.name for db in databases)
        names = [name if index == 0 else f"{db.name}/{name}" for index, db in enumerate(databases)
                 if isinstance(db, DatabaseClient) for name in store.collections(db)]
        return {"collections": names}

    async def create_collection(request: Request, exchange: Exchange) -> Any:
        body = await read_object(request)
        db, collection = database(_collection_name(body), exchange)
        dimension = required(body, "dimension", int)
        if dimension < 1:
            raise invalid("dimension", f"must be at least 1, not {dimension}")
        await exchange.call(lambda: store.create(db, collection, dimension), f"create {collection!r}")
        return {"collection_name": collection, "dimension": dimension}

    async def describe_collection(request: Request, exchange: Exchange) -> Any:
        db, collection = database(request.path_params["name"], exchange)
        dimension = store.dimension(db, collection)
        if dimension is None:
            raise BridgeError(404, f"this bridge knows no collection {collection!r} of {db.name!r} (it knows those "
                              "it created or that an upsert or search reached)")
        return {"collection_name": collection, "dimension": dimension}

    async def drop_collection(request: Request, exchange: Exchange) -> Any:
        db, collection = database(request.path_params["name"], exchange)
        await exchange.call(lambda: store.drop(db, collection), f"drop {collection!r}")
        return {"collection_name": collection}

    return [
        Route("/api/v1/entities", route("upsert", upsert), methods=["POST"]),
        Route("/api/v1/entities", route("delete", delete), methods=["DELETE"]),
        Route("/api/v1/search", route("search", search), methods=["POST"]),
        Route("/api/v1/collections", route("list collections", list_collections), methods=["GET"]),
        Route("/api/v1/collections", route("create collection", create_collection), methods=["POST"]),
        Route("/api/v1/collections/{name:path}", route("describe collection", describe_collection),
              methods=["GET"]),
        Route("/api/v1/collections/{name:path}", route("drop collection", drop_collection), methods=["DELETE"]),
    ]


def _collection_name(body: dict[str, Any]) -> str:
    name: str = required(body, "collection_name", str)
    if not name:
        raise invalid("collection_name", "must not be empty")
    return name


def _filter(expr: str) -> dict[str, str]:
    try:
        return filters.parse(expr)
    except filters.FilterError as exc:
        raise BridgeError(400, str(exc)) from None
