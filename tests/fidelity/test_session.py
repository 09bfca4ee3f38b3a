"""Session and clients behave as Hector by default, and as before with fidelity="lenient",
on every transport: config, roles, a whole agent request, TOOL_CALL chunks in streams."""

from __future__ import annotations

import pytest
from fidelity.recorder import TRANSPORTS, fidelity_warnings, install_recorder, report

from hector_nb import Session, hector, sdk
from hector_nb.errors import InvalidConfig, InvalidInput
from hector_nb.manifest import read_manifest, write_manifest
from hector_nb.sessions import serves_with_sdk

CONFIG = {"api_key": "k", "temperature": 0.7, "verbose": True, "quoted": "0.7"}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_only_string_config_reaches_initialize(start_recorder, fresh_warnings, transport):
    llm = start_recorder(transport, config=CONFIG)
    # prefix: the SDK inside the plugin applies the provider's config_defaults, Hector does not.
    received = {"api_key": "k", "quoted": "0.7", "prefix": "> "}
    assert report(llm.generate("hi"))["config"] == received
    expected = [
        "recorder: Hector drops non-string config: temperature=0.7, verbose=true never reach Initialize; "
        "quote it (\"0.7\") in hector.yaml, and here too (config={'temperature': '0.7'}; --set values are "
        "text already)",
    ]
    # No transport warns about the default: the SDK applies it, in the executable too (its launcher serves through it).
    assert fidelity_warnings(fresh_warnings) == expected
    llm.restart()
    assert report(llm.generate("again"))["config"] == received
    assert len(fidelity_warnings(fresh_warnings)) == len(expected), "a restart replays the config silently"


def test_hector_ignores_defaults_and_hector_nb_warns_only_for_an_executable_that_may_miss_them(session, tmp_path,
                                                                                               fresh_warnings):
    # A shell launcher: hector_nb cannot tell what it runs, so a default it may not apply is worth a warning.
    recorder = install_recorder(tmp_path)
    wrapper = tmp_path / "wrapped"
    wrapper.write_text(f"#!/bin/sh\nexec {recorder} \"$@\"\n")
    wrapper.chmod(0o755)
    write_manifest(read_manifest(recorder), wrapper)
    llm = session.load(wrapper, name="wrapped", config={"api_key": "k"})
    assert report(llm.generate("hi"))["config"] == {"api_key": "k", "prefix": "> "}  # the SDK behind it applied it
    assert fidelity_warnings(fresh_warnings) == [
        "wrapped: Hector ignores config_schema defaults: prefix='> ' is not sent to Initialize; unless the plugin "
        "applies it itself (hector_nb's SDK applies a provider's config_defaults), set it under config: in "
        "hector.yaml"]
    assert serves_with_sdk(recorder) and not serves_with_sdk(wrapper) and not serves_with_sdk(tmp_path / "none")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_missing_required_key_is_a_warning_not_an_error(start_recorder, fresh_warnings, transport):
    llm = start_recorder(transport)
    assert report(llm.generate("hi"))["config"] == {"prefix": "> "}
    assert any("Hector ignores config_schema and initializes the plugin without required api_key; set it "
               "under config: in hector.yaml" in m for m in fidelity_warnings(fresh_warnings))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_lenient_passes_every_scalar_as_text_and_applies_the_schema(session, start_recorder, fresh_warnings,
                                                                    transport):
    llm = start_recorder(transport, config=CONFIG, fidelity="lenient")
    assert report(llm.generate("hi"))["config"] == {"api_key": "k", "temperature": "0.7", "verbose": "true",
                                                    "quoted": "0.7", "prefix": "> "}
    session.unload(llm.name)
    with pytest.raises(InvalidConfig, match=r"plugin 'recorder', configure: required config key\(s\) api_key"):
        start_recorder(transport, fidelity="lenient")
    assert fidelity_warnings(fresh_warnings) == []


def test_session_fidelity_is_checked_and_settable():
    with pytest.raises(ValueError, match="fidelity must be 'hector'"):
        Session(fidelity="loose")
    session = Session()
    assert session.fidelity == "hector"
    session.fidelity = "LENIENT"
    assert session.fidelity == "lenient"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_roles_as_a_hector_agent_sends_them(start_recorder, transport):
    llm = start_recorder(transport, config={"api_key": "k"})
    assert report(llm.generate("hi"))["roles"] == ["ROLE_USER"]
    assert report(llm.generate("hi", system="be brief")) == {
        "config": {"api_key": "k", "prefix": "> "}, "roles": ["ROLE_UNSPECIFIED", "ROLE_USER"],
        "contents": ["be brief", "hi"], "tools": []}
    history = [{"role": "system", "content": "s"}, {"role": "user", "content": "q"},
               sdk.Message(role="assistant", content="a"), ("tool", ""), ("ROLE_USER", "q2")]
    assert report(llm.generate(history))["roles"] == ["ROLE_UNSPECIFIED", "ROLE_USER", "ROLE_AGENT", "ROLE_AGENT",
                                                      "ROLE_USER"]
    streamed = "".join(chunk.text for chunk in llm.stream("hi", system="be brief"))
    assert report(streamed)["roles"] == ["ROLE_UNSPECIFIED", "ROLE_USER"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_whole_agent_request(start_recorder, transport):
    llm = start_recorder(transport, config={"api_key": "k"})
    sent = report(llm.generate("what is the capital of France?", agent=True))
    assert sent["roles"] == ["ROLE_UNSPECIFIED", "ROLE_UNSPECIFIED", "ROLE_USER"]
    system, tool_list, prompt = sent["contents"]
    assert system == len(hector.agent_system_prompt()) and 19_000 <= system <= 19_600
    assert tool_list == len(hector.agent_tool_list_text()) and prompt == "what is the capital of France?"
    assert sent["tools"] == [tool.name for tool in hector.agent_tools()] and len(sent["tools"]) == 10
    mine = report(llm.generate("q", agent=True, system="short", tools=[{"name": "only"}]))
    assert mine["contents"][0] == "short" and mine["tools"] == ["only"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_lenient_passes_roles_as_given(start_recorder, transport):
    llm = start_recorder(transport, config={"api_key": "k"}, fidelity="lenient")
    assert report(llm.generate("hi", system="s"))["roles"] == ["system", "user"]
    assert report(llm.generate([{"role": "assistant", "content": "a"}]))["roles"] == ["assistant"]


def test_an_unknown_role_is_refused_with_the_accepted_words(start_recorder):
    llm = start_recorder("in-kernel", config={"api_key": "k"})
    with pytest.raises(InvalidInput, match="unknown message role 'narrator'; use one of ROLE_USER, ROLE_AGENT"):
        llm.generate([{"role": "narrator", "content": "x"}])


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_tool_call_in_a_stream_is_passed_on_with_one_warning(start_recorder, fresh_warnings, transport):
    llm = start_recorder(transport, config={"api_key": "k"})
    for _ in range(2):
        chunks = list(llm.stream("hi", tools=[{"name": "lookup"}]))
        assert [c.type for c in chunks] == [sdk.CHUNK_TYPE_TEXT, sdk.CHUNK_TYPE_TOOL_CALL, sdk.CHUNK_TYPE_DONE]
    warned = [m for m in fidelity_warnings(fresh_warnings) if "TOOL_CALL" in m]
    assert warned == ["recorder: Hector drops TOOL_CALL chunks in streams; tool calls reach an agent only through "
                      "unary Generate; return tool calls from generate() (agents call it with reasoning: "
                      "{enable_streaming: false})"]


def test_lenient_streams_tool_calls_without_warning(start_recorder, fresh_warnings):
    llm = start_recorder("in-kernel", config={"api_key": "k"}, fidelity="lenient")
    assert len(list(llm.stream("hi", tools=[{"name": "lookup"}]))) == 3
    assert fidelity_warnings(fresh_warnings) == []


@pytest.mark.parametrize("transport", ["in-kernel", "in-process", "subprocess"])
def test_the_echo_builtin_answers_a_hector_agent(session, transport):
    llm = session.load("builtin:echo", transport=transport)
    assert llm.generate("what is the capital of France?", agent=True).text == "what is the capital of France?"
    streamed = [c for c in llm.stream("hello there", system="be brief")]
    assert "".join(c.text for c in streamed) == "hello there"


@pytest.mark.parametrize("builtin", ["echo", "memory", "hashing"])
def test_hector_applies_no_defaults_yet_no_builtin_exported_or_not_warns_with_its_defaults(session, tmp_path,
                                                                                          fresh_warnings, builtin):
    from hector_nb.export import export_provider
    from hector_nb.providers import builtin_class, builtin_plugin_path

    exported = export_provider(builtin_class(builtin), tmp_path / "out", namespace={}).executable
    session.load(builtin_plugin_path(builtin), name=f"{builtin}-launcher")
    session.load(exported, name=f"{builtin}-exported")
    session.load(f"builtin:{builtin}", name=f"{builtin}-kernel", transport="in-kernel")
    assert fidelity_warnings(fresh_warnings) == []
