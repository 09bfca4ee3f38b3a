"""One error hierarchy: what each kind of error carries, and where each comes from."""

from __future__ import annotations

import pytest

from hector_nb import errors
from hector_nb.config import load_hector_config
from hector_nb.manifest import read_manifest


def test_every_error_is_a_hector_error_and_the_kinds_are_apart():
    assert issubclass(errors.PluginGaveUp, errors.PluginCrashed)
    assert issubclass(errors.PluginNotAnswering, errors.PluginError)
    for kind in (errors.PluginError, errors.SettingsError, errors.ExportError, errors.DatasetError):
        assert issubclass(kind, errors.HectorError)
    for kind in (errors.ConfigError, errors.ManifestError, errors.ExportError):
        assert not issubclass(kind, errors.PluginError)
    assert errors.InvalidConfig is errors.ConfigError and errors.InvalidManifest is errors.ManifestError


def test_a_bad_hector_yaml_names_its_file_and_field_not_a_plugin(tmp_path):
    file = tmp_path / "hector.yaml"
    file.write_text("plugins: [not, a, mapping]\n")
    with pytest.raises(errors.ConfigError) as raised:
        load_hector_config(file)
    error = raised.value
    assert (error.plugin, error.file, error.field) == ("", str(file), "plugins")
    assert str(error) == f"read config: {file}: 'plugins:' must be a mapping"


def test_a_bad_manifest_names_its_file_and_field(tmp_path):
    file = tmp_path / "p.plugin.yaml"
    file.write_text("plugin: {name: p, version: 1.0.0, type: llm_provider, protocol: http}\n")
    with pytest.raises(errors.ManifestError) as raised:
        read_manifest(file, check_executable=False)
    assert (raised.value.plugin, raised.value.file, raised.value.field) == ("p", str(file), "plugin.protocol")
