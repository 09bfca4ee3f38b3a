"""hector.yaml validated as Hector validates it: name: required (Hector's own message), a config
key that differs from the manifest name, configs Hector refuses to start with (agents and document
stores naming plugins...), and one broken plugin among good ones."""

from __future__ import annotations

import textwrap

import pytest
from fidelity.recorder import fidelity_warnings, install_recorder

from hector_nb.config import load_hector_config
from hector_nb.errors import InvalidConfig, PartialLoad


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


PLUGINS = """
plugins:
  llm_providers:
    my-llm: {name: my-llm, path: ./my-llm}
  database_providers:
    my-db: {name: my-db, path: ./my-db}
  embedder_providers:
    my-embedder: {name: my-embedder, path: ./my-embedder}
"""


@pytest.mark.parametrize(("sections", "entry", "hector_says"), [
    ("llms: {my-llm: {type: openai, model: gpt-4o}}", "my-llm", "item with name 'my-llm' already registered"),
    ("llms: {gpt: {type: openai, model: m}}\nagents: {assistant: {llm: my-llm}}", "my-llm",
     "llm 'my-llm' not found (available: [gpt])"),
    ("vector_stores: {mv: {type: milvus}}\ndocument_stores: {docs: {path: ./docs, vector_store: my-db}}", "my-db",
     "vector_store 'my-db' not found (available: [mv])"),
    ("document_stores: {docs: {path: ./docs, embedder: my-embedder}}", "my-embedder",
     "embedder 'my-embedder' not found (available: [])"),
    ("llms: {local: {type: llamacpp, model: m}}", "local", "unsupported LLM type: llamacpp"),
])
def test_hector_refuses_to_start_with_these_configs_and_so_does_hector_nb_or_warns_once_lenient(
        tmp_path, fresh_warnings, sections, entry, hector_says):
    file = write(tmp_path, sections + PLUGINS)
    with pytest.raises(InvalidConfig) as refused:
        load_hector_config(file)
    assert refused.value.plugin == entry and f'Hector refuses to start with it: "{hector_says}"; ' in str(refused.value)
    assert "fidelity='lenient' loads it anyway" in str(refused.value)
    assert len(load_hector_config(file, fidelity="lenient").plugins) == 3
    assert fidelity_warnings(fresh_warnings) == [
        f'{entry}: Hector refuses to start with this hector.yaml: "{hector_says}"; '
        + refused.value.message.split(f'"{hector_says}"; ')[1].removesuffix(" (fidelity='lenient' loads it anyway)")]


def test_a_config_hector_starts_with_passes(tmp_path, fresh_warnings):
    file = write(tmp_path, "llms: {gpt: {type: ollama, model: m}}\nagents: {a: {llm: gpt}}\n" + PLUGINS)
    assert len(load_hector_config(file).plugins) == 3 and fidelity_warnings(fresh_warnings) == []


def broken_and_good(tmp_path):
    """A hector.yaml with two good plugins around one whose manifest is missing."""
    for name in ("first", "last"):
        (tmp_path / name).mkdir()
        install_recorder(tmp_path / name)
    return write(tmp_path, """
        plugins:
          llm_providers:
            recorder: {name: recorder, path: ./first/recorder, config: {api_key: k}}
            broken: {name: broken, path: ./missing/broken}
            second: {name: recorder, path: ./last/recorder, config: {api_key: k}}
    """)


def test_hector_loads_every_good_plugin_despite_a_broken_one_and_so_does_hector_nb(session, tmp_path,
                                                                                  fresh_warnings):
    file = broken_and_good(tmp_path)
    with pytest.raises(PartialLoad) as partial:
        session.load_config(file)
    assert [c.name for c in partial.value.loaded] == ["recorder", "second"]
    assert list(partial.value.failures) == ["broken"]
    assert "recorder" in session and "second" in session and "broken" not in session
    assert str(partial.value).startswith(f"load_config: 1 of 3 plugins of {file} failed to load (broken: ")
    assert "the others are loaded, as Hector loads them (recorder, second); fix the failed ones" in str(partial.value)
    # Fixed, and loaded again: the good plugins are kept (the same processes), not refused as duplicates.
    pids = {name: session.get(name).pid for name in ("recorder", "second")}
    (tmp_path / "missing").mkdir()
    install_recorder(tmp_path / "missing").rename(tmp_path / "missing" / "broken")
    (tmp_path / "missing" / "recorder.plugin.yaml").rename(tmp_path / "missing" / "broken.plugin.yaml")
    assert [c.name for c in session.load_config(file)] == ["recorder", "broken", "second"]
    assert {name: session.get(name).pid for name in pids} == pids and session.get("broken").pid


