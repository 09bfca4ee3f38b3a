"""A provider that answers with what it received: its config, the roles and sizes of the
messages, and the tools. Importable by name, so it also runs as a subprocess plugin."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hector_nb import hector, sdk
from hector_nb.manifest import manifest_from_provider, write_manifest

TESTS = Path(__file__).resolve().parent.parent
#: Every way a Python provider runs: direct calls, the SDK server in a thread, its class as a
#: plugin process, and an executable with its manifest loaded as Hector would.
TRANSPORTS = ["in-kernel", "in-process", "subprocess", "executable"]




class Recorder(sdk.LLMProvider):
    """Answers ``generate`` with a JSON report; its stream also sends one TOOL_CALL when tools are offered."""

    name = "recorder"
    config_required = ("api_key",)
    config_optional = ("temperature", "prefix")
    config_defaults = {"prefix": "> "}

    def initialize(self, config: dict[str, str]) -> None:
        self.config = dict(config)

    def _report(self, messages: list[sdk.Message], tools: list[sdk.ToolDefinition]) -> str:
        return json.dumps({
            "config": self.config,
            "roles": [m.role for m in messages],
            "contents": [m.content if len(m.content) < 200 else len(m.content) for m in messages],
            "tools": [t.name for t in tools],
        })

    def generate(self, messages, tools):
        return sdk.GenerateResponse(text=self._report(messages, tools))

    def generate_streaming(self, messages, tools):
        yield self._report(messages, tools)
        if tools:
            yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_TOOL_CALL,
                                  tool_call=sdk.ToolCall(id="1", name=tools[0].name, arguments_json="{}"))

    def get_model_info(self):
        return sdk.ModelInfo(model_name="recorder")


def install_recorder(directory: Path) -> Path:
    """The recorder as a plugin directory: an executable launcher and its manifest."""
    executable = directory / "recorder"
    executable.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(TESTS)!r})\n"
                          "from fidelity.recorder import Recorder\nfrom hector_nb.sdk import serve_llm_plugin\n"
                          "serve_llm_plugin(Recorder())\n")
    executable.chmod(0o755)
    write_manifest(manifest_from_provider(Recorder), executable)
    return executable


def report(reply) -> dict:
    """The recorder's JSON report, from a GenerateResponse or the text of a stream."""
    return json.loads(reply if isinstance(reply, str) else reply.text)


def fidelity_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, hector.HectorFidelityWarning)]


if __name__ == "__main__":
    sdk.serve_llm_plugin(Recorder())
    sys.exit(0)
