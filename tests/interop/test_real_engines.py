"""A real engine, exported as a Hector plugin, driven by the Go go-plugin host with Hector's handshake."""

from __future__ import annotations

import sys

import pytest
from extras import require
from go_binaries import response, run_host
from packaging.requirements import Requirement

from hector_nb.export import export_provider
from hector_nb.providers import QdrantDatabase

pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]  # the first test may build the Go programs


def test_exported_qdrant_plugin_in_the_go_host(go_bin, tmp_path):
    require("qdrant", "qdrant_client")
    exported = export_provider(QdrantDatabase, tmp_path / "plugins", python=sys.executable)
    # The engine's distribution, as its extra names it in hector_nb's metadata (a version range with it).
    required = [Requirement(line).name for line in exported.requirements.read_text().split()]
    assert "qdrant-client" in required
    seen = run_host(go_bin, exported.executable, "database_provider")
    assert response(seen, "Initialize") == {"success": True, "error": ""}
    assert response(seen, "GetManifest")["type"] == "database_provider"
    assert response(seen, "CreateCollection") == {"success": True, "error": ""}
    assert [r["response"] for r in seen["Upsert"]] == [{"success": True, "error": ""}] * 2
    hits = response(seen, "Search")["results"]
    # Ids "a" and "b" are not UUIDs: Qdrant stores them under derived UUIDs, Hector gets its own ids back.
    assert [(h["id"], h["content"]) for h in hits] == [("a", "alpha"), ("b", "beta")]
    assert hits[0]["score"] == pytest.approx(1 / 1.01 ** 0.5, abs=1e-5)
    assert hits[0]["metadata"] == {"text": "alpha", "content": "alpha"}  # both of Hector's text readers
    assert [h["id"] for h in response(seen, "SearchAfterDelete")["results"]] == ["b"]
    assert response(seen, "SearchMissing") == {"results": [], "error": ""}  # nothing written there yet
    assert response(seen, "DeleteCollection") == {"success": True, "error": ""}
    assert response(seen, "Shutdown") == {"success": True, "error": ""}
    assert seen["exit"][0]["alive"] is False and seen["exit"][0]["graceful"] is True
