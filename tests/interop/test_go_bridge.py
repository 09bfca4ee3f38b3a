"""The bridge with Go on either side: the official Go OpenAI client (github.com/openai/openai-go/v3) against a
Python provider, and a Go plugin served to the official Python clients."""

from __future__ import annotations

import json
import shutil
import subprocess

import ollama
import openai
import pytest
from bridge_providers import Mirror, seen

from hector_nb import Session, sdk
from hector_nb.manifest import PluginManifest, write_manifest

pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]


def test_the_go_openai_client_streams_calls_a_tool_and_sends_its_result_back(go_bin):
    with Session(timeout=30) as session:
        session.add("mirror", Mirror())
        with session.serve() as bridge:
            result = subprocess.run([str(go_bin / "bridgeclient"), "-base-url", bridge.url + "/v1", "-model",
                                     "mirror"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["tool_events"] == ["response.created", "response.in_progress", "response.output_item.added",
                                     "response.function_call_arguments.delta",
                                     "response.function_call_arguments.done", "response.output_item.done",
                                     "response.completed"]
    [call] = report["calls"]
    assert call["name"] == "lookup" and json.loads(call["arguments"]) == {"asked": "Find cats"}
    # The call_id the bridge made came back with the tool's result, and the provider saw both.
    turn, result_message = seen(report["after_tool"])["messages"][-2:]
    assert turn["tool_calls"] == [[call["call_id"], "lookup", {"asked": "Find cats"}]]
    assert result_message == {"role": sdk.ROLE_AGENT, "content": "cats purr", "tool_call_id": call["call_id"],
                              "tool_calls": []}
    assert report["streamed"] == "w0 w1 w2 w3 " and report["stream_status"] == "completed"
    for failed in (report["failed_stream"], report["failed"]):
        assert failed.startswith("500 plugin 'mirror', generate") and "mirror failed on purpose" in failed


def test_a_go_plugin_served_to_the_python_clients(go_bin, tmp_path):
    executable = tmp_path / "echollm"
    shutil.copy(go_bin / "echollm", executable)
    write_manifest(PluginManifest(name="go-echo", version="1.0.0", type=sdk.PLUGIN_TYPE_LLM), executable)
    with Session(timeout=30) as session:
        # It prints a line before its handshake, which Hector refuses: lenient fidelity tolerates it.
        session.load(str(executable), fidelity="lenient")
        with session.serve("go-echo") as bridge:
            parts = list(ollama.Client(host=bridge.url).chat(
                model="go-echo", messages=[{"role": "user", "content": "hello from Go"}], stream=True))
            assert "".join(p.message.content for p in parts) == "hello from Go" and parts[-1].done
            with openai.OpenAI(base_url=bridge.url + "/v1", api_key="x", max_retries=0) as client:
                tool = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}
                with client.responses.stream(model="go-echo", input="find it", tools=[tool]) as stream:
                    final = stream.get_final_response()
                assert final.output_text == "find it"
                assert [(item.type, getattr(item, "call_id", None)) for item in final.output] == [
                    ("message", None), ("function_call", "call-1")]
                reply = client.responses.create(model="go-echo", input="say this")
                assert reply.output_text == "Echo: say this"
                with pytest.raises(openai.InternalServerError, match="echo: asked to fail"):
                    client.responses.create(model="go-echo", input="fail")
