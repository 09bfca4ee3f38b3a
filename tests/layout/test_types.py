"""``mypy hector_nb`` passes in strict mode (pyproject.toml): the public API's types, the generated message stubs and
the code agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


USER_CODE = """
import hector_nb
from hector_nb import Comparison, Fidelity, Session, TransportKind, compare_search
from hector_nb.providers import EchoLLM, MemoryDatabase

session = Session()
session.add("echo", EchoLLM()).stream("a prompt")
session.add("memory", MemoryDatabase()).search("docs", [1.0, 0.0])
session.llm("echo").generate("a prompt")
session.embedder("hashing").embed_many(["a text"])
session.add("echo-2", EchoLLM()).search("docs", [1.0])
session.load("builtin:echo").generate("a prompt")
session.load("builtin:hashing", transport=TransportKind.IN_KERNEL, fidelity=Fidelity.LENIENT).embed("a text")
session.load_database("plugins/my-db", transport="subprocess").search("docs", [1.0, 0.0])
passed: bool = hector_nb.check("builtin:echo").ok
compared: Comparison = compare_search({"memory": session.database("memory")}, "docs", [1.0], reference="memory")
compared.recall.round(2)
"""


def _mypy(*args: str, cache: Path) -> subprocess.CompletedProcess:
    # The settings (packages, untyped libraries) are pyproject.toml's [tool.mypy]; a private cache keeps runs apart.
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(cache), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.timeout(900)
def test_mypy_finds_no_errors_and_clients_have_their_types(tmp_path):
    result = _mypy(cache=tmp_path / "cache")
    assert result.returncode == 0, result.stdout + result.stderr
    # Code using the API: Session.add and the accessors give the specific client, so the one mistake is found.
    user = tmp_path / "user_code.py"
    user.write_text(USER_CODE)
    result = _mypy(str(user), cache=tmp_path / "cache")
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and '"LLMClient" has no attribute "search"' in errors[0], result.stdout


def test_the_wire_messages_have_type_stubs():
    wire = ROOT / "hector_nb" / "plugin" / "_wire"
    modules = sorted(p.stem for p in wire.glob("*_pb2*.py"))
    assert modules and modules == sorted(p.stem for p in wire.glob("*_pb2*.pyi"))
