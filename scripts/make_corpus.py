#!/usr/bin/env python3
"""Write hector_nb/data/stdlib_docs.csv: the first paragraph of public standard-library docstrings.

Real English text under the PSF licence (hector_nb/data/LICENSE-stdlib-docs.txt),
generated once and committed so the corpus does not change with the interpreter.
"""

from __future__ import annotations

import csv
import importlib
import inspect
import sys
from pathlib import Path

MODULES = [
    "os", "os.path", "shutil", "json", "re", "itertools", "functools", "collections", "math", "statistics",
    "string", "textwrap", "pathlib", "datetime", "random", "heapq", "bisect", "csv", "zipfile", "tarfile",
    "hashlib", "base64", "urllib.parse", "http.client", "socket", "threading", "subprocess", "tempfile",
    "glob", "fnmatch", "difflib", "decimal", "fractions", "operator", "copy", "pickle", "sqlite3", "gzip",
    "time", "calendar", "uuid", "logging", "argparse", "inspect", "typing", "enum", "dataclasses",
]
OUT = Path(__file__).resolve().parent.parent / "hector_nb" / "data" / "stdlib_docs.csv"


def first_paragraph(doc: str) -> str:
    paragraph = inspect.cleandoc(doc).split("\n\n")[0]
    return " ".join(paragraph.split())


def documents() -> list[dict[str, str]]:
    rows, seen = [], set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name, member in sorted(vars(module).items()):
            if name.startswith("_") or not (inspect.isfunction(member) or inspect.isclass(member)
                                            or inspect.isbuiltin(member)):
                continue
            home = (getattr(member, "__module__", None) or module_name).lstrip("_")
            if not home.startswith((module_name.split(".")[0], "posix", "socket", "sre")):
                continue  # a re-export, documented where it lives
            doc = inspect.getdoc(member)
            if not doc:
                continue
            text = first_paragraph(doc)
            if len(text) < 40 or text in seen or name.isupper():
                continue
            seen.add(text)
            rows.append({"id": f"{module_name}.{name}", "title": f"{module_name}.{name}", "module": module_name,
                         "text": text})
    return rows


def main() -> int:
    rows = documents()
    with OUT.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "title", "module", "text"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} documents -> {OUT} (Python {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
