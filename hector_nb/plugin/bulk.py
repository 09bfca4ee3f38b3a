"""hector_nb's bulk services (``proto/bulk.proto``), served beside Hector's.

Hector never calls ``hector_nb.bulk.BulkDatabase`` or ``BulkEmbedder``; hector_nb's
host does, when it loads an SDK plugin, to move many vectors in few messages.
Each batch becomes one call of the servicer's ``upsert_batch`` /
``embed_batch``: the provider's ``upsert_many`` / ``embed_many`` when it has
them, per-item calls otherwise, with Hector's error rules either way.

Vectors are raw little-endian float32 bytes. Providers receive them as a 2-D
numpy array when numpy is installed, else as lists of floats: this module,
like the rest of ``hector_nb.plugin``, runs without numpy.
"""

from __future__ import annotations

import array
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import grpc

from ._wire import bulk_pb2, bulk_pb2_grpc
from .servicers import DatabaseServicer, EmbedderServicer, Servicer


def _numpy() -> Any:
    """numpy, or None: imported on first use, so an LLM plugin never pays for it at start."""
    try:
        import numpy
    except ImportError:  # an exported plugin may run without it
        return None
    return numpy


def decode_rows(data: bytes, count: int, dimension: int) -> Any:
    """``count`` rows of ``dimension`` float32 values: a 2-D numpy array, or lists without numpy."""
    if len(data) != 4 * count * dimension:
        raise ValueError(f"{count} ids of dimension {dimension} need {4 * count * dimension} bytes of vectors, "
                         f"got {len(data)}")
    numpy = _numpy()
    if numpy is not None:
        return numpy.frombuffer(data, dtype="<f4").reshape(count, dimension).astype(numpy.float32, copy=False)
    values = array.array("f", data)
    if sys.byteorder != "little":
        values.byteswap()
    return [values[i * dimension:(i + 1) * dimension].tolist() for i in range(count)]


def encode_rows(rows: Any) -> tuple[int, bytes]:
    """Rows of floats (a 2-D array, or a sequence of equally long vectors) as ``(dimension, bytes)``."""
    numpy = _numpy()
    if numpy is not None:
        matrix = numpy.asarray(rows, dtype="<f4")
        if matrix.ndim != 2:
            raise ValueError(f"expected one vector per text, got an array of shape {matrix.shape}")
        return matrix.shape[1], matrix.tobytes()
    rows = [list(row) for row in rows]
    dimension = len(rows[0]) if rows else 0
    if any(len(row) != dimension for row in rows):
        raise ValueError("the vectors of one batch differ in length")
    values = array.array("f", [value for row in rows for value in row])
    if sys.byteorder != "little":
        values.byteswap()
    return dimension, values.tobytes()


def uneven_vectors(texts: Sequence[str], rows: Any) -> str:
    """In words, the first text whose vector's length differs from the first text's; "" when none does."""
    try:
        lengths = [len(row) for row in rows]
    except TypeError:  # not rows of values at all: the caller says so
        return ""
    for text, length in zip(texts, lengths, strict=False):  # a wrong count of rows is the caller's to report
        if length != lengths[0]:
            return (f"the embeddings differ in length: {lengths[0]} values for the text {_quoted(texts[0])}, "
                    f"{length} for the text {_quoted(text)}; return vectors of one length")
    return ""


def _quoted(text: str, limit: int = 60) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


class BulkDatabase(bulk_pb2_grpc.BulkDatabaseServicer):
    """``hector_nb.bulk.BulkDatabase`` over a :class:`~.servicers.DatabaseServicer`."""

    def __init__(self, servicer: DatabaseServicer) -> None:
        self._servicer = servicer

    def UpsertBatches(self, request_iterator: Iterator[bulk_pb2.UpsertBatch], context: grpc.ServicerContext
                      ) -> Iterator[bulk_pb2.UpsertBatchesResponse]:
        for batch in request_iterator:
            count = len(batch.ids)
            try:
                rows = decode_rows(batch.vectors, count, batch.dimension)
                metadata: Sequence[dict[str, str]] = [dict(m.entries) for m in batch.metadata] or [{}] * count
                if len(metadata) != count:
                    raise ValueError(f"{count} ids but {len(metadata)} metadata entries")
            except ValueError as exc:
                yield bulk_pb2.UpsertBatchesResponse(error=f"malformed batch: {exc}")
                return
            error = self._servicer.upsert_batch(batch.collection, list(batch.ids), rows, metadata)
            yield bulk_pb2.UpsertBatchesResponse(upserted=0 if error else count, error=error)
            if error:
                return


class BulkEmbedder(bulk_pb2_grpc.BulkEmbedderServicer):
    """``hector_nb.bulk.BulkEmbedder`` over an :class:`~.servicers.EmbedderServicer`."""

    def __init__(self, servicer: EmbedderServicer) -> None:
        self._servicer = servicer

    def EmbedBatch(self, request: bulk_pb2.EmbedBatchRequest, context: grpc.ServicerContext
                   ) -> bulk_pb2.EmbedBatchResponse:
        if not request.texts:
            return bulk_pb2.EmbedBatchResponse()
        rows, error = self._servicer.embed_batch(list(request.texts))
        if error:
            return bulk_pb2.EmbedBatchResponse(error=error)
        try:
            dimension, data = encode_rows(rows)
        except ValueError as exc:
            return bulk_pb2.EmbedBatchResponse(error=uneven_vectors(request.texts, rows) or f"embed_many: {exc}")
        if dimension == 0 or dimension * len(request.texts) * 4 != len(data):
            rows_returned = len(data) // max(4 * dimension, 1)
            return bulk_pb2.EmbedBatchResponse(
                error=f"embed_many returned {rows_returned} vectors for {len(request.texts)} texts")
        return bulk_pb2.EmbedBatchResponse(dimension=dimension, vectors=data)


def add_bulk_to_server(server: grpc.Server, servicer: Servicer) -> None:
    """Register the bulk service that fits ``servicer``'s provider type (LLMs have none)."""
    if isinstance(servicer, DatabaseServicer):
        bulk_pb2_grpc.add_BulkDatabaseServicer_to_server(BulkDatabase(servicer), server)
    elif isinstance(servicer, EmbedderServicer):
        bulk_pb2_grpc.add_BulkEmbedderServicer_to_server(BulkEmbedder(servicer), server)
