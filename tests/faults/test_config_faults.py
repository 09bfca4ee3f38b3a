"""hector.yaml and .plugin.yaml: shapes and types checked, aliases bounded, booleans as Hector reads them."""

from __future__ import annotations

import pytest

from hector_nb.config import load_hector_config
from hector_nb.errors import InvalidConfig, InvalidManifest
from hector_nb.manifest import discover, read_manifest

GOOD = "plugin:\n  name: {name}\n  version: 1.0.0\n  type: llm_provider\n  protocol: grpc\n"
#: Nine levels of nine aliases each: 9**9 (387 million) nodes once expanded.
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))


def plugin(directory, name, manifest):
    executable = directory / name
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    (directory / f"{name}.plugin.yaml").write_bytes(manifest if isinstance(manifest, bytes) else manifest.encode())
    return executable


def hector_yaml(tmp_path, text):
    file = tmp_path / "hector.yaml"
    file.write_text(text)
    return file


# Item 13: shapes and types.
def test_a_string_of_discovery_paths_is_read_as_hector_reads_it_not_as_characters(tmp_path):
    settings = load_hector_config(hector_yaml(tmp_path, "plugins:\n  plugin_discovery:\n    enabled: true\n"
                                              "    paths: ./plugins\n"))
    assert settings.discovery.paths == [tmp_path / "plugins"]
    two = load_hector_config(hector_yaml(tmp_path, "plugin_discovery: {enabled: true, paths: 'a,b'}\n"))
    assert two.discovery.paths == [tmp_path / "a", tmp_path / "b"]  # mapstructure splits text at commas


def test_discover_given_one_path_as_text_scans_that_path_only(tmp_path):
    plugin(tmp_path, "good", GOOD.format(name="good"))
    assert [entry.name for entry in discover(str(tmp_path))] == ["good"]
    assert [entry.name for entry in discover(tmp_path)] == ["good"]


@pytest.mark.parametrize("block, message", [
    ("plugin_discovery: [a]", "'plugin_discovery' must be a mapping"),
    ("plugin_discovery: {paths: {a: b}}", "'plugin_discovery.paths' must be a list"),
    ("plugin_discovery: {paths: [[a]]}", "'plugin_discovery.paths' must be a list"),
    ("plugins: {llm_providers: {x: {name: x, path: [a, b]}}}", "'path' must be text"),
    ("plugins: {llm_providers: {x: {name: x, path: ./x, type: [grpc]}}}", "type is ['grpc']"),
    ("plugins: {llm_providers: {x: {name: x, path: ./x}}}\nagents: [a]", "'agents' must be a mapping"),
])
def test_wrong_shapes_in_hector_yaml_are_named(tmp_path, block, message):
    with pytest.raises(InvalidConfig) as raised:
        load_hector_config(hector_yaml(tmp_path, block + "\n"))
    assert message in str(raised.value)


BAD_MANIFESTS = {
    "defaults-list": GOOD + "  config_schema: {defaults: [a]}\n",
    "required-number": GOOD + "  config_schema: {required: 5}\n",
    "required-text": GOOD + "  config_schema: {required: api_key}\n",
    "required-maps": GOOD + "  config_schema: {required: [{a: b}]}\n",
    "name-list": GOOD.replace("name: {name}", "name: [x]"),
    "capabilities-list": GOOD + "  capabilities: [streaming]\n",
    "binary": b"plugin:\n  name: \xff\xfe\n",
    "top-list": "- plugin\n",
}


def test_one_malformed_manifest_is_listed_invalid_and_the_others_still_load(tmp_path):
    plugin(tmp_path, "good", GOOD.format(name="good"))
    for name, text in BAD_MANIFESTS.items():
        plugin(tmp_path, name, text.replace("{name}", name) if isinstance(text, str) else text)
    found = {entry.manifest.name[: -len(".plugin.yaml")]: entry for entry in discover([tmp_path])}
    assert found["good"].valid and found["good"].name == "good"
    for name in BAD_MANIFESTS:
        assert not found[name].valid and found[name].error, name
    assert "'plugin.config_schema.required' must be a list" in found["required-text"].error
    assert "'plugin.config_schema.defaults' must be a mapping" in found["defaults-list"].error
    assert "not UTF-8" in found["binary"].error


def test_required_keys_given_as_text_are_not_split_into_characters(tmp_path):
    with pytest.raises(InvalidManifest, match="must be a list"):
        read_manifest(plugin(tmp_path, "p", GOOD.format(name="p") + "  config_schema: {required: api_key}\n"))


def test_manifest_text_fields_keep_the_text_as_written(tmp_path):
    manifest = read_manifest(plugin(tmp_path, "p", GOOD.format(name="p").replace("1.0.0", "1.10")
                                    + "  config_schema: {required: [5], defaults: {t: 0.70}}\n"))
    assert (manifest.version, manifest.config_required, manifest.config_defaults) == ("1.10", ["5"], {"t": "0.70"})


# Item 14: alias bombs are refused at once.
@pytest.mark.timeout(20)
def test_an_alias_bomb_manifest_is_refused_at_once(tmp_path):
    executable = plugin(tmp_path, "bomb", GOOD.format(name="bomb") + "  capabilities:\n" + "".join(
        "    " + line + "\n" for line in ALIAS_BOMB.splitlines()))
    with pytest.raises(InvalidManifest, match="alias"):
        read_manifest(executable)
    assert [entry.valid for entry in discover([tmp_path])] == [False]


@pytest.mark.timeout(20)
def test_an_alias_bomb_hector_yaml_is_refused_at_once(tmp_path):
    with pytest.raises(InvalidConfig, match="alias"):
        load_hector_config(hector_yaml(tmp_path, ALIAS_BOMB + "plugins: {llm_providers: {x: {name: x, path: *j}}}\n"))


def test_a_self_referring_document_is_refused(tmp_path):
    with pytest.raises(InvalidConfig, match="refers to the node that contains it"):
        load_hector_config(hector_yaml(tmp_path, "plugins: &p {llm_providers: {x: *p}}\n"))


# Item 15: one boolean rule, Hector's (go-yaml v3 scalars, mapstructure's weak bool), and ${VAR} in discovery.
ENTRY = "plugins:\n  llm_providers:\n    x: {{name: x, path: ./x, enabled: {value}}}\n"


@pytest.mark.parametrize("value, loaded", [
    ("true", True), ("True", True), ("false", False), ("FALSE", False), ('"false"', False), ("'0'", False),
    ("0", False), ("1", True), ('"t"', True), ('""', False), ("null", True),
])
def test_enabled_is_read_as_hector_reads_it(tmp_path, value, loaded):
    plugins = load_hector_config(hector_yaml(tmp_path, ENTRY.format(value=value))).plugins
    assert [spec.name for spec in plugins] == (["x"] if loaded else [])


@pytest.mark.parametrize("value", ['"no"', "no", "off", "yes", "on", "[true]"])
def test_enabled_values_hector_refuses_are_refused(tmp_path, value):
    with pytest.raises(InvalidConfig, match=r"'enabled'.*write true or false"):
        load_hector_config(hector_yaml(tmp_path, ENTRY.format(value=value)))


def test_discovery_booleans_and_paths_follow_the_same_rule_and_expand_variables(tmp_path):
    off = load_hector_config(hector_yaml(tmp_path, "plugin_discovery: {enabled: 'false', paths: [./p]}\n"))
    assert off.discovery.enabled is False
    environ = {"DISCOVER": "true", "PLUGIN_DIR": str(tmp_path / "mine"), "DEEP": "1"}
    on = load_hector_config(hector_yaml(tmp_path, "plugins:\n  plugin_discovery:\n    enabled: ${DISCOVER}\n"
                                        "    paths: ['${PLUGIN_DIR}']\n    scan_subdirectories: ${DEEP}\n"),
                            environ=environ)
    assert (on.discovery.enabled, on.discovery.paths, on.discovery.scan_subdirectories) == (
        True, [tmp_path / "mine"], True)
    with pytest.raises(InvalidConfig, match="'plugin_discovery.enabled'"):
        load_hector_config(hector_yaml(tmp_path, "plugin_discovery: {enabled: no}\n"))


def test_a_document_nested_too_deeply_is_refused(tmp_path):
    with pytest.raises(InvalidConfig, match="nests deeper than hector_nb reads"):
        load_hector_config(hector_yaml(tmp_path, "plugins: " + "[" * 5000 + "]" * 5000 + "\n"))


def test_unreadable_files_are_named(tmp_path):
    (tmp_path / "hector.yaml").write_bytes(b"plugins: \xff\xfe\n")
    with pytest.raises(InvalidConfig, match="is not UTF-8 text"):
        load_hector_config(tmp_path / "hector.yaml")
    plugin(tmp_path, "good", GOOD.format(name="good"))
    (tmp_path / "folder.plugin.yaml").mkdir()  # a directory where a manifest should be
    with pytest.raises(InvalidManifest, match="cannot be read"):
        read_manifest(tmp_path / "folder.plugin.yaml", check_executable=False)
