"""Install test plugins as Hector finds them: an executable beside its ``.plugin.yaml``."""

from __future__ import annotations

from pathlib import Path

import pytest
from go_binaries import python_plugin

from hector_nb.manifest import PluginManifest, write_manifest

PLUGINS = Path(__file__).parent / "plugins"
SDK_PLUGINS = Path(__file__).parent.parent / "sdk" / "plugins"


@pytest.fixture
def install(tmp_path):
    """``install(script, plugin_type, *args)``: the executable running ``script`` with its manifest beside it."""

    def install(script: Path, plugin_type: str, *args: str, **manifest: object) -> Path:
        executable = python_plugin(tmp_path, script, *args)
        write_manifest(PluginManifest(**{"name": executable.name, "version": "0.1.0", "type": plugin_type,
                                         **manifest}), executable)
        return executable

    return install


def checks_with(report, verdict: str) -> set[str]:
    """The names of the checks of ``report`` that came out ``verdict``."""
    return set(report.loc[report.verdict == verdict, "check"])


@pytest.fixture
def with_verdict():
    return checks_with
