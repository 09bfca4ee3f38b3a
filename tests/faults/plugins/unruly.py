"""An LLM plugin that misbehaves as a process before it serves, by MODE (replaced when installed):

- ``child``: starts a child in its process group that holds its stdout and stderr;
- ``daemon``: starts a child in a session of its own (``setsid``) that holds them;
- ``silent``: never prints a handshake, and never exits;
- ``flood``: writes 1.5 GB to stdout without a newline before its handshake.

Each start appends the plugin's pid to the file named by ``UNRULY_STARTS``, and its children's to ``UNRULY_CHILDREN``.
"""

import os
import subprocess
import sys
import time

from hector_nb.sdk import GenerateResponse, LLMProvider, serve_llm_plugin

MODE = "child"


def note(variable, pid):
    with open(os.environ[variable], "a") as record:
        record.write(f"{pid}\n")


class Unruly(LLMProvider):
    name = "unruly"

    def generate(self, messages, tools):
        return GenerateResponse(text="ok")


if __name__ == "__main__":
    note("UNRULY_STARTS", os.getpid())
    if MODE in ("child", "daemon"):  # the child inherits stdout and stderr: the host's pipes
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                                 start_new_session=MODE == "daemon")
        note("UNRULY_CHILDREN", child.pid)
    elif MODE == "silent":
        time.sleep(600)
    elif MODE == "flood":
        chunk = b"x" * (1024 * 1024)
        for _ in range(1536):
            os.write(1, chunk)
        os.write(1, b"\n")
    serve_llm_plugin(Unruly())
