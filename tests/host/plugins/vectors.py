"""A database and an embedder in one script: vectors.py database|embedder."""

import sys

import numpy as np

from hector_nb.sdk import (
    DatabaseProvider,
    EmbedderInfo,
    EmbedderProvider,
    SearchResult,
    serve_database_plugin,
    serve_embedder_plugin,
)


class ListDB(DatabaseProvider):
    def initialize(self, config):
        self.data = {}

    def create_collection(self, collection, vector_size):
        self.data[collection] = {}

    def delete_collection(self, collection):
        del self.data[collection]

    def upsert(self, collection, id, vector, metadata):
        self.data[collection][id] = (np.asarray(vector), metadata)

    def search(self, collection, vector, top_k):
        query = np.asarray(vector)
        rows = sorted(self.data[collection].items(), key=lambda kv: -float(kv[1][0] @ query))
        return [SearchResult(id=id, score=float(v @ query), metadata=m) for id, (v, m) in rows[:top_k]]

    def delete(self, collection, id):
        del self.data[collection][id]


class LengthEmbedder(EmbedderProvider):
    def embed(self, text):
        return [float(len(text)), float(text.count(" "))]

    def get_embedder_info(self):
        return EmbedderInfo(model_name="length", dimension=2)


if __name__ == "__main__":
    if sys.argv[1:] == ["embedder"]:
        serve_embedder_plugin(LengthEmbedder())
    else:
        serve_database_plugin(ListDB())
