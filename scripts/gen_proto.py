#!/usr/bin/env python3
"""Regenerate the committed Python stubs in hector_nb/plugin/_wire from proto/.

Usage: python scripts/gen_proto.py [--out DIR]

grpc_tools.protoc writes ``import common_pb2`` for ``import "common.proto"``,
a top-level import that breaks inside a package; the imports are rewritten to
package-relative ones so the stubs work wherever ``_wire`` is copied (the
exported plugins carry it too). mypy-protobuf's plugins write the type stubs
(``.pyi``) beside them, so ``mypy hector_nb`` sees every message's fields.

protoc runs on copies of the files placed under ``hector_nb/plugin/_wire/``, so
the stubs register them in protobuf's process-wide descriptor pool under that
path, not as a bare ``common.proto``: another library's ``common.proto``
(pymilvus has one) would otherwise refuse to load beside hector_nb ("duplicate
file name"). Package and message names, the only names on the wire, are unchanged.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
DEFAULT_OUT = ROOT / "hector_nb" / "plugin" / "_wire"
PROTOS = [
    "common.proto",
    "llm.proto",
    "database.proto",
    "embedder.proto",
    "grpc_controller.proto",
    "grpc_stdio.proto",
    "grpc_broker.proto",
    "bulk.proto",  # hector_nb's own bulk services: not Hector's wire
]
#: Where the .proto files seem to live, for protoc and the descriptor pool.
VIRTUAL_DIR = "hector_nb/plugin/_wire"
_LOCAL_IMPORT = re.compile(r"^(?:import|from hector_nb\.plugin\._wire import) (\w+_pb2) as", re.MULTILINE)
_PROTO_IMPORT = re.compile(r'^import "(\w+\.proto)";', re.MULTILINE)


def _plugin(name: str) -> str:
    """A protoc plugin installed with this interpreter (mypy-protobuf's), found even outside an activated venv."""
    beside = Path(sysconfig.get_path("scripts")) / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: pip install -e '.[dev]' (it comes with mypy-protobuf)")
    return f"--plugin={name}={found}"


def generate(out: Path) -> list[Path]:
    """Run protoc into ``out`` and make the generated imports package-relative."""
    import grpc_tools
    from grpc_tools import protoc

    out.mkdir(parents=True, exist_ok=True)
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as scratch:
        sources, generated = Path(scratch) / "proto", Path(scratch) / "out"
        (sources / VIRTUAL_DIR).mkdir(parents=True)
        generated.mkdir()
        for name in PROTOS:
            text = _PROTO_IMPORT.sub(rf'import "{VIRTUAL_DIR}/\1";', (PROTO_DIR / name).read_text())
            (sources / VIRTUAL_DIR / name).write_text(text)
        args = [
            "protoc",
            f"-I{sources}",
            f"-I{well_known}",
            f"--python_out={generated}",
            f"--grpc_python_out={generated}",
            _plugin("protoc-gen-mypy"),
            _plugin("protoc-gen-mypy_grpc"),
            f"--mypy_out={generated}",
            f"--mypy_grpc_out={generated}",
            *(f"{VIRTUAL_DIR}/{name}" for name in PROTOS),
        ]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        for path in (generated / VIRTUAL_DIR).glob("*_pb2*.py*"):
            shutil.move(path, out / path.name)
    written = []
    for path in sorted(out.glob("*_pb2*.py*")):
        text = _LOCAL_IMPORT.sub(r"from . import \1 as", path.read_text())
        path.write_text(text)
        written.append(path)
    (out / "__init__.py").write_text('"""Generated protobuf and gRPC stubs (scripts/gen_proto.py)."""\n')
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(path.relative_to(args.out.parent) if path.is_relative_to(args.out.parent) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
