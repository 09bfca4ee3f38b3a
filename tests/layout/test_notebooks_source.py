"""notebooks/ is exactly what scripts/make_notebooks.py writes: edit the script, then run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _write_notebooks(out: Path) -> dict[str, bytes]:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_notebooks.py"), "--out", str(out)],
                   check=True, capture_output=True, timeout=120)
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.ipynb"))}


def test_notebooks_are_what_the_script_writes(tmp_path):
    written = _write_notebooks(tmp_path)
    committed = {p.name: p.read_bytes() for p in sorted((ROOT / "notebooks").glob("*.ipynb"))}
    assert sorted(written) == sorted(committed)
    stale = [name for name in written if written[name] != committed[name]]
    assert not stale, f"notebooks/ differs from scripts/make_notebooks.py, run it: {stale}"


def test_the_script_writes_the_same_files_every_time(tmp_path):
    assert _write_notebooks(tmp_path / "a") == _write_notebooks(tmp_path / "b")
