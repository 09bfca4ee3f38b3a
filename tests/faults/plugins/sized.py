"""Providers for size and shape faults: an embedder of text lengths, embedders whose vectors differ in
length for the text "odd", and an LLM whose errors are as long as its config says."""

import os
import sys

from hector_nb.plugin.serve import serve_plugin
from hector_nb.sdk import EmbedderInfo, EmbedderProvider, LLMProvider


class Lengths(EmbedderProvider):
    """The text's length: cheap for texts of a megabyte."""

    name = "lengths"

    def embed(self, text):
        return [float(len(text)), 1.0]

    def get_embedder_info(self):
        return EmbedderInfo(model_name="lengths", dimension=2)


class UnevenEach(EmbedderProvider):
    """Three values per text, two for the text "odd"; no embed_many, so each text is one embed call."""

    name = "uneven"

    def embed(self, text):
        return [1.0, 2.0] if text == "odd" else [1.0, 2.0, 3.0]


class UnevenMany(UnevenEach):
    """embed_many answering one list of rows, with the same fault."""

    name = "uneven-many"

    def embed_many(self, texts):
        return [self.embed(text) for text in texts]


class Wordy(LLMProvider):
    """Raises an error of ``length`` (config) repetitions of ``letter`` (config), in every kind of call."""

    name = "wordy"

    def initialize(self, config):
        self.message = config.get("letter", "x") * int(config.get("length", "1000000"))

    def generate(self, messages, tools):
        raise ValueError(self.message)

    def generate_streaming(self, messages, tools):
        yield "partial"
        raise ValueError(self.message)

    def get_model_info(self):
        raise ValueError(self.message)


if __name__ == "__main__":  # installed under the provider's name, which picks the provider
    name = os.path.basename(sys.argv[0])
    provider = next(cls() for cls in (Lengths, UnevenEach, UnevenMany, Wordy) if cls.name == name)
    serve_plugin(provider, provider.plugin_type)
