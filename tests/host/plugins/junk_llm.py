"""Logs its config to stderr; crashes or hangs on request."""

import os
import sys
import time

from hector_nb.sdk import GenerateResponse, LLMProvider, ModelInfo, serve_llm_plugin


class Junk(LLMProvider):
    def initialize(self, config):
        sys.stderr.write(f"initialized with {sorted(config.items())}\n")
        if os.environ.get("JUNK_FAIL_START_MARKER") and os.path.exists(os.environ["JUNK_FAIL_START_MARKER"]):
            raise RuntimeError("refusing to start")

    def generate(self, messages, tools):
        text = messages[-1].content
        if text == "hang":
            time.sleep(600)
        if text == "crash":
            os.write(2, b"about to crash\n")  # fd 2 is still the host's stderr pipe
            os._exit(7)
        return GenerateResponse(text=f"{os.getpid()}:{text}", tokens_used=1)

    def generate_streaming(self, messages, tools):
        yield "first "
        if messages[-1].content == "crash":
            # Crash only once the host has the first chunk (it creates the marker file then): exiting
            # at once could take the chunk, still in gRPC's buffers, down with the process.
            marker = os.environ["JUNK_STREAM_CRASH_MARKER"]
            deadline = time.monotonic() + 60
            while not os.path.exists(marker) and time.monotonic() < deadline:
                time.sleep(0.01)
            os.write(2, b"crashing mid-stream\n")
            os._exit(9)
        yield "second"

    def get_model_info(self):
        return ModelInfo(model_name="junk")


if __name__ == "__main__":
    serve_llm_plugin(Junk())
