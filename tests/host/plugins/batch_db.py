"""A database with upsert_many, which says on stderr how it was called: batch_db.py."""

import sys

from hector_nb.sdk import DatabaseProvider, SearchResult, serve_database_plugin


class BatchDB(DatabaseProvider):
    """Dot-product search over a dict; ``upsert_many`` reports each batch it gets."""

    def initialize(self, config):
        self.rows = {}

    def create_collection(self, collection, vector_size):
        pass

    def upsert(self, collection, id, vector, metadata):
        sys.stderr.write(f"upsert {id}\n")
        self.rows[id] = (list(vector), dict(metadata))

    def upsert_many(self, collection, ids, vectors, metadata):
        refused = [id for id in ids if id.startswith("bad")]
        if refused:
            raise ValueError(f"refusing {refused[0]}")
        sys.stderr.write(f"upsert_many {len(ids)} {type(vectors).__name__} {vectors.shape}\n")
        for id, row, meta in zip(ids, vectors.tolist(), metadata, strict=True):
            self.rows[id] = (row, meta)

    def search(self, collection, vector, top_k):
        scored = sorted(((sum(a * b for a, b in zip(row, vector, strict=False)), id, meta)
                         for id, (row, meta) in self.rows.items()), reverse=True)
        return [SearchResult(id=id, score=score, metadata=meta) for score, id, meta in scored[:top_k]]


if __name__ == "__main__":
    serve_database_plugin(BatchDB())
