"""Providers that return the wrong types (importable, so a plugin process can serve them)."""

from __future__ import annotations

from hector_nb import sdk


class FortyTwoLLM(sdk.LLMProvider):
    name = "forty-two"

    def generate(self, messages, tools):
        return 42

    def get_model_info(self):
        return {"model_name": "not a ModelInfo"}


class NumberSearch(sdk.DatabaseProvider):
    name = "number-search"

    def create_collection(self, collection, vector_size):
        pass

    def search(self, collection, vector, top_k):
        return 42 if collection == "number" else [42]


class TextEmbedder(sdk.EmbedderProvider):
    name = "text-embedder"

    def embed(self, text):
        return "0.1, 0.2"

    def get_embedder_info(self):
        return None
