"""hector.yaml validated as Hector validates it: name: required (Hector's own message), a config
key that differs from the manifest name, agents and document stores naming plugins."""

from __future__ import annotations

import textwrap

import pytest
from fidelity.recorder import fidelity_warnings, install_recorder

from hector_nb.config import load_hector_config
from hector_nb.errors import InvalidConfig


def write(tmp_path, text: str):
    file = tmp_path / "hector.yaml"
    file.write_text(textwrap.dedent(text))
    return file


def test_an_entry_without_name_is_rejected_with_hectors_message(session, tmp_path):
    install_recorder(tmp_path)
    file = write(tmp_path, """
        plugins:
          llm_providers:
            recorder: {type: grpc, path: ./recorder, config: {api_key: k}}
    """)
    with pytest.raises(InvalidConfig) as raised:
        session.load_config(file)
    assert str(raised.value) == (
        f"plugin 'recorder', read config: {file}: Hector rejects the whole file: \"LLM provider plugin 'recorder' "
        "validation failed: plugin name is required\"; add 'name: recorder' to the entry")
    assert "recorder" not in session
    assert [c.name for c in session.load_config(file, fidelity="lenient")] == ["recorder"]


@pytest.mark.parametrize(("section", "label"), [("database_providers", "Database provider"),
                                                 ("embedder_providers", "Embedder provider")])
def test_every_section_needs_name(tmp_path, section, label):
    file = write(tmp_path, f"plugins:\n  {section}:\n    x: {{path: ./x}}\n")
    with pytest.raises(InvalidConfig, match=f"{label} plugin 'x' validation failed: plugin name is required"):
        load_hector_config(file)


def test_a_config_key_other_than_the_manifest_name_warns(session, tmp_path, fresh_warnings):
    install_recorder(tmp_path)
    file = write(tmp_path, """
        plugins:
          llm_providers:
            writer: {name: writer, type: grpc, path: ./recorder, config: {api_key: k, prefix: ">"}}
    """)
    assert [c.name for c in session.load_config(file)] == ["writer"]
    assert fidelity_warnings(fresh_warnings) == [
        "writer: Hector unloads plugins by manifest name ('recorder'), so shutting down the entry 'writer' fails "
        "with 'plugin not found'; name the hector.yaml entry 'recorder'"]
    session.close()
    session.load_config(file, fidelity="lenient")
    assert len(fidelity_warnings(fresh_warnings)) == 1


def test_agents_and_document_stores_naming_plugins_warn(tmp_path, fresh_warnings):
    file = write(tmp_path, """
        agents:
          assistant: {llm: my-llm}
          other: {llm: gpt}
        llms:
          gpt: {type: openai, model: gpt-4o}
        document_stores:
          docs: {path: ./docs, database: my-db, embedder: my-embedder}
        plugins:
          llm_providers:
            my-llm: {name: my-llm, path: ./my-llm}
          database_providers:
            my-db: {name: my-db, path: ./my-db}
          embedder_providers:
            my-embedder: {name: my-embedder, path: ./my-embedder}
    """)
    load_hector_config(file)
    warned = fidelity_warnings(fresh_warnings)
    assert warned[0] == (
        "my-llm: agent 'assistant' names plugin 'my-llm', but the stock Hector CLI routes an agent only to an "
        "llms: entry (openai, anthropic, gemini, ollama), and an llms: entry named after the plugin fails with "
        "'already registered'; use the plugin from a Go program that embeds Hector, or point the agent at an "
        "llms: entry")
    assert [w.split(":")[0] for w in warned[1:]] == ["my-db", "my-embedder"]
    assert all("document store 'docs' names plugin" in w and "Go program" in w for w in warned[1:])
    load_hector_config(file, fidelity="lenient")
    assert len(fidelity_warnings(fresh_warnings)) == 3
