"""A small real text corpus shipped with hector_nb, for trying search end to end."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas

CORPUS = Path(__file__).parent / "stdlib_docs.csv"
LICENSE = Path(__file__).parent / "LICENSE-stdlib-docs.txt"


def load_corpus() -> pandas.DataFrame:
    """Python standard-library docstrings (PSF licence): columns id, title, module, text."""
    import pandas

    return pandas.read_csv(CORPUS, dtype=str, keep_default_na=False)
