#!/usr/bin/env python3
"""A vector database plugin with one deliberate fault, chosen by argument: ``broken_db.py FAULT``.

``good`` has none: collections made on first upsert, dimensions checked,
cosine scores best first, ``content`` filled, metadata kept, last write wins.
"""

import os
import sys
import threading
import time

import numpy as np

from hector_nb import sdk

FAULT = sys.argv[1]
if "BROKEN_DB_STARTS" in os.environ:  # tests/check/test_pytest_plugin.py counts the processes a run starts
    with open(os.environ["BROKEN_DB_STARTS"], "a") as starts:
        starts.write(f"{os.getpid()}\n")


class GoodDB(sdk.DatabaseProvider):
    name = "broken-db"

    def initialize(self, config):
        self.collections = {}  # name -> (dimension, {id: (vector, metadata)} or [(id, vector, metadata)])
        self.lock = threading.Lock()

    def create_collection(self, collection, vector_size):
        self.collections.setdefault(collection, (vector_size, {}))

    def delete_collection(self, collection):
        del self.collections[collection]

    def _rows(self, collection, vector, creating):
        if collection not in self.collections:
            if not creating or FAULT == "needs_create":
                raise KeyError(f"no collection {collection!r}")
            self.collections[collection] = (len(vector), {})
        dimension, rows = self.collections[collection]
        if len(vector) != dimension and FAULT != "any_dimension":
            raise ValueError(f"collection {collection!r} holds {dimension}-dimensional vectors, got {len(vector)}")
        return rows

    def upsert(self, collection, id, vector, metadata):
        if FAULT == "not_thread_safe":  # read, think, write back: concurrent writers overwrite each other
            rows = dict(self._rows(collection, vector, creating=True))
            time.sleep(0.02)
            rows[id] = (np.asarray(vector), metadata)
            self.collections[collection] = (self.collections[collection][0], rows)
            return
        with self.lock:
            rows = self._rows(collection, vector, creating=True)
            key = (id, len(rows)) if FAULT == "appends_same_id" else id
            rows[key] = (np.asarray(vector), metadata)

    def delete(self, collection, id):
        with self.lock:
            rows = self.collections[collection][1]
            keys = [key for key in rows if key == id or (isinstance(key, tuple) and key[0] == id)]
            if not keys and FAULT == "delete_missing_fails":
                raise KeyError(f"no id {id!r}")
            if not keys and FAULT == "delete_missing_removes_another" and rows:
                keys = [next(iter(rows))]  # an off-by-one in a hand-kept index
            for key in keys:
                del rows[key]

    def search(self, collection, vector, top_k):
        if collection not in self.collections:
            return []
        rows = self._rows(collection, vector, creating=False)
        if not rows and FAULT == "empty_is_error":
            raise LookupError(f"collection {collection!r} is empty")
        query = np.asarray(vector)
        scored = sorted(((float(v @ query / (np.linalg.norm(v) * np.linalg.norm(query) or 1.0)), key, meta)
                         for key, (v, meta) in rows.items()), key=lambda hit: -hit[0])
        if FAULT == "negated_distance":  # higher is better, but never above 0: Hector's threshold drops all
            scored = sorted(((-float(np.linalg.norm(v - query)), key, meta) for key, (v, meta) in rows.items()),
                            key=lambda hit: -hit[0])
        if FAULT == "unbounded_scores":  # a dot product of unnormalized vectors
            scored = [(10 * score, key, meta) for score, key, meta in scored]
        if FAULT == "unsorted":
            scored.reverse()
        if FAULT == "pads_top_k" and scored:  # fills top_k with empty hits, as an index answering id -1 would
            scored += [(0.0, "", {})] * (top_k - len(scored))
        return [sdk.SearchResult(id=key[0] if isinstance(key, tuple) else key, score=score,
                                 content="" if FAULT == "no_content" else meta.get("content", ""),
                                 metadata=self._metadata(meta))
                for score, key, meta in scored[:top_k]]

    @staticmethod
    def _metadata(meta):
        dropped = {"drops_metadata": set(meta), "no_content_metadata": {"content"}, "drops_path": {"path"}}
        return {key: value for key, value in meta.items() if key not in dropped.get(FAULT, ())}


if __name__ == "__main__":
    sdk.serve_database_plugin(GoodDB())
