"""Starts at once, except while the file named by HELD_START_MARKER exists: then it writes its pid
to HELD_START_PID and waits (up to a minute) for the marker to go before it serves. Crashes on "crash"."""

import os
import sys
import time
from pathlib import Path

from hector_nb.sdk import GenerateResponse, LLMProvider, serve_llm_plugin


class Held(LLMProvider):
    def generate(self, messages, tools):
        if messages[-1].content == "crash":
            os._exit(7)
        return GenerateResponse(text=f"{os.getpid()}:{messages[-1].content}")


if __name__ == "__main__":
    marker = Path(os.environ["HELD_START_MARKER"])
    if marker.exists():
        Path(os.environ["HELD_START_PID"]).write_text(str(os.getpid()))
        deadline = time.monotonic() + 60
        while marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    sys.stdout.flush()
    serve_llm_plugin(Held())
