"""An LLM plugin whose streams all wait for one another: each yields once ``streams`` (config) are running at
once, then waits to be released by a Health call (or for ``hold`` seconds), then ends."""

import threading

from hector_nb.sdk import LLMProvider, serve_llm_plugin


class Busy(LLMProvider):
    name = "busy"

    def initialize(self, config):
        self.expected = int(config.get("streams", "64"))
        self.hold = float(config.get("hold", "30"))
        self.running = 0
        self.together = threading.Condition()
        self.released = threading.Event()
        self.shut_down = threading.Event()

    def generate_streaming(self, messages, tools):
        with self.together:
            self.running += 1
            self.together.notify_all()
            self.together.wait_for(lambda: self.running >= self.expected, timeout=60)
            at_once = self.running
        yield f"{at_once} at once"
        self.released.wait(self.hold)
        yield " released"

    def health(self):
        self.released.set()
        return True

    def shutdown(self):
        self.shut_down.set()
        print("shutdown called", flush=True)


if __name__ == "__main__":
    serve_llm_plugin(Busy())
