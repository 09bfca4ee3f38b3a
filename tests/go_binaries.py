"""Build the Go interop programs (tests/interop/go) once per source change, and find them.

Outside CI the Go tests skip, with the reason, only when ``go`` is missing;
``HECTOR_NB_REQUIRE_GO=1`` (set by .ci/run) turns that skip into a failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GO_DIR = Path(__file__).parent / "interop" / "go"
CACHE = Path(os.environ.get("HECTOR_NB_GO_CACHE", Path.home() / ".cache" / "hector_nb" / "interop"))
BUILD_TIMEOUT = 900
#: What ``go build ./cmd/...`` makes: the go-plugin host, the plugins (noisyembedder prints before its handshake)
#: and the official Go OpenAI client driving the bridge.
BINARIES = ("host", "echollm", "memdb", "noisyembedder", "bridgeclient")


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(GO_DIR.rglob("*")):
        if path.suffix in (".go", ".mod", ".sum") and "bin" not in path.relative_to(GO_DIR).parts:
            digest.update(str(path.relative_to(GO_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def go_binaries() -> Path:
    """The directory holding :data:`BINARIES`, built from the current sources."""
    go = shutil.which("go")
    if go is None:
        if os.environ.get("HECTOR_NB_REQUIRE_GO") == "1":
            pytest.fail("HECTOR_NB_REQUIRE_GO=1 but `go` is not on PATH: the interop tests must run here")
        pytest.skip("`go` is not on PATH: the Go interop tests need a Go toolchain")
    target = CACHE / _sources_digest()
    if not all((target / binary).exists() for binary in BINARIES):
        target.mkdir(parents=True, exist_ok=True)
        result = subprocess.run([go, "build", "-o", str(target) + os.sep, "./cmd/..."], cwd=GO_DIR,
                                capture_output=True, text=True, timeout=BUILD_TIMEOUT)
        if result.returncode != 0:
            pytest.fail(f"go build failed:\n{result.stderr}")
    return target


def python_plugin(directory: Path, script: Path, *args: str) -> Path:
    """An executable that runs ``script`` with this interpreter, as Hector would start a plugin."""
    executable = directory / f"{script.stem}{'-' + '-'.join(args) if args else ''}"
    executable.write_text(f"#!{sys.executable}\nimport runpy, sys\nsys.argv = [{str(script)!r}, *{list(args)!r}]\n"
                          f"runpy.run_path({str(script)!r}, run_name='__main__')\n")
    executable.chmod(0o755)
    return executable


def run_host(go_bin: Path, plugin: Path, plugin_type: str) -> dict[str, list[dict]]:
    """Run the Go host on ``plugin``: what it saw, per RPC (tests/interop/go/cmd/host drives every RPC)."""
    result = subprocess.run([str(go_bin / "host"), "-plugin", str(plugin), "-type", plugin_type],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    seen: dict[str, list[dict]] = {}
    for line in result.stdout.splitlines():
        record = json.loads(line)
        seen.setdefault(record["rpc"], []).append(record)
    return seen


def response(seen: dict[str, list[dict]], rpc: str, index: int = 0) -> dict:
    """The response of the ``index``-th call of ``rpc``, which must have succeeded."""
    record = seen[rpc][index]
    assert record["ok"], record
    return record["response"]
