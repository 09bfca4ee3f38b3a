"""hector.py: the facts of real Hector (CONTRACT section 5) as data, and the warning helper."""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
import warnings
from pathlib import Path

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


#: CONTRACT section 5 (second run): parameter -> its JSON Schema type, default and enum, as Hector declares them.
CONTRACT_PARAMETERS = {
    ("grep_search", "context_lines"): ("number", 2, None), ("grep_search", "max_results"): ("number", 100, None),
    ("grep_search", "case_insensitive"): ("boolean", False, None), ("grep_search", "path"): ("string", ".", None),
    ("grep_search", "recursive"): ("boolean", True, None),
    ("read_file", "start_line"): ("number", None, None), ("read_file", "end_line"): ("number", None, None),
    ("read_file", "line_numbers"): ("boolean", True, None),
    ("search", "limit"): ("number", 10, None),
    ("search", "type"): ("string", "content", ["content", "file", "function", "struct"]),
    ("apply_patch", "context_validation"): ("boolean", True, None),
    ("search_replace", "replace_all"): ("boolean", False, None), ("write_file", "backup"): ("boolean", True, None),
    ("web_request", "method"): ("string", None, ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
}


def test_hector_declares_number_boolean_enum_and_default_parameters_and_so_does_hector_nb():
    schemas = {tool.name: json.loads(tool.parameters_json)["properties"] for tool in hector.agent_tools()}
    for (tool, parameter), (kind, default, enum) in CONTRACT_PARAMETERS.items():
        declared = schemas[tool][parameter]
        assert (declared["type"], declared.get("default"), declared.get("enum")) == (kind, default, enum), \
            (tool, parameter)
    integers = [(t, p) for t, properties in schemas.items() for p, s in properties.items() if s["type"] == "integer"]
    assert integers == []  # Hector never declares "integer"


def test_agent_messages_have_hectors_shape():
    messages = hector.agent_messages("what is the capital of France?")
    assert [m.role for m in messages] == ["ROLE_UNSPECIFIED", "ROLE_UNSPECIFIED", "ROLE_USER"]
    system, tool_list, user = (m.content for m in messages)
    assert 19_000 <= len(system) <= 19_600
    assert system == hector.agent_system_prompt()  # deterministic
    assert tool_list.startswith("\nAVAILABLE TOOLS:\n")
    assert 850 <= len(tool_list) <= 1_300
    assert all(name in tool_list for name in CONTRACT_TOOLS)
    assert user == "what is the capital of France?"
    assert hector.agent_messages("hi", system_prompt="be brief")[0].content == "be brief"
    request = hector.agent_request("hi")
    assert len(request.messages) == 3 and len(request.tools) == 10
    assert not any(m.tool_calls or m.tool_call_id for m in request.messages)


def test_hector_groups_its_tool_list_by_category_lists_stores_and_todos_and_so_does_hector_nb():
    text = hector.agent_tool_list_text()
    headings = [line for line in text.splitlines() if line.endswith(" tools:")]
    assert headings[0] == "Built-in tools:" and len(headings) == len(hector.TOOL_CATEGORIES)
    grouped = [name for _, names in hector.TOOL_CATEGORIES for name in names]
    assert sorted(grouped) == sorted(CONTRACT_TOOLS)
    assert "DOCUMENT STORES" not in text and "<current_todos>" not in text
    assert text.rstrip().splitlines()[-1].startswith("MEMORY")  # it ends with a paragraph about memory
    with_stores = hector.agent_tool_list_text(stores=["docs", "wiki"])
    assert "- docs\n- wiki" in with_stores
    todo = {"id": "1", "content": "book a train", "status": "in_progress"}
    call = sdk.ToolCall(id="c", name="todo_write", arguments_json=json.dumps({"merge": False, "todos": [todo]}))
    followup = hector.agent_followup("plan a trip", [call])
    todos = followup.messages[1].content
    assert "<current_todos>\n- [in_progress] 1: book a train\n</current_todos>" in todos


def test_hector_sends_five_messages_after_a_unary_tool_call_and_so_does_hector_nb():
    call = sdk.ToolCall(id="c", name="read_file", arguments_json='{"path": "a.txt"}')
    request = hector.agent_followup("what is in a.txt?", [call])
    assert [m.role for m in request.messages] == ["ROLE_UNSPECIFIED", "ROLE_UNSPECIFIED", "ROLE_USER",
                                                  "ROLE_AGENT", "ROLE_AGENT"]
    assert [m.content for m in request.messages[3:]] == ["", ""]  # the model's turn and the tool result: empty
    assert "<current_todos>" not in request.messages[1].content and len(request.tools) == 10


def test_hector_adds_a_context_message_with_include_context_read_from_content_and_so_does_hector_nb():
    hits = [sdk.SearchResult(id="1", score=0.9, content="Paris is the capital.", metadata={"content": "other"})]
    messages = hector.agent_messages("capital?", context=hits)
    assert [m.role for m in messages] == ["ROLE_UNSPECIFIED"] * 3 + ["ROLE_USER"]
    assert "Paris is the capital." in messages[2].content and "other" not in messages[2].content


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


def test_document_store_metadata_has_hectors_21_keys():
    metadata = hector.document_metadata("Paris is the capital.", "docs/france.md", chunk_index=2, chunk_total=5,
                                        store="kb", modified=1700000000)
    assert tuple(metadata) == hector.DOCUMENT_METADATA_KEYS and len(metadata) == 21
    assert all(isinstance(v, str) for v in metadata.values())
    assert metadata["content"] == "Paris is the capital." and metadata["rel_path"] == "docs/france.md"
    assert metadata["title"] == "france.md" and metadata["name"] == "france.md"  # with its extension
    assert metadata["collection"] == metadata["store_name"] == "kb"
    assert metadata["last_modified"] == "1700000000"  # Unix seconds
    assert metadata["chunk_index"] == "2" and metadata["chunk_total"] == "5"


def test_hector_makes_deterministic_version_3_ids_and_so_does_hector_nb():
    # By hand, from the formula: uuid.NewMD5(uuid.Nil, md5.Sum("{store}:{relative path}:chunk:{index}")),
    # i.e. MD5 over the nil namespace's 16 zero bytes and the 16-byte digest, version 3, RFC 4122 variant.
    digest = hashlib.md5(b"docs:guide/intro.md:chunk:0").digest()
    hashed = bytearray(hashlib.md5(bytes(16) + digest).digest())
    hashed[6] = (hashed[6] & 0x0F) | 0x30
    hashed[8] = (hashed[8] & 0x3F) | 0x80
    by_hand = str(uuid.UUID(bytes=bytes(hashed)))
    assert hector.document_id("docs", "guide/intro.md", 0) == by_hand
    assert uuid.UUID(by_hand).version == 3
    assert hector.document_id("docs", "guide/intro.md", 1) != by_hand != hector.document_id("kb", "guide/intro.md", 0)


def test_hector_filters_on_collection_then_drops_hits_below_its_threshold_and_so_does_hector_nb():
    assert hector.search_top_k(10) == 20
    results = [sdk.SearchResult(id=str(i), score=1 - i / 5, metadata={"collection": "en" if i % 2 else "fr"})
               for i in range(6)]
    assert [r.id for r in hector.select_hits(results, 2, {"collection": "en"})] == ["1"]  # "3" scores 0.4, below 0.5
    assert [r.id for r in hector.select_hits(results, 3)] == ["0", "1", "2"]
    assert [r.id for r in hector.select_hits(results, 9, threshold=0)] == [str(i) for i in range(6)]
    assert hector.SEARCH_THRESHOLD == 0.5 and hector.dropped_hits(results) == 3
    assert hector.hector_keeps(0.5) and not hector.hector_keeps(0.49) and hector.hector_keeps(-3, threshold=0)


def test_the_fidelity_docs_table_says_what_the_fidelity_module_says():
    page = (Path(__file__).resolve().parents[2] / "docs" / "fidelity.md").read_text()
    section = page[page.index("## The table"):]
    assert hector.fidelity_table_markdown() in section, "docs/fidelity.md's table drifted from hector.FIDELITY_TABLE"
    table = hector.fidelity_table_markdown()
    for fact in (f"default {hector.SEARCH_THRESHOLD:g}", 'metadata["content"]',
                 "`SearchResult.content`", "without a deadline", "every good plugin is loaded",
                 "never shown, at any log level", "Hector's own log has no trace"):
        assert fact in table, fact


def test_name_required_message_is_hectors():
    assert hector.name_required_message("llm_providers", "x") == \
        "LLM provider plugin 'x' validation failed: plugin name is required"


WARNINGS = [
    (lambda: hector.warn_dropped_config("p", {"temperature": 0.7}), hector.CAUSE_DROPPED_CONFIG,
     r'^p: Hector drops non-string config: temperature=0.7 never reaches Initialize; quote it \("0.7"\) in '
     r"hector.yaml, and here too \(config=\{'temperature': '0.7'\}; --set values are text already\)$"),
    (lambda: hector.warn_missing_required("p", ["api_key"]), hector.CAUSE_REQUIRED_KEY,
     r"^p: Hector ignores config_schema .* required api_key; set it under config: in hector.yaml"),
    (lambda: hector.warn_default_not_applied("p", {"prefix": "Echo: "}), hector.CAUSE_DEFAULT_NOT_APPLIED,
     r"^p: Hector ignores config_schema defaults: prefix='Echo: ' is not sent to Initialize; unless the plugin "
     r"applies it itself \(hector_nb's SDK applies a provider's config_defaults\), set it under config:"),
    (lambda: hector.warn_config_key_differs("p", "real"), hector.CAUSE_CONFIG_KEY_NAME,
     r"^p: Hector unloads plugins by manifest name \('real'\).*; name the hector.yaml entry 'real'$"),
    (lambda: hector.warn_refused_config("p", "llm 'p' not found (available: [])", "point the agent elsewhere"),
     hector.CAUSE_REFUSED_CONFIG + ":llm 'p' not found (available: [])",
     r"^p: Hector refuses to start with this hector.yaml: \"llm 'p' not found \(available: \[\]\)\"; point"),
    (lambda: hector.warn_below_threshold("p", [sdk.SearchResult(id="a", score=-1.0)]), hector.CAUSE_SEARCH_THRESHOLD,
     r"^p: Hector's document store drops hits scoring below search.threshold \(0.5\): 1 of 1 hits .*-1\b"),
    (lambda: hector.warn_tool_result_not_sent("p"), hector.CAUSE_TOOL_RESULT,
     r"^p: Hector passes a tool's result to a plugin LLM as a ROLE_AGENT message with empty content"),
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


def test_the_threshold_warning_comes_exactly_when_hector_drops_a_hit():
    def hits(*scores):
        return [sdk.SearchResult(id=str(n), score=score) for n, score in enumerate(scores)]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        assert hector.warn_below_threshold("kept", hits(0.9, 0.5, 0.7)) is False  # none dropped
        assert hector.warn_below_threshold("kept", hits(0.9, 0.8), threshold=0.85) is True
        # A NaN score is never kept (as dropped_hits counts it), wherever it stands among high ones.
        nan = hits(0.9, math.nan, 0.8)
        assert hector.dropped_hits(nan) == 1 and hector.warn_below_threshold("nan", nan) is True
        assert hector.warn_below_threshold("none", hits(0.1), threshold=0) is False
    assert [w.message.plugin for w in caught] == ["kept", "nan"]


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
