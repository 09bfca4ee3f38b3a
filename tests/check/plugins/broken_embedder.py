#!/usr/bin/env python3
"""An embedder plugin with one deliberate fault, chosen by argument: ``broken_embedder.py FAULT``.

``good`` has none: characters hashed into 32 buckets, L2-normalised,
deterministic, any Unicode text, zeros for the empty text.
"""

import random
import sys
import time

import numpy as np

from hector_nb import sdk
from hector_nb.plugin import servicers

FAULT = sys.argv[1]
DIMENSION = 32


class GoodEmbedder(sdk.EmbedderProvider):
    name = "broken-embedder"

    def embed(self, text):
        if FAULT == "ascii_only":
            text.encode("ascii")
        if FAULT == "mixes_answers":  # keeps the text in shared state while it works
            self.text = text
            time.sleep(0.01)
            text = self.text
        size = DIMENSION - 1 if FAULT == "info_mismatch" else DIMENSION
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        vector = np.bincount(codes % size, minlength=size).astype(np.float64)
        if FAULT == "random_noise":
            vector += random.random()
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def get_embedder_info(self):
        return sdk.EmbedderInfo(model_name="broken-embedder", dimension=0 if FAULT == "info_zero" else DIMENSION)


_original_embed = servicers.EmbedderServicer.Embed


def _embed_aborts_on_empty(self, request, context):
    if not request.text:
        import grpc

        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "empty text")
    return _original_embed(self, request, context)


if __name__ == "__main__":
    if FAULT == "empty_aborts":
        servicers.EmbedderServicer.Embed = _embed_aborts_on_empty
    sdk.serve_embedder_plugin(GoodEmbedder())
