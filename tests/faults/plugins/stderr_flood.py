"""An LLM plugin that writes argv[1] megabytes to stderr without a newline when initialized."""

import os

from hector_nb.sdk import GenerateResponse, LLMProvider, serve_llm_plugin

CHUNK = b"x" * (1024 * 1024)


class Flood(LLMProvider):
    name = "flood"

    def initialize(self, config):
        for _ in range(int(config.get("megabytes", "64"))):
            os.write(2, CHUNK)  # fd 2: the host's stderr pipe, not the GRPCStdio stream
        os.write(2, b"\nflood done\n")

    def generate(self, messages, tools):
        return GenerateResponse(text="ok")


if __name__ == "__main__":
    serve_llm_plugin(Flood())
