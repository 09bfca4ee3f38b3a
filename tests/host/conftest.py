"""Install test plugin scripts as Hector would find them: an executable beside its manifest."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hector_nb import Session
from hector_nb.manifest import PluginManifest, write_manifest

PLUGINS = Path(__file__).parent / "plugins"


def install_plugin(directory: Path, script: str, name: str, plugin_type: str = "llm_provider",
                   args: str = "", **manifest: object) -> Path:
    """``directory/name`` runs ``script`` with this interpreter; ``name.plugin.yaml`` beside it."""
    executable = directory / name
    source = (PLUGINS / script).read_text()
    if args:
        source = source.replace("sys.argv[1:]", repr(args.split()))
    executable.write_text(f"#!{sys.executable}\n{source}")
    executable.chmod(0o755)
    write_manifest(PluginManifest(name=name, version="0.3.0", type=plugin_type, **manifest), executable)
    return executable


@pytest.fixture
def install(tmp_path):
    """``install(script, name, plugin_type, args=..., **manifest)`` -> the executable's path."""
    return lambda *args, **kwargs: install_plugin(tmp_path, *args, **kwargs)


@pytest.fixture
def session():
    with Session(timeout=20, start_timeout=20) as s:
        yield s
