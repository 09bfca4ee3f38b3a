#!/usr/bin/env python3
"""An LLM plugin whose every method is async; the stream is an async generator.

Config ``marker``: a file the stream writes "closed" to when its generator is
closed (the cancellation tests watch it).
"""

import asyncio
from pathlib import Path

from hector_nb.sdk import (
    CHUNK_TYPE_DONE,
    GenerateResponse,
    LLMProvider,
    ModelInfo,
    StreamChunk,
    serve_llm_plugin,
)


class AsyncLLM(LLMProvider):
    async def initialize(self, config):
        await asyncio.sleep(0)
        self.marker = Path(config["marker"]) if config.get("marker") else None

    async def generate(self, messages, tools):
        await asyncio.sleep(0)
        return GenerateResponse(text=messages[-1].content.upper(), tokens_used=1)

    async def generate_streaming(self, messages, tools):
        text = messages[-1].content
        if text == "forever":
            try:
                n = 0
                while True:
                    yield f"tick{n} "
                    n += 1
                    await asyncio.sleep(0.05)
            finally:
                if self.marker:
                    self.marker.write_text("closed")
        for letter in text:
            yield letter
        yield StreamChunk(type=CHUNK_TYPE_DONE, tokens_used=42)

    async def get_model_info(self):
        return ModelInfo(model_name="async", max_tokens=8, temperature=0.5)

    async def health(self):
        return False


if __name__ == "__main__":
    serve_llm_plugin(AsyncLLM())
