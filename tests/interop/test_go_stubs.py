"""The committed Go stubs are what go/gen.sh generates from proto/ (the Python stubs' source too)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

GO_DIR = Path(__file__).parent / "go"


@pytest.mark.timeout(600)
def test_go_stubs_match_the_proto_files(go_bin, tmp_path):
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run(["bash", str(GO_DIR / "gen.sh"), str(tmp_path)], check=True, capture_output=True, env=env,
                   timeout=600)
    generated = {p.name: p.read_bytes() for p in tmp_path.glob("*.go")}
    committed = {p.name: p.read_bytes() for p in (GO_DIR / "proto").glob("*.go")}
    assert sorted(generated) == sorted(committed) and len(committed) == 7
    assert [name for name in generated if generated[name] != committed[name]] == []
