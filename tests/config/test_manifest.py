"""Manifests are read, validated and discovered as Hector does."""

from __future__ import annotations

import pytest

from hector_nb.errors import InvalidConfig, InvalidManifest
from hector_nb.manifest import (
    PluginManifest,
    apply_config_schema,
    discover,
    discovery_table,
    manifest_from_provider,
    read_manifest,
    write_manifest,
)
from hector_nb.providers import EchoLLM


def _plugin(directory, name="p", manifest="plugin:\n  name: p\n  version: 1.0.0\n  type: llm_provider\n"
            "  protocol: grpc\n", executable=True):
    exe = directory / name
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755 if executable else 0o644)
    (directory / f"{name}.plugin.yaml").write_text(manifest)
    return exe


def test_round_trip(tmp_path):
    exe = tmp_path / "tool"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    written = PluginManifest(name="tool", version="2.0", type="embedder_provider", author="me",
                             config_required=["key"], config_optional=["dim"], config_defaults={"dim": "8"},
                             capabilities={"batch": True}, license="MIT")
    file = write_manifest(written, exe)
    assert file.name == "tool.plugin.yaml"
    read = read_manifest(exe)
    assert read == PluginManifest(**{**written.__dict__, "path": file})
    assert read.executable == exe and read_manifest(file) == read


@pytest.mark.parametrize("text, message", [
    ("- just a list", "no 'plugin:' mapping"),
    ("plugin:\n  version: 1\n  type: llm_provider\n  protocol: grpc\n", "field 'plugin.name' is missing"),
    ("plugin:\n  name: p\n  type: llm_provider\n  protocol: grpc\n", "field 'plugin.version' is missing"),
    ("plugin:\n  name: p\n  version: 1\n  protocol: grpc\n", "field 'plugin.type' is missing"),
    ("plugin:\n  name: p\n  version: 1\n  type: llm_provider\n", "field 'plugin.protocol' is missing"),
    ("plugin:\n  name: p\n  version: 1\n  type: chatbot\n  protocol: grpc\n", "field 'plugin.type' is 'chatbot'"),
    ("plugin:\n  name: p\n  version: 1\n  type: llm_provider\n  protocol: netrpc\n",
     "field 'plugin.protocol' is 'netrpc'; only 'grpc' is valid"),
    ("plugin: [unclosed", "not valid YAML"),
])
def test_rejections_name_the_file_and_field(tmp_path, text, message):
    exe = _plugin(tmp_path, manifest=text)
    with pytest.raises(InvalidManifest) as raised:
        read_manifest(exe)
    assert message in str(raised.value) and str(tmp_path / "p.plugin.yaml") in str(raised.value)


def test_missing_or_non_executable_executable(tmp_path):
    exe = _plugin(tmp_path, executable=False)
    with pytest.raises(InvalidManifest, match="lacks the execute bit; chmod"):
        read_manifest(exe)
    exe.unlink()
    with pytest.raises(InvalidManifest, match="is missing; build it beside the manifest"):
        read_manifest(exe)
    with pytest.raises(InvalidManifest, match="no such manifest"):
        read_manifest(tmp_path / "ghost")


def test_manifest_from_provider_and_config_schema():
    manifest = manifest_from_provider(EchoLLM)
    assert (manifest.name, manifest.type) == ("echo", "llm_provider")
    assert manifest.capabilities == {"streaming": True, "function_calling": True}
    assert manifest.config_defaults == {"prefix": "", "delay": "0"}
    manifest.config_required = ["api_key"]
    assert apply_config_schema(manifest, {"api_key": "k"}, "echo") == {"prefix": "", "delay": "0", "api_key": "k"}
    with pytest.raises(InvalidConfig, match=r"plugin 'echo', configure: required config key\(s\) api_key missing"):
        apply_config_schema(manifest, {}, "echo")


def test_discovery_walks_paths_as_hector_does(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    top = tmp_path / ".hector" / "plugins"
    nested = top / "vendor" / "deep"
    nested.mkdir(parents=True)
    _plugin(top, "a")
    _plugin(nested, "b", manifest="plugin:\n  name: b\n  version: 2\n  type: database_provider\n  protocol: grpc\n")
    _plugin(top, "broken", manifest="plugin:\n  name: broken\n")
    flat = discover(["~/.hector/plugins", tmp_path / "missing"])
    assert [(e.name, e.valid) for e in flat] == [("p", True), ("broken", False)]
    assert "field 'plugin.version' is missing" in flat[1].error
    deep = discover(["~/.hector/plugins"], scan_subdirectories=True)
    assert sorted(e.name for e in deep if e.valid) == ["b", "p"]
    table = discovery_table(deep)
    assert list(table.columns) == ["name", "type", "version", "valid", "error", "executable", "manifest"]
    assert table.set_index("name").loc["b", "type"] == "database_provider"
