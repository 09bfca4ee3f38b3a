#!/usr/bin/env python3
"""An LLM plugin written with the SDK, as a user would (the README example)."""

import sys

from hector_nb.sdk import (
    CHUNK_TYPE_TOOL_CALL,
    GenerateResponse,
    LLMProvider,
    ModelInfo,
    StreamChunk,
    ToolCall,
    serve_llm_plugin,
)


class MyLLM(LLMProvider):
    name = "my-llm"
    version = "1.2.3"
    description = "echoes"
    config_optional = ("prefix", "delay")
    config_defaults = {"prefix": "Echo: "}
    capabilities = {"function_calling": True}

    def initialize(self, config):
        self.prefix = config["prefix"]
        self.delay = float(config.get("delay", "0"))
        self.closed = False

    def generate(self, messages, tools):
        print("generate called with", len(messages), "messages")
        print("a warning", file=sys.stderr)
        return GenerateResponse(text=self.prefix + messages[-1].content, tokens_used=3)

    def generate_streaming(self, messages, tools):
        try:
            for word in messages[-1].content.split():
                yield word + " "
                if self.delay:
                    import time

                    time.sleep(self.delay)
            if tools:
                yield StreamChunk(type=CHUNK_TYPE_TOOL_CALL, tool_call=ToolCall(id="1", name=tools[0].name))
        finally:
            print("stream closed")

    def get_model_info(self):
        return ModelInfo(model_name="my-llm", max_tokens=4096, temperature=0.7)

    def shutdown(self):
        print("shutdown called")


if __name__ == "__main__":
    serve_llm_plugin(MyLLM())
