#!/usr/bin/env python3
"""A small in-memory vector database plugin (dot-product scores), written with the SDK."""

from hector_nb.sdk import DatabaseProvider, SearchResult, serve_database_plugin


class TinyDB(DatabaseProvider):
    name = "tiny-db"

    def initialize(self, config):
        self.collections = {}

    def create_collection(self, collection, vector_size):
        self.collections[collection] = {"size": vector_size, "rows": {}}

    def delete_collection(self, collection):
        del self.collections[collection]

    def upsert(self, collection, id, vector, metadata):
        rows = self.collections[collection]
        if len(vector) != rows["size"]:
            raise ValueError(f"expected {rows['size']} dimensions, got {len(vector)}")
        rows["rows"][id] = (vector, metadata)

    def search(self, collection, vector, top_k):
        rows = self.collections[collection]["rows"]
        scored = sorted(
            ((sum(a * b for a, b in zip(v, vector, strict=True)), id, meta)
             for id, (v, meta) in rows.items()),
            reverse=True,
        )
        results = [SearchResult(id=id, score=score, metadata=meta, content=meta.get("text", ""))
                   for score, id, meta in scored[:top_k]]
        # Mappings are accepted as well as SearchResult objects.
        return results[:1] + [dict(id=r.id, score=r.score, metadata=dict(r.metadata), content=r.content)
                              for r in results[1:]]

    def delete(self, collection, id):
        del self.collections[collection]["rows"][id]


if __name__ == "__main__":
    serve_database_plugin(TinyDB())
