"""hector_nb's host (Session.load) loads plugins built in Go with go-plugin."""

from __future__ import annotations

import os
import shutil

import pytest
from plugin_process import wait_until

from hector_nb import Session, sdk
from hector_nb.errors import HandshakeError, ProviderError
from hector_nb.manifest import PluginManifest, write_manifest

pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]


@pytest.fixture
def install_go(go_bin, tmp_path):
    def install(binary: str, plugin_type: str) -> str:
        executable = tmp_path / binary
        shutil.copy(go_bin / binary, executable)
        write_manifest(PluginManifest(name=f"go-{binary}", version="1.0.0", type=plugin_type), executable)
        return str(executable)

    return install


def test_go_llm_plugin(install_go):
    with Session(timeout=30) as session:
        # It prints a line before its handshake, as Hector's example plugin does: go-plugin, so Hector, refuses it.
        with pytest.raises(HandshakeError, match="printed 'Starting Go echo plugin' on stdout before its handshake"):
            session.load(install_go("echollm", "llm_provider"))
        llm = session.load(install_go("echollm", "llm_provider"), config={"prefix": "Go says: "}, fidelity="lenient")
        process = llm.process
        assert process.handshake.network == "unix" and os.path.exists(process.handshake.address)
        assert llm.generate("hello there").text == "Go says: hello there"
        chunks = list(llm.stream("one two three", tools=[{"name": "lookup"}]))
        assert [c.text for c in chunks[:3]] == ["one ", "two ", "three"]
        assert chunks[3].type == sdk.CHUNK_TYPE_TOOL_CALL and chunks[3].tool_call.name == "lookup"
        assert chunks[4] == sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=3)
        with pytest.raises(ProviderError, match="plugin 'go-echollm', generate: echo: asked to fail"):
            llm.generate("fail")
        assert llm.model_info() == sdk.ModelInfo(model_name="go-echo", max_tokens=1024, temperature=0.5)
        assert llm.health().healthy and llm.remote_status() == "ready"
        logs = llm.logs()
        # The line Hector's example plugin prints before its handshake, tolerated and logged.
        assert "[stdout] Starting Go echo plugin" in logs
        # go-plugin's JSON log lines from the plugin's stderr.
        assert wait_until(lambda: any('"@message":"plugin address"' in line for line in llm.logs()), 10), logs
        session.unload("go-echollm")
        assert process.exit_code == 0, "graceful shutdown through GRPCController exits 0"
        assert not os.path.exists(process.handshake.address)


def test_go_database_plugin(install_go):
    with Session(timeout=30) as session:
        db = session.load(install_go("memdb", "database_provider"))
        db.create_collection("docs", 2)
        db.upsert_many("docs", [("a", [1.0, 0.0], {"text": "alpha"}), ("b", [0.0, 1.0], {"text": "beta"}),
                                ("c", [0.7, 0.7], None)])
        hits = db.search("docs", [1.0, 0.1], top_k=2)
        assert [(h.id, h.content) for h in hits] == [("a", "alpha"), ("c", "")]
        assert hits[0].score == pytest.approx(0.995, abs=1e-3)
        db.delete("docs", "a")
        assert [h.id for h in db.search("docs", [1.0, 0.1], top_k=5)] == ["c", "b"]
        with pytest.raises(ProviderError, match='collection "nope" not found'):
            db.search("nope", [1.0, 0.0])
        db.delete_collection("docs")
        process = db.process
        session.unload("go-memdb")
        assert process.exit_code == 0
