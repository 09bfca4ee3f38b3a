"""Without its extra, a real engine fails to load in one line that says which pip install to run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import hector_nb
from hector_nb import Session
from hector_nb.errors import ProviderError

#: builtin -> (a module its extra brings, the config it needs to reach the import).
ENGINES = {
    "qdrant": ("qdrant_client", {}),
    "milvus": ("pymilvus", {}),
    "usearch": ("usearch", {}),
    "minilm": ("onnxruntime", {}),
    "openai": ("openai", {"model": "m"}),
    "llama": ("llama_cpp", {}),
}


@pytest.mark.parametrize("builtin", sorted(ENGINES))
def test_a_missing_extra_names_the_install(builtin, monkeypatch):
    module, config = ENGINES[builtin]
    # None in sys.modules makes `import module` raise ImportError, as if the package were not installed.
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)
    with Session() as session, pytest.raises(ProviderError) as raised:
        session.load(f"builtin:{builtin}", transport="in-kernel", config=config)
    assert str(raised.value).startswith(f"plugin '{builtin}', initialize: ImportError: builtin:{builtin} needs ")
    # hector_nb is on no package index: the command installs the extra from the clone hector_nb runs from.
    clone = Path(hector_nb.__file__).resolve().parents[1]
    assert str(raised.value).endswith(f' -m pip install -e "{clone}[{builtin}]"')
    assert "\n" not in str(raised.value)


def test_the_install_command_names_the_clone_or_else_the_package(monkeypatch, tmp_path):
    from hector_nb.providers import extras

    assert extras.install_command("qdrant") == f'{sys.executable} -m pip install -e "{extras._CLONE}[qdrant]"'
    monkeypatch.setattr(extras, "_CLONE", tmp_path)  # installed otherwise (a wheel): no pyproject.toml around it
    assert extras.install_command("qdrant") == f'{sys.executable} -m pip install "hector_nb[qdrant]"'
