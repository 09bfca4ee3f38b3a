"""A small real text corpus shipped with hector_nb, for trying search end to end."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas

CORPUS = Path(__file__).parent / "stdlib_docs.csv"
LICENSE = Path(__file__).parent / "LICENSE-stdlib-docs.txt"
#: The same corpus as a BEIR dataset with 100 hand-written queries and graded judgements (0/1/2):
#: ``hector_nb.datasets.load_beir(STDLIB_QRELS)``. The queries and judgements are the project's own
#: work under its licence; the documents keep the PSF licence.
STDLIB_QRELS = Path(__file__).parent / "stdlib_qrels"


def load_corpus() -> pandas.DataFrame:
    """Python standard-library docstrings (PSF licence): columns id, title, module, text."""
    import pandas

    return pandas.read_csv(CORPUS, dtype=str, keep_default_na=False)
