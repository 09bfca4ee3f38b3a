"""An LLM plugin whose stream says one word and then waits; started again (a restart), the process waits for a
file ``go`` beside it before it serves, so a test can act while a restart is under way."""

import sys
import threading
import time
from pathlib import Path

from hector_nb.sdk import LLMProvider, serve_llm_plugin


class Held(LLMProvider):
    name = "held"

    def initialize(self, config):
        self.released = threading.Event()

    def generate_streaming(self, messages, tools):
        yield "first"
        self.released.wait(60)
        yield " second"


if __name__ == "__main__":
    here = Path(sys.argv[0]).resolve().parent
    if (here / "started").exists():
        deadline = time.monotonic() + 60
        while not (here / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    (here / "started").touch()
    serve_llm_plugin(Held())
