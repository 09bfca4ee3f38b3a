"""What a plugin process imports: only what its provider type needs (a plugin's cold start is its imports).

Each check runs in a fresh interpreter and reads ``sys.modules``: structural, not timed
(benchmarks/bench_host.py cold-start times it).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Never needed to write or serve an LLM plugin.
NOTEBOOK_SIDE = {"numpy", "pandas", "matplotlib", "IPython", "ipywidgets", "tqdm", "yaml"}


def imported_after(code: str) -> set[str]:
    """The modules loaded by a fresh interpreter after running ``code``."""
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    return set(json.loads(answer.stdout.splitlines()[-1]))


def roots(modules: set[str]) -> set[str]:
    return {module.split(".")[0] for module in modules}


def test_importing_the_sdk_imports_neither_grpc_nor_the_notebook_side():
    modules = imported_after("from hector_nb.sdk import LLMProvider, serve_llm_plugin")
    assert not roots(modules) & (NOTEBOOK_SIDE | {"grpc", "grpc_health"})
    assert "hector_nb.sessions" not in modules and "hector_nb.host" not in modules


SERVE = """
from hector_nb.plugin.serve import _new_server
from hector_nb.plugin.servicers import servicer_for
from hector_nb.providers import builtin_class
server, workers = _new_server(servicer_for(builtin_class({name!r})()))
"""


def test_an_llm_plugin_server_imports_its_own_stubs_only():
    modules = imported_after(SERVE.format(name="echo"))
    wire = "hector_nb.plugin._wire."
    assert wire + "llm_pb2_grpc" in modules
    assert not {wire + "database_pb2_grpc", wire + "embedder_pb2_grpc", wire + "bulk_pb2_grpc",
                "hector_nb.plugin.bulk"} & modules
    # grpc_health's servicer brings an asyncio twin; the plugin serves Check with the messages alone.
    assert not {"grpc_health.v1.health", "grpc_health.v1._async"} & modules
    assert not roots(modules) & NOTEBOOK_SIDE


@pytest.mark.parametrize(("name", "stubs", "absent"), [
    ("memory", "database_pb2_grpc", "llm_pb2_grpc"),
    ("hashing", "embedder_pb2_grpc", "database_pb2_grpc"),
])
def test_a_database_or_embedder_server_adds_the_bulk_service_and_not_the_other_types(name, stubs, absent):
    modules = imported_after(SERVE.format(name=name))
    wire = "hector_nb.plugin._wire."
    assert {wire + stubs, wire + "bulk_pb2_grpc", "hector_nb.plugin.bulk"} <= modules
    assert wire + absent not in modules
    assert not roots(modules) & (NOTEBOOK_SIDE - {"numpy"})  # numpy is these providers' engine
