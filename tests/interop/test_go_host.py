"""A real go-plugin host (Go, Hector's handshake) loads Python SDK plugins."""

from __future__ import annotations

from pathlib import Path

import pytest
from go_binaries import python_plugin, response, run_host

SDK_PLUGINS = Path(__file__).resolve().parents[1] / "sdk" / "plugins"
pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]  # the first test may build the Go programs


def test_llm_plugin(go_bin, tmp_path):
    seen = run_host(go_bin, python_plugin(tmp_path, SDK_PLUGINS / "echo_llm.py"), "llm_provider")
    assert response(seen, "Initialize") == {"success": True, "error": ""}
    assert response(seen, "Health") == {"healthy": True, "message": "ok"}
    manifest = response(seen, "GetManifest")
    assert (manifest["name"], manifest["version"], manifest["type"]) == ("my-llm", "1.2.3", "llm_provider")
    assert response(seen, "GetStatus") == {"status": "ready"}
    assert response(seen, "Generate") == {"text": "go: hello from go", "tool_calls": [], "tokens_used": 3}
    chunks = seen["GenerateStreaming"][0]["chunks"]
    assert [(c["type"], c["text"]) for c in chunks[:3]] == [("TEXT", "one "), ("TEXT", "two "), ("TEXT", "three ")]
    assert chunks[3]["type"] == "TOOL_CALL" and chunks[3]["tool_call"]["name"] == "lookup"
    assert chunks[4]["type"] == "DONE" and chunks[4]["tokens_used"] == 3 and len(chunks) == 5
    assert response(seen, "GetModelInfo") == {"model_name": "my-llm", "max_tokens": 4096, "temperature": 0.7}
    assert response(seen, "Shutdown") == {"success": True, "error": ""}
    exit_record = seen["exit"][0]
    # print() in the provider reached the Go host through GRPCStdio, each stream on its channel.
    assert "generate called with 1 messages\n" in exit_record["stdout"]
    assert "a warning\n" in exit_record["stderr"]
    assert exit_record["alive"] is False, "the Python plugin outlived the Go host's Kill()"
    assert exit_record["graceful"] is True, "the plugin had to be force-killed: GRPCController.Shutdown failed"


def test_llm_provider_errors(go_bin, tmp_path):
    seen = run_host(go_bin, python_plugin(tmp_path, SDK_PLUGINS / "failing.py", "llm"), "llm_provider")
    assert response(seen, "Initialize") == {"success": False, "error": "Boom: provider exploded"}
    assert response(seen, "Health") == {"healthy": False, "message": "Boom: provider exploded"}
    generate = seen["Generate"][0]
    assert (generate["ok"], generate["code"], generate["error"]) == (False, "Unknown", "Boom: provider exploded")
    chunks = seen["GenerateStreaming"][0]["chunks"]
    assert [(c["type"], c["text"], c["error"]) for c in chunks] == [
        ("TEXT", "partial ", ""), ("ERROR", "", "Boom: stream exploded")]
    assert seen["GetModelInfo"][0]["code"] == "Unknown"
    assert seen["exit"][0]["alive"] is False and seen["exit"][0]["graceful"] is True


def test_database_plugin(go_bin, tmp_path):
    seen = run_host(go_bin, python_plugin(tmp_path, SDK_PLUGINS / "memory_db.py"), "database_provider")
    assert response(seen, "CreateCollection") == {"success": True, "error": ""}
    assert [r["response"] for r in seen["Upsert"]] == [{"success": True, "error": ""}] * 2
    hits = response(seen, "Search")["results"]
    assert [(h["id"], h["content"]) for h in hits] == [("a", "alpha"), ("b", "beta")]
    assert hits[0]["score"] == pytest.approx(1.0) and hits[0]["metadata"] == {"text": "alpha"}
    assert [h["id"] for h in response(seen, "SearchAfterDelete")["results"]] == ["b"]
    assert response(seen, "SearchMissing") == {"results": [], "error": "KeyError: 'missing'"}
    assert response(seen, "DeleteCollection") == {"success": True, "error": ""}
    assert seen["exit"][0]["alive"] is False and seen["exit"][0]["graceful"] is True


def test_database_provider_errors(go_bin, tmp_path):
    seen = run_host(go_bin, python_plugin(tmp_path, SDK_PLUGINS / "failing.py", "database"), "database_provider")
    for rpc in ("CreateCollection", "Upsert", "Delete", "DeleteCollection"):
        assert response(seen, rpc) == {"success": False, "error": "Boom: provider exploded"}, rpc
    assert response(seen, "Search") == {"results": [], "error": "Boom: provider exploded"}


def test_embedder_plugin_and_errors(go_bin, tmp_path):
    seen = run_host(go_bin, python_plugin(tmp_path, SDK_PLUGINS / "counting_embedder.py"), "embedder_provider")
    assert response(seen, "Embed") == {"vector": [1.0, 1.0, 1.0], "error": ""}
    assert response(seen, "GetEmbedderInfo") == {"model_name": "letters", "dimension": 3}
    assert response(seen, "Health") == {"healthy": True, "message": "counting"}
    assert seen["exit"][0]["alive"] is False and seen["exit"][0]["graceful"] is True
    failing = run_host(go_bin, python_plugin(tmp_path, SDK_PLUGINS / "failing.py", "embedder"), "embedder_provider")
    assert response(failing, "Embed") == {"vector": [], "error": "Boom: provider exploded"}
    info = failing["GetEmbedderInfo"][0]
    assert (info["ok"], info["code"], info["error"]) == (False, "Unknown", "Boom: provider exploded")
