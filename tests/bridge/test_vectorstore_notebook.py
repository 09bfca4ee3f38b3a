"""notebooks/store_bridge.ipynb runs end to end on a real kernel: Hector's document stores (simulated from the
requests real Hector sends) index into, and search, the notebook's database, over HTTP and over TLS."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "store_bridge.ipynb"


def _text(cell) -> str:
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") + o.get("ename", "")
                   for o in cell.outputs)


@pytest.mark.timeout(300)
def test_the_store_bridge_notebook_runs_end_to_end(tmp_path):
    shutil.copy(NOTEBOOK, tmp_path)  # it writes a folder of documents beside itself
    notebook = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    NotebookClient(notebook, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    everything = "\n".join(_text(cell) for cell in code)
    assert "Hector v2:  vector_stores: {store: {type: milvus, host: 127.0.0.1, port: " in everything
    assert "source: {type: collection, collection: COLLECTION}" in everything
    assert "chunks indexed: 5 failed: 0" in everything
    assert everything.count("same id: True") == 2 and "same id: False" not in everything
    assert "[('notes/loire.md', 'The Loire valley is famous for its castles.')]" in everything
    assert "['france.txt', 'germany.md']" in everything  # italy.txt's chunks deleted by filter
    assert "enable_tls: true, ca_certificate: " in everything and "chunks indexed over TLS: 3" in everything
    assert "Berlin is the capital of Germany." in everything and "v1_docs" in everything
