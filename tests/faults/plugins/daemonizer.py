"""An LLM plugin that leaves a daemon at initialize: a child in a session of its own (``setsid``), outside the
plugin's process group, holding the plugin's stdout and stderr; it writes the daemon's pid to config ``pid_file``.
With config ``scrub: "yes"`` the daemon also starts with an empty environment (as some daemons do)."""

import subprocess
import sys
from pathlib import Path

from hector_nb.sdk import GenerateResponse, LLMProvider, serve_llm_plugin


class Daemonizer(LLMProvider):
    name = "daemonizer"

    def initialize(self, config):
        env = {} if config.get("scrub") == "yes" else None
        daemon = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True,
                                  env=env)
        Path(config["pid_file"]).write_text(str(daemon.pid))

    def generate(self, messages, tools):
        return GenerateResponse(text="ok")


if __name__ == "__main__":
    serve_llm_plugin(Daemonizer())
