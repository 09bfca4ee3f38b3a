#!/usr/bin/env python3
"""Providers that raise in every method. Usage: failing.py llm|database|embedder"""

import sys

from hector_nb import sdk


class Boom(Exception):
    pass


def fail(*_args):
    raise Boom("provider exploded")


class FailingLLM(sdk.LLMProvider):
    initialize = shutdown = health = generate = get_model_info = fail

    def generate_streaming(self, messages, tools):
        yield "partial "
        raise Boom("stream exploded")


class FailingDB(sdk.DatabaseProvider):
    initialize = shutdown = health = fail
    upsert = search = delete = create_collection = delete_collection = fail


class FailingEmbedder(sdk.EmbedderProvider):
    initialize = shutdown = health = embed = get_embedder_info = fail


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "llm":
        sdk.serve_llm_plugin(FailingLLM())
    elif kind == "database":
        sdk.serve_database_plugin(FailingDB())
    else:
        sdk.serve_embedder_plugin(FailingEmbedder())
