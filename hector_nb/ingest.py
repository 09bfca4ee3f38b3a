"""DataFrame ingestion: a table's text column embedded and upserted into a database plugin, as Hector's
document store fills a collection.

:func:`upsert_frame` is the one way hector_nb fills a collection from a table: the
``%hector upsert`` magic, ``python -m hector_nb demo`` and :func:`hector_nb.evaluate`'s
sweeps call it. Each row becomes one item: its id from ``id_column`` (else a column
named ``id``, else the index), its vector from the text column, and its other columns
as text metadata, the text itself under ``content`` (where Hector's search tool reads it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas

    from .host.clients import DatabaseClient, EmbedderClient

#: The metadata key the text is stored under: Hector's search tool shows a hit's ``content``.
CONTENT = "content"


def upsert_frame(db: DatabaseClient, collection: str, frame: pandas.DataFrame, *, text_column: str,
                 embedder: EmbedderClient, id_column: str | None = None, create: bool = False,
                 vectors: np.ndarray | None = None) -> int:
    """Embed ``frame[text_column]`` with ``embedder`` and upsert every row into ``db``'s ``collection``.

    Ids come from ``id_column`` (default: a column named ``id``, else the index),
    kept as they are: the client refuses a missing one naming its row. The other
    columns become text metadata, ``text_column`` stored as ``content``. As
    Hector's document store does, no ``CreateCollection`` is sent unless
    ``create``: a plugin that needs one fails here as it would under Hector.
    ``vectors``: the rows' embeddings when ``embedder`` already made them (a
    corpus embedded once for several databases). Progress bars show on long
    embeds and upserts. Returns how many ids were written.

    Raises TypeError when ``frame`` is not a DataFrame, ValueError when it has no
    rows, lacks a column or has empty text cells; plugin failures arrive as
    :class:`~hector_nb.errors.HectorError`.
    """
    id_column = _checked(frame, text_column, id_column)
    if vectors is None:
        vectors = embedder.embed_many(frame[text_column].astype(str).tolist())
    if len(vectors) != len(frame):
        raise ValueError(f"{len(vectors)} vectors for {len(frame)} rows; pass one vector per row")
    if create:
        db.create_collection(collection, vectors.shape[1])
    ids = frame[id_column] if id_column else frame.index
    others = frame.drop(columns=[id_column] if id_column else []).astype(str)
    metadata: list[dict[str, Any]] = others.rename(columns={text_column: CONTENT}).to_dict("records")
    # The ids as they are: the client refuses a missing one (NaN, None) naming its row, where str() would make
    # every missing id one item called "nan".
    return db.upsert_many(collection, list(zip(ids.tolist(), vectors, metadata, strict=True)))


def _checked(frame: Any, text_column: str, id_column: str | None) -> str | None:
    """The id column to use, once ``frame`` is known to be a DataFrame with rows, both columns and no empty text."""
    import pandas

    if not isinstance(frame, pandas.DataFrame):
        raise TypeError(f"the frame is a {type(frame).__name__}, not a pandas DataFrame; make one, e.g. "
                        f"pandas.DataFrame({{'{text_column}': texts}})")
    if frame.empty:
        raise ValueError("the DataFrame is empty (no rows); nothing to upsert")
    id_column = id_column or ("id" if "id" in frame.columns else None)
    for column in filter(None, (text_column, id_column)):
        if column not in frame.columns:
            raise ValueError(f"no column {column!r}; the columns: {', '.join(map(str, frame.columns))}")
    missing = frame.index[frame[text_column].isna()].tolist()
    if missing:
        raise ValueError(f"column {text_column!r} has {len(missing)} empty (NaN) cell(s), at rows {missing[:5]}; "
                         f"fill or drop them: frame.dropna(subset=[{text_column!r}])")
    return id_column
