"""The magics behave as Hector by default (one-line warnings saying what to do), as before with
--lenient or %config HectorMagics.fidelity = "lenient"."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from fidelity.recorder import Recorder, fidelity_warnings
from fidelity.support import fresh_warnings, install_noisy
from IPython.core.error import UsageError

import hector_nb
from hector_nb import hector
from hector_nb.display import WidgetView
from hector_nb.providers import builtin_plugin_path


@pytest.fixture
def caught():
    with fresh_warnings() as records:
        yield records


def test_set_values_are_text_and_a_number_from_yaml_is_dropped_with_one_warning(ip, caught, tmp_path):
    # --set means what it means on the command line and to Hector: text, whatever it looks like.
    echo = ip.run_line_magic("hector", "load builtin:echo --name e1 --set prefix=0.7")
    assert echo.generate("hi").text == "0.7hi"
    quoted = ip.run_line_magic("hector", """load builtin:echo --name e2 --set 'prefix="0.7 "'""")
    assert quoted.generate("hi").text == '"0.7 "hi'  # no YAML here: the quotes are part of the text
    assert fidelity_warnings(caught) == []
    # A number reaches a config only from YAML (or Python): Hector drops it, with one warning.
    (tmp_path / "hector.yaml").write_text(
        f"plugins:\n  llm_providers:\n    echo: {{name: echo, path: {builtin_plugin_path('echo')}, "
        "config: {prefix: 0.7}}\n")
    ip.run_line_magic("hector", f"load --config {tmp_path / 'hector.yaml'}")
    assert hector_nb.session().get("echo").generate("hi").text == "hi"
    assert fidelity_warnings(caught) == [
        "echo: Hector drops non-string config: prefix=0.7 never reaches Initialize; quote it (\"0.7\") in "
        "hector.yaml, and here too (config={'prefix': '0.7'}; --set values are text already)"]


def test_the_fidelity_setting_reaches_the_session(ip):
    assert hector_nb.session().fidelity == "hector"
    ip.run_line_magic("config", "HectorMagics.fidelity = 'lenient'")
    try:
        assert hector_nb.session().fidelity == "lenient"
        echo = ip.run_line_magic("hector", "load builtin:echo --set prefix=1")
        assert echo.generate("x").text == "1x"
    finally:
        ip.run_line_magic("config", "HectorMagics.fidelity = 'hector'")
    assert hector_nb.session().fidelity == "hector"


def test_generate_sends_hectors_roles_and_a_whole_agent_request(ip):
    hector_nb.session().add("rec", Recorder(), config={"api_key": "k"})
    reply = ip.run_line_magic("hector", 'generate rec "hi" --system "be brief" --no-stream')
    assert json.loads(reply.text)["roles"] == ["ROLE_UNSPECIFIED", "ROLE_USER"]
    agent = ip.run_line_magic("hector", 'generate rec "what is the capital of France?" --as-agent --no-stream')
    sent = json.loads(agent.text)
    assert sent["roles"] == ["ROLE_UNSPECIFIED", "ROLE_UNSPECIFIED", "ROLE_USER"]
    assert len(sent["tools"]) == 10 and sent["contents"][0] == len(hector.agent_system_prompt())
    ip.run_line_magic("hector", "load builtin:echo")
    streamed = ip.run_line_magic("hector", 'generate echo "hello there" --as-agent')
    assert streamed.text == "hello there" and streamed.tool_calls[0].name == "agent_call"


def test_hector_sends_five_messages_after_a_tool_call_and_generate_simulates_it(ip, caught):
    hector_nb.session().add("rec5", Recorder(), config={"api_key": "k"})
    reply = ip.run_line_magic("hector", 'generate rec5 "read a.txt" --as-agent --tool-result "hello" --no-stream')
    sent = json.loads(reply.text)
    assert sent["roles"] == ["ROLE_UNSPECIFIED", "ROLE_UNSPECIFIED", "ROLE_USER", "ROLE_AGENT", "ROLE_AGENT"]
    assert sent["contents"][2:] == ["read a.txt", "", ""]  # as Hector: the result's text never reaches the plugin
    assert [w for w in fidelity_warnings(caught) if "tool's result" in w] == [
        "rec5: Hector passes a tool's result to a plugin LLM as a ROLE_AGENT message with empty content, so the "
        "result's text was not sent; answer after a trailing ROLE_AGENT message without waiting for its text "
        "(fidelity='lenient' sends the text here)"]
    lenient = ip.run_line_magic("hector", 'load builtin:echo --name loop --lenient')
    assert lenient.generate("x", agent=True, tool_result="hello").tool_calls == []  # echo answers after a result
    with pytest.raises(UsageError, match="--tool-result simulates an agent's follow-up turn: add --as-agent"):
        ip.run_line_magic("hector", 'generate rec5 "x" --tool-result "hello"')
    hector_nb.session().unload("rec5")
    hector_nb.session().add("rec5", Recorder(), config={"api_key": "k"}, fidelity="lenient")
    carried = json.loads(hector_nb.session().llm("rec5").generate("x", agent=True, tool_result="hello").text)
    assert carried["contents"][3:] == ["", "hello"]


def test_a_streamed_tool_call_is_marked_and_warned_once(ip, caught, capsys):
    ip.run_line_magic("hector", "load builtin:echo")
    ip.user_ns["tools"] = [{"name": "lookup", "parameters_json": "{}"}]
    for _ in range(2):
        ip.run_line_magic("hector", 'generate echo "weather in Oslo" --tools tools')
    printed = capsys.readouterr().out
    assert printed.count(f"[tool call, {hector.STREAM_TOOL_CALL_NOTE}] lookup(") == 2
    assert [w for w in fidelity_warnings(caught) if "TOOL_CALL" in w] == [
        "echo: Hector drops TOOL_CALL chunks in streams; tool calls reach an agent only through unary Generate; "
        "return tool calls from generate() (agents call it with reasoning: {enable_streaming: false})"]


def test_the_widget_marks_a_streamed_tool_call(ip, monkeypatch):
    views = []
    original = WidgetView.__init__
    monkeypatch.setattr(WidgetView, "__init__", lambda self: original(self) or views.append(self))
    ip.run_line_magic("config", "HectorMagics.widgets = 'always'")
    try:
        ip.run_line_magic("hector", "load builtin:echo")
        ip.user_ns["tools"] = [{"name": "lookup", "parameters_json": "{}"}]
        ip.run_line_magic("hector", 'generate echo "weather" --tools tools')
        assert hector.STREAM_TOOL_CALL_NOTE in views[0].tools.value
    finally:
        ip.run_line_magic("config", "HectorMagics.widgets = 'auto'")


@pytest.fixture
def noisy(tmp_path) -> Path:
    return install_noisy(tmp_path)


def test_load_refuses_stdout_before_the_handshake_and_lenient_tolerates_it(ip, noisy):
    with pytest.raises(UsageError) as raised:
        ip.run_line_magic("hector", f"load {noisy}")
    message = str(raised.value)
    assert message.startswith("plugin 'noisy', start: printed 'starting...' on stdout before its handshake; "
                              "Hector (go-plugin) refuses such a plugin silently")
    assert "\n" not in message
    assert ip.run_line_magic("hector", f"load {noisy} --lenient").generate("x").text == "served"


def test_upsert_sends_no_create_collection_unless_asked(ip):
    ip.user_ns["frame"] = pd.DataFrame({"text": ["red apples", "blue sky"]})
    ip.run_line_magic("hector", "load builtin:hashing")
    ip.run_line_magic("hector", "load builtin:memory --name mem")
    # The memory database creates the collection on the first upsert, as Hector's document store needs.
    assert ip.run_line_magic("hector", "upsert mem docs --from frame --text-column text --embedder hashing") == 2
    found = ip.run_line_magic("hector", 'search mem docs "apples" --embedder hashing --top-k 1')
    assert list(found["content"]) == ["red apples"]
    # --create calls CreateCollection, and its failure is the provider's own error: nothing is guessed.
    with pytest.raises(UsageError, match="plugin 'mem', create_collection: .*collection 'docs' exists already"):
        ip.run_line_magic("hector", "upsert mem docs --from frame --text-column text --embedder hashing --create")
    assert ip.run_line_magic("hector", "upsert mem fresh --from frame --text-column text --embedder hashing "
                                       "--create") == 2
