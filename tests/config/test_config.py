"""hector.yaml: plugin sections, ${VAR} expansion, relative paths, config values as YAML reads them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hector_nb.config import config_text, expand_env, load_hector_config
from hector_nb.errors import InvalidConfig

HECTOR_YAML = textwrap.dedent("""
    plugins:
      llm_providers:
        my-llm:
          name: my-llm
          type: grpc
          path: ./plugins/my-llm
          enabled: true
          config:
            api_key: "${API_KEY}"
            model: ${MODEL:-small}
            temperature: 0.7
            max_tokens: 512
            stream: true
            note: null
      database_providers:
        off-db: {name: off-db, type: grpc, path: /opt/db, enabled: false}
      embedder_providers:
        emb: {name: emb, path: "~/emb", config: {dimension: 64}}
    plugin_discovery:
      enabled: true
      paths: [./more-plugins, "${PLUGIN_HOME:-/srv/plugins}"]
      scan_subdirectories: true
""")


def test_plugins_section(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    file = tmp_path / "hector.yaml"
    file.write_text(HECTOR_YAML)
    config = load_hector_config(file, environ={"API_KEY": "sk-123"})
    assert [(p.name, p.plugin_type) for p in config.plugins] == [("my-llm", "llm_provider"),
                                                                 ("emb", "embedder_provider")]
    llm, emb = config.plugins
    assert llm.path == tmp_path / "plugins" / "my-llm" and emb.path == tmp_path / "home" / "emb"
    assert llm.config == {"api_key": "sk-123", "model": "small", "temperature": 0.7, "max_tokens": 512,
                          "stream": True, "note": None}
    assert emb.config == {"dimension": 64}
    assert config.discovery.enabled and config.discovery.scan_subdirectories
    assert config.discovery.paths == [tmp_path / "more-plugins", Path("/srv/plugins")]


def test_unset_variable_is_named(tmp_path):
    file = tmp_path / "hector.yaml"
    file.write_text(HECTOR_YAML)
    with pytest.raises(InvalidConfig, match="environment variable API_KEY is not set"):
        load_hector_config(file, environ={})


@pytest.mark.parametrize("entry, message", [
    ("{name: bad, type: grpc}", "'path' is missing"),
    ("{name: bad, type: http, path: x}", "type is 'http'; only 'grpc'"),
    ("{name: bad, path: x, config: {tags: [a, b]}}", "config key 'tags' is a list"),
    ("[not, a, mapping]", "the entry must be a mapping"),
])
def test_bad_entries(tmp_path, entry, message):
    file = tmp_path / "hector.yaml"
    file.write_text(f"plugins:\n  llm_providers:\n    bad: {entry}\n")
    with pytest.raises(InvalidConfig, match=message):
        load_hector_config(file, fidelity="lenient")


def test_scalars_as_text_and_expansion():
    assert [config_text(v) for v in (True, False, 3, 2.5, "x", None)] == ["true", "false", "3", "2.5", "x", ""]
    assert expand_env("${A}-${B:-dflt}-${C:-}", {"A": "a"}) == "a-dflt-"
    with pytest.raises(InvalidConfig, match="environment variable NOPE is not set"):
        expand_env("${NOPE}", {})
    with pytest.raises(InvalidConfig):
        load_hector_config("/nonexistent/hector.yaml")
