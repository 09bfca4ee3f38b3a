"""The Go go-plugin host sends what real Hector sends (CONTRACT section 5) to hector_nb plugins:
an agent's request (Hector's roles, its system prompt and tool list, ten tools), a tool's result
as an empty ROLE_AGENT turn, a document store's upserts without CreateCollection (UUID ids, about
twenty metadata keys) and its doubled top_k search, and one Embed per text."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fidelity.recorder import Recorder
from go_binaries import python_plugin
from google.protobuf.json_format import MessageToDict

from hector_nb import hector, sdk
from hector_nb.providers import MemoryDatabase, builtin_plugin_path

pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]  # the first test may build the Go programs
PROMPT = "what is the capital of France?"
RECORDER = Path(__file__).resolve().parents[1] / "fidelity" / "recorder.py"
DOCUMENTS = {"docs/france.md": "Paris is the capital of France.", "docs/spain.md": "Madrid is the capital of Spain.",
             "docs/notes.txt": "Rivers of France: the Seine, the Loire."}


def as_json(message) -> dict:
    return MessageToDict(message, preserving_proto_field_name=True)


def document_upserts(vectors: dict[str, list[float]], stores: dict[str, str]) -> list[dict]:
    """What Hector's document store upserts for DOCUMENTS: its id per chunk, its metadata as Go text."""
    return [as_json(sdk.UpsertRequest(collection="docs", id=hector.document_id(stores[path], path, 0),
                                      vector=vectors[path],
                                      metadata=hector.document_metadata(text, path, chunk_index=0, store=stores[path])))
            for path, text in DOCUMENTS.items()]


def run_hector_calls(go_bin: Path, plugin: Path, plugin_type: str, tmp_path: Path, **calls) -> dict[str, dict]:
    file = tmp_path / "calls.json"
    file.write_text(json.dumps({"config": {}, **calls}))
    result = subprocess.run([str(go_bin / "host"), "-plugin", str(plugin), "-type", plugin_type, "-calls", str(file)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    seen = {}
    for line in result.stdout.splitlines():
        record = json.loads(line)
        seen[record["rpc"]] = record
    assert seen["exit"]["alive"] is False and seen["exit"]["graceful"] is True
    return seen


def test_the_plugin_receives_a_hector_agents_request(go_bin, tmp_path):
    seen = run_hector_calls(go_bin, python_plugin(tmp_path, RECORDER), "llm_provider", tmp_path,
                            config={"api_key": "k"}, generate=as_json(hector.agent_request(PROMPT)))
    received = json.loads(seen["AgentGenerate"]["response"]["text"])
    assert received["roles"] == ["ROLE_UNSPECIFIED", "ROLE_UNSPECIFIED", "ROLE_USER"]
    assert received["contents"] == [len(hector.agent_system_prompt()), len(hector.agent_tool_list_text()), PROMPT]
    assert received["tools"] == [tool.name for tool in hector.agent_tools()]
    assert received["config"] == {"api_key": "k", "prefix": Recorder.config_defaults["prefix"]}
    # The stream's TOOL_CALL chunk never reaches the agent: Hector's bridge drops it.
    assert json.loads(seen["AgentStream"]["text"])["roles"] == received["roles"]
    assert seen["AgentStream"]["dropped_tool_calls"] == 1


def test_the_echo_builtin_answers_a_hector_agent(go_bin, tmp_path):
    echo = python_plugin(tmp_path, builtin_plugin_path("echo"))
    seen = run_hector_calls(go_bin, echo, "llm_provider", tmp_path, generate=as_json(hector.agent_request(PROMPT)))
    assert seen["AgentStream"] == {"rpc": "AgentStream", "ok": True, "text": PROMPT, "dropped_tool_calls": 1}
    generated = seen["AgentGenerate"]["response"]
    assert generated["text"] == PROMPT and generated["tool_calls"][0]["name"] == "agent_call"
    # The tool's result comes back as an empty ROLE_AGENT turn; the user's message is still found, and
    # echo answers without calling the tool again, so a Hector agent's loop ends.
    assert seen["AgentToolResult"]["response"]["text"] == PROMPT
    assert not seen["AgentToolResult"]["response"].get("tool_calls")


def test_the_memory_builtin_serves_hectors_document_store(go_bin, tmp_path):
    vectors = {"docs/france.md": [1.0, 0.0, 0.1], "docs/spain.md": [0.0, 1.0, 0.0], "docs/notes.txt": [0.9, 0.1, 0.0]}
    # france.md was indexed by another store: Hector filters hits on the collection key.
    upserts = document_upserts(vectors, {**dict.fromkeys(DOCUMENTS, "docs"), "docs/france.md": "archive"})
    assert len(upserts[0]["metadata"]) == 21
    seen = run_hector_calls(go_bin, python_plugin(tmp_path, builtin_plugin_path("memory")), "database_provider",
                            tmp_path, upserts=upserts, hits=1, filter={"collection": "docs"},
                            search=as_json(sdk.SearchRequest(collection="docs", vector=[1.0, 0.0, 0.0])))
    assert seen["DocumentUpserts"] == {"rpc": "DocumentUpserts", "ok": True, "written": 3, "failures": []}
    search = seen["DocumentSearch"]
    # top_k 2 for 1 hit; france.md ranks first but fails the filter, so the hit is the second result,
    # whose cosine (0.99) clears Hector's threshold, with its text where both of Hector's readers look.
    assert (search["asked_top_k"], search["returned"]) == (2, 2)
    assert [(hit["id"], hit["content"], hit["search_tool_text"]) for hit in search["hits"]] == [
        (upserts[2]["id"], "Rivers of France: the Seine, the Loire.", "Rivers of France: the Seine, the Loire.")]


def test_hector_drops_a_euclidean_memory_hit_below_its_threshold_as_hector_nb_says(go_bin, tmp_path):
    vectors = {"docs/france.md": [1.0, 0.0, 0.0], "docs/spain.md": [0.0, 3.0, 0.0], "docs/notes.txt": [0.8, 0.3, 0.0]}
    upserts = document_upserts(vectors, dict.fromkeys(DOCUMENTS, "docs"))
    plugin = python_plugin(tmp_path, builtin_plugin_path("memory"))
    seen = run_hector_calls(go_bin, plugin, "database_provider", tmp_path, upserts=upserts, hits=3,
                            config={"metric": "euclidean"}, filter={"collection": "docs"},
                            search=as_json(sdk.SearchRequest(collection="docs", vector=[1.0, 0.0, 0.0])))
    kept = [hit["id"] for hit in seen["DocumentSearch"]["hits"]]
    assert seen["DocumentSearch"]["returned"] == 3
    assert kept == [upserts[0]["id"], upserts[2]["id"]]  # spain.md scores 1/(1+3.16) = 0.24: dropped
    # hector_nb's account of it, from the same database in the kernel: the same hits kept.
    db = MemoryDatabase()
    db.initialize({"metric": "euclidean"})
    for upsert in upserts:
        db.upsert("docs", upsert["id"], upsert["vector"], upsert["metadata"])
    assert [h.id for h in hector.select_hits(db.search("docs", [1.0, 0.0, 0.0], 6), 3, {"collection": "docs"})] == kept


def test_the_hashing_builtin_embeds_one_text_per_call(go_bin, tmp_path):
    seen = run_hector_calls(go_bin, python_plugin(tmp_path, builtin_plugin_path("hashing")), "embedder_provider",
                            tmp_path, embed=list(DOCUMENTS.values()))
    assert seen["DocumentEmbeds"]["dimensions"] == [256, 256, 256]
