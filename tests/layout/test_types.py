"""``mypy hector_nb`` passes: the public API's types, the generated message stubs and the code agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
def test_mypy_finds_no_errors(tmp_path):
    # The settings (packages, untyped libraries) are pyproject.toml's [tool.mypy]; a private cache keeps runs apart.
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_wire_messages_have_type_stubs():
    wire = ROOT / "hector_nb" / "plugin" / "_wire"
    modules = sorted(p.stem for p in wire.glob("*_pb2*.py"))
    assert modules and modules == sorted(p.stem for p in wire.glob("*_pb2*.pyi"))
