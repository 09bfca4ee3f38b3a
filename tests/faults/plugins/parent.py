"""An LLM plugin that starts a child process at initialize (config child: spawn or fork) and can crash."""

import os
import subprocess
import sys
import time

from hector_nb.sdk import GenerateResponse, LLMProvider, serve_llm_plugin


class Parent(LLMProvider):
    name = "parent"

    def initialize(self, config):
        if config.get("child") == "fork":
            pid = os.fork()
            if pid == 0:  # keeps the SDK's SIGTERM handler, so SIGTERM does not stop it
                while True:
                    time.sleep(60)
            self.child = pid
        else:
            self.child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]).pid

    def generate(self, messages, tools):
        if messages[-1].content == "crash":
            os._exit(7)
        return GenerateResponse(text=str(self.child))


if __name__ == "__main__":
    serve_llm_plugin(Parent())
