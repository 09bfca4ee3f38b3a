"""The committed stubs (and their type stubs) are exactly what scripts/gen_proto.py generates from proto/."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WIRE = ROOT / "hector_nb" / "plugin" / "_wire"


def test_committed_stubs_match_the_generator(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_proto.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True, timeout=120)
    generated = {p.name: p.read_bytes() for p in tmp_path.glob("*.py*")}
    committed = {p.name: p.read_bytes() for p in WIRE.glob("*.py*")}
    assert any(name.endswith("_pb2.pyi") for name in generated), "no type stubs generated"
    assert sorted(generated) == sorted(committed)
    drifted = [name for name in generated if generated[name] != committed[name]]
    assert not drifted, f"stale stubs, run scripts/gen_proto.py: {drifted}"


def test_proto_field_numbers_match_the_contract():
    from hector_nb import sdk
    from hector_nb.plugin._wire import grpc_broker_pb2, grpc_stdio_pb2

    def fields(message):
        return {f.name: f.number for f in message.DESCRIPTOR.fields}

    assert fields(sdk.StreamChunk) == {"type": 1, "text": 2, "tool_call": 3, "error": 4, "tokens_used": 5}
    assert fields(sdk.SearchResult) == {"id": 1, "score": 2, "content": 3, "vector": 4, "metadata": 5,
                                        "model_name": 6}
    assert fields(sdk.ManifestResponse)["capabilities"] == 8
    assert fields(grpc_stdio_pb2.StdioData) == {"channel": 1, "data": 2}
    assert fields(grpc_broker_pb2.ConnInfo) == {"service_id": 1, "network": 2, "address": 3, "knock": 4}
    assert sdk.StreamChunk.DESCRIPTOR.full_name == "hector.plugin.StreamChunk"
    services = {s.full_name for s in sdk.GenerateRequest.DESCRIPTOR.file.services_by_name.values()}
    assert services == {"hector.plugin.LLMProvider"}
