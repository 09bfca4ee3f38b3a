"""``%hector serve`` in a real IPython shell, and ``python -m hector_nb serve`` as a process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from IPython.core.error import UsageError
from ipython_shell import extension_shell

import hector_nb

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_CELL = '''
from hector_nb import sdk

class Shout(sdk.LLMProvider):
    def generate(self, messages, tools):
        return sdk.GenerateResponse(text=messages[-1].content.{method}())
'''


def chat(url: str, model: str, text: str) -> str:
    body = {"model": model, "stream": False, "messages": [{"role": "user", "content": text}]}
    return httpx.post(url + "/api/chat", json=body, timeout=30).json()["message"]["content"]


def test_serve_magic_prints_the_config_and_picks_up_a_provider_cell_run_again(capsys):
    with extension_shell() as ip:
        ip.run_cell_magic("hector", "provider --name shout", PROVIDER_CELL.format(method="upper"))
        ip.run_line_magic("hector", "load builtin:hashing")
        ip.run_line_magic("hector", "serve shout,hashing")
        printed = capsys.readouterr().out
        url = re.search(r"at (http://127\.0\.0\.1:\d+)\n", printed).group(1)
        assert printed.splitlines() == [
            f"Serving shout (LLM) and hashing (embedder) at {url}",
            f"  Hector v1:  llms: {{shout: {{type: ollama, host: {url}, model: shout}}}}",
            f"  Hector v2:  llms: {{shout: {{provider: ollama, base_url: {url}, model: shout, "
            "thinking: {enabled: true}}}",
            f"  Hector v1:  embedders: {{hashing: {{type: ollama, host: {url}, model: hashing, dimension: 256}}}}",
            f"  Hector v2:  embedders: {{hashing: {{provider: ollama, base_url: {url}, model: hashing, "
            "dimension: 256}}",
            f"  OpenAI API: base_url {url}/v1"]
        assert chat(url, "shout", "hello") == "HELLO"
        ip.run_cell_magic("hector", "provider --name shout", PROVIDER_CELL.format(method="title"))
        assert chat(url, "shout", "hello there") == "Hello There"
        log = ip.run_line_magic("hector", "serve --log")
        assert list(log.columns) == ["time", "api", "model", "operation", "roles", "messages", "tools", "stream",
                                     "latency_ms", "status", "detail"]
        assert list(zip(log.api, log.model, log.roles, log.status, strict=True)) == [
            ("ollama", "shout", "user", 200), ("ollama", "shout", "user", 200)]
        [bridge] = hector_nb.session().bridges
        ip.run_line_magic("hector", "serve --stop")
        assert not bridge.running and capsys.readouterr().out.startswith("Stopped http://127.0.0.1:")
        with pytest.raises(UsageError, match="no bridge is running"):
            ip.run_line_magic("hector", "serve --log")


def test_serving_on_the_same_port_again_replaces_the_bridge():
    with extension_shell() as ip:
        ip.run_line_magic("hector", "load builtin:echo")
        ip.run_line_magic("hector", "serve echo")
        [first] = hector_nb.session().bridges
        port = first.url.rsplit(":", 1)[1]
        ip.run_line_magic("hector", f"serve echo --port {port}")
        [second] = hector_nb.session().bridges
        assert second is not first and not first.running and second.url == first.url


class Served:
    """``python -m hector_nb serve`` running, its printed lines read as they come."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
        self.process = subprocess.Popen([sys.executable, "-m", "hector_nb", "serve", *args], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("Ctrl-C"):
                self.ready.set()
        self.ready.set()

    def url(self) -> str:
        if not self.ready.wait(60) or self.process.poll() is not None:
            self.process.kill()
            pytest.fail(f"serve did not start: {self.lines} {self.process.communicate()[1]}")
        return re.search(r" at (http://\S+)$", self.lines[0]).group(1)

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(60)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def test_the_command_serves_builtins_a_plugin_executable_and_a_class_until_interrupted():
    plugin = ROOT / "hector_nb" / "providers" / "plugins" / "echo.plugin.yaml"
    served = Served(str(plugin), "--name", "shout", "--set", "prefix=Hi ")
    url = served.url()
    assert served.lines[0] == f"Serving shout (LLM) at {url}"
    assert chat(url, "shout", "there") == "Hi there"
    assert served.interrupt() == 0
    assert served.lines[-1] == "Stopping: the bridge, then every plugin."

    served = Served("builtin:hashing", "bridge_providers:Mirror")
    url = served.url()
    assert served.lines[0] == f"Serving hashing (embedder) and mirror (LLM) at {url}"
    assert httpx.post(url + "/api/embeddings", json={"model": "hashing", "prompt": "x"}, timeout=30).json()["embedding"]
    assert '"ROLE_USER"' in chat(url, "mirror", "describe")
    assert served.interrupt() == 0


def test_the_command_refuses_what_it_cannot_serve():
    for args, message in [(["nowhere"], "no plugin executable or .plugin.yaml there"),
                          (["builtin:echo", "builtin:hashing", "--name", "x"], "--name renames one target"),
                          (["builtin:echo", "--host", "0.0.0.0"], "pass an api_key")]:
        result = subprocess.run([sys.executable, "-m", "hector_nb", "serve", *args], capture_output=True, text=True,
                                timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert result.returncode == 1 and message in result.stderr, (args, result.stderr)
