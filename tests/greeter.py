"""A provider importable by name (tests/ is on the path), so it runs on every transport, subprocess included.

Its answer shows whether the config reached it: ``shutdown`` forgets the
greeting, so an answer after a restart proves the config was replayed. It
refuses to initialize while the file named by ``GREETER_REFUSE`` exists (read
at each Initialize, so a test can make a restart fail on any transport).
"""

import os

from hector_nb import sdk


class Greeter(sdk.LLMProvider):
    def initialize(self, config):
        refuse = os.environ.get("GREETER_REFUSE")
        if refuse and os.path.exists(refuse):
            raise RuntimeError("refusing to start")
        self.greeting = config.get("greeting")

    def shutdown(self):
        self.greeting = None

    def generate(self, messages, tools):
        return sdk.GenerateResponse(text=f"{self.greeting} {messages[-1].content}")
