"""hector.py: the facts of real Hector (CONTRACT section 5) as data, and the warning helper."""

from __future__ import annotations

import json
import random
import re
import uuid
import warnings

import pytest

from hector_nb import hector, sdk
from hector_nb.hector import HectorFidelityWarning

#: CONTRACT section 5: tool -> (required, optional).
CONTRACT_TOOLS = {
    "agent_call": ({"agent", "task"}, set()),
    "apply_patch": ({"path", "old_string", "new_string"}, {"context_validation"}),
    "execute_command": ({"command"}, {"working_dir"}),
    "grep_search": ({"pattern"}, {"case_insensitive", "context_lines", "file_pattern", "max_results", "path",
                                  "recursive"}),
    "read_file": ({"path"}, {"end_line", "line_numbers", "start_line"}),
    "search": ({"query"}, {"language", "limit", "stores", "type"}),
    "search_replace": ({"path", "old_string", "new_string"}, {"replace_all"}),
    "todo_write": ({"merge", "todos"}, set()),
    "web_request": ({"url"}, {"body", "headers", "method"}),
    "write_file": ({"path", "content"}, {"backup"}),
}


@pytest.fixture(autouse=True)
def fresh_warnings():
    hector.forget_warnings()
    yield
    hector.forget_warnings()


def test_fidelity_modes():
    assert hector.fidelity_mode("Hector") == hector.HECTOR
    assert hector.fidelity_mode("lenient") == hector.LENIENT
    with pytest.raises(ValueError, match="'hector'.*'lenient'"):
        hector.fidelity_mode("strict")


def test_agent_tools_match_the_contract():
    tools = hector.agent_tools()
    assert [t.name for t in tools] == sorted(CONTRACT_TOOLS)
    for tool in tools:
        schema = json.loads(tool.parameters_json)
        required, optional = CONTRACT_TOOLS[tool.name]
        assert schema["type"] == "object"
        assert set(schema["required"]) == required
        assert set(schema["properties"]) == required | optional
        assert tool.description
    todos = json.loads(tools[7].parameters_json)["properties"]["todos"]
    assert todos["type"] == "array"
    assert todos["items"]["properties"]["status"]["enum"] == ["pending", "in_progress", "completed", "canceled"]


def test_agent_messages_have_hectors_shape():
    messages = hector.agent_messages("what is the capital of France?")
    assert [m.role for m in messages] == ["ROLE_UNSPECIFIED", "ROLE_UNSPECIFIED", "ROLE_USER"]
    system, tool_list, user = (m.content for m in messages)
    assert 19_000 <= len(system) <= 19_600
    assert system == hector.agent_system_prompt()  # deterministic
    assert tool_list.startswith("\nAVAILABLE TOOLS:\n")
    assert 850 <= len(tool_list) <= 1_000
    assert all(name in tool_list for name in CONTRACT_TOOLS)
    assert user == "what is the capital of France?"
    assert hector.agent_messages("hi", system_prompt="be brief")[0].content == "be brief"
    request = hector.agent_request("hi")
    assert len(request.messages) == 3 and len(request.tools) == 10
    assert not any(m.tool_calls or m.tool_call_id for m in request.messages)


def test_conversation_translates_openai_words():
    messages = hector.conversation(
        "now?", system="be brief",
        history=[("user", "hi"), {"role": "assistant", "content": "hello"}, sdk.Message(role="tool", content="")])
    assert [m.role for m in messages] == ["ROLE_UNSPECIFIED", "ROLE_USER", "ROLE_AGENT", "ROLE_AGENT", "ROLE_USER"]
    with pytest.raises(ValueError, match="unknown message role 'narrator'; use one of ROLE_USER"):
        hector.conversation(history=[("narrator", "x")])


@pytest.mark.parametrize(("role", "hector_role", "openai_role"), [
    ("user", "ROLE_USER", "user"), ("ROLE_USER", "ROLE_USER", "user"), ("role_user", "ROLE_USER", "user"),
    ("assistant", "ROLE_AGENT", "assistant"), ("tool", "ROLE_AGENT", "assistant"),
    ("ROLE_AGENT", "ROLE_AGENT", "assistant"), ("system", "ROLE_UNSPECIFIED", "system"),
    ("ROLE_UNSPECIFIED", "ROLE_UNSPECIFIED", "system"), ("", "ROLE_UNSPECIFIED", "system"),
])
def test_sdk_role_helpers(role, hector_role, openai_role):
    from hector_nb.plugin.roles import normalize_role
    from hector_nb.plugin.roles import openai_role as to_openai

    assert normalize_role(role) == hector_role
    assert to_openai(role) == openai_role


def test_string_config_keeps_only_strings():
    kept, dropped = hector.string_config({"prefix": "x", "temperature": 0.7, "max_tokens": 100, "verbose": True,
                                          "quoted": "0.7", "nothing": None, "list": [1]})
    assert kept == {"prefix": "x", "quoted": "0.7"}
    assert dropped == {"temperature": 0.7, "max_tokens": 100, "verbose": True, "nothing": None, "list": [1]}


@pytest.mark.parametrize(("text", "value"), [
    ("0.7", 0.7), ("100", 100), ("true", True), ("False", False), ("null", None), ("~", None),
    ('"0.7"', "0.7"), ("'true'", "true"), ("Echo: ", "Echo: "), ("", ""), ("yes", "yes"), ("1_000", "1_000"),
    ("nan", "nan"), ("1e3", 1000.0),
])
def test_yaml_value_reads_settings_as_hectors_yaml(text, value):
    assert hector.yaml_value(text) == value and type(hector.yaml_value(text)) is type(value)


@pytest.mark.parametrize(("value", "text"), [
    (True, "true"), (None, "<nil>"), (3, "3"), (0.5, "0.5"), (3.0, "3"), (1e6, "1e+06"), (123456.0, "123456"),
    (1e-5, "1e-05"), (0.0001, "0.0001"), (-1.5e-7, "-1.5e-07"), (1234567.0, "1.234567e+06"), (float("inf"), "+Inf"),
    (["a", 1, False], "[a 1 false]"), ({"b": 2, "a": None}, "map[a:<nil> b:2]"), ("text", "text"),
])
def test_go_text_is_gos_percent_v(value, text):
    assert hector.go_text(value) == text


def test_document_store_pattern():
    metadata = hector.document_metadata("Paris is the capital.", "docs/france.md", chunk_index=2, total_chunks=5)
    assert len(metadata) == len(hector.DOCUMENT_METADATA_KEYS) == 20
    assert metadata["content"] == "Paris is the capital." and metadata["path"] == "docs/france.md"
    assert metadata["title"] == "france" and metadata["chunk_index"] == "2" and metadata["is_chunked"] == "true"
    assert all(isinstance(v, str) for v in metadata.values())
    ids = [hector.document_id(random.Random(7)) for _ in range(2)]
    assert ids[0] == ids[1] and uuid.UUID(ids[0]).version == 4
    assert uuid.UUID(hector.document_id()).version == 4
    assert hector.search_top_k(10) == 20
    results = [sdk.SearchResult(id=str(i), score=1 - i / 10, metadata={"lang": "en" if i % 2 else "fr"})
               for i in range(6)]
    assert [r.id for r in hector.select_hits(results, 2, {"lang": "en"})] == ["1", "3"]
    assert [r.id for r in hector.select_hits(results, 3)] == ["0", "1", "2"]


def test_name_required_message_is_hectors():
    assert hector.name_required_message("llm_providers", "x") == \
        "LLM provider plugin 'x' validation failed: plugin name is required"


WARNINGS = [
    (lambda: hector.warn_dropped_config("p", {"temperature": 0.7}), hector.CAUSE_DROPPED_CONFIG,
     r'^p: Hector drops non-string config: temperature=0.7 never reaches Initialize; quote it \("0.7"\) in '
     r'hector.yaml, and here too \(--set \'temperature="0.7"\' or config=\{\'temperature\': \'0.7\'\}\)$'),
    (lambda: hector.warn_missing_required("p", ["api_key"]), hector.CAUSE_REQUIRED_KEY,
     r"^p: Hector ignores config_schema .* required api_key; set it under config: in hector.yaml"),
    (lambda: hector.warn_default_not_applied("p", {"prefix": "Echo: "}), hector.CAUSE_DEFAULT_NOT_APPLIED,
     r"^p: Hector ignores config_schema defaults: prefix='Echo: ' is not sent to Initialize; unless the plugin "
     r"applies it itself \(hector_nb's SDK applies a provider's config_defaults\), set it under config:"),
    (lambda: hector.warn_config_key_differs("p", "real"), hector.CAUSE_CONFIG_KEY_NAME,
     r"^p: Hector unloads plugins by manifest name \('real'\).*; name the hector.yaml entry 'real'$"),
    (lambda: hector.warn_agent_names_plugin("a", "p"), hector.CAUSE_AGENT_PLUGIN + ":a",
     r"^p: agent 'a' names plugin 'p', but the stock Hector CLI .*; use the plugin from a Go program"),
    (lambda: hector.warn_document_store_names_plugin("docs", "p"), hector.CAUSE_DOCUMENT_STORE_PLUGIN + ":docs",
     r"^p: document store 'docs' names plugin 'p'.*; use the plugin from a Go program"),
    (lambda: hector.warn_stream_tool_call("p"), hector.CAUSE_STREAM_TOOL_CALL,
     r"^p: Hector drops TOOL_CALL chunks in streams; .*; return tool calls from generate\(\)"),
]


@pytest.mark.parametrize(("emit", "cause", "pattern"), WARNINGS)
def test_each_warning_is_one_line_once_per_plugin_and_cause(emit, cause, pattern):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        assert emit() is True
        assert emit() is False
    assert len(caught) == 1
    warning = caught[0].message
    assert isinstance(warning, HectorFidelityWarning) and issubclass(HectorFidelityWarning, UserWarning)
    assert "\n" not in str(warning) and re.search(pattern, str(warning)), str(warning)
    assert (warning.plugin, warning.cause) == ("p", cause)
    assert caught[0].filename == __file__  # points at the caller, not at hector_nb


def test_forgetting_a_plugin_shows_its_warnings_again():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        hector.warn_stream_tool_call("a")
        hector.warn_stream_tool_call("b")
        hector.forget_warnings("a")
        hector.warn_stream_tool_call("a")
        hector.warn_stream_tool_call("b")
    assert [w.message.plugin for w in caught] == ["a", "b", "a"]


def test_the_stdout_message_quotes_the_line_and_says_hector_refuses():
    message = hector.stdout_before_handshake_message("starting...\n")
    assert message.startswith("printed 'starting...' on stdout before its handshake; Hector (go-plugin) refuses")
    assert "lenient" in message
