#!/usr/bin/env python3
"""An embedder plugin that returns a numpy array: letter counts of a, b, c."""

import numpy as np

from hector_nb.sdk import EmbedderInfo, EmbedderProvider, serve_embedder_plugin


class LetterCounts(EmbedderProvider):
    def embed(self, text):
        return np.array([text.count("a"), text.count("b"), text.count("c")], dtype=np.float32)

    def get_embedder_info(self):
        return EmbedderInfo(model_name="letters", dimension=3)

    def health(self):
        return (True, "counting")


if __name__ == "__main__":
    serve_embedder_plugin(LetterCounts())
