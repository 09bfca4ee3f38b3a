"""Bulk calls, host side: items grouped into batches, and the ways batches travel.

``upsert_many`` and ``embed_many`` go the fastest way the provider allows:

- in-kernel, a batch is one call of the provider's ``upsert_many`` /
  ``embed_many`` (per-item calls when it has none): no protobuf per item;
- to an SDK plugin, batches stream over ``hector_nb.bulk.BulkDatabase`` /
  ``BulkEmbedder`` (``proto/bulk.proto``), services Hector never calls;
- to any other plugin (a Go plugin answers UNIMPLEMENTED to the one probe),
  pipelined unary ``Upsert`` / ``Embed`` calls, one per item, as Hector's wire has it.
"""

from __future__ import annotations

import collections
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ..errors import InvalidInput, ProviderError
from ..plugin import sdk
from ..plugin._wire import bulk_pb2
from ..plugin.bulk import uneven_vectors

if TYPE_CHECKING:
    from .rpc import PendingCall

Request = TypeVar("Request")
Reply = TypeVar("Reply")

#: Rows per batch: 1,024 rows of 384 floats make a 1.5 MB message.
BATCH_ROWS = 1024
#: Texts per embedding batch.
BATCH_TEXTS = 256
#: Characters of text plus bytes of vectors per batch, at most: even at four UTF-8 bytes per character a
#: batch stays far below the 256 MB a message may hold; a larger item travels alone.
BATCH_BYTES = 32 * 1024 * 1024
#: How many unary requests may be on the wire at once when pipelining.
MAX_IN_FLIGHT = 64
_FLOAT32 = np.dtype("<f4")


@dataclass
class VectorBatch:
    """Consecutive upserts of one dimension: ids, a 2-D float32 array, metadata as text."""

    ids: list[str]
    vectors: np.ndarray
    metadata: list[dict[str, str]]

    def __len__(self) -> int:
        return len(self.ids)


def vector_batches(plugin: str, operation: str, ids: Sequence[str], items: Sequence[tuple[Any, Any, Any]],
                   metadata_text: Callable[[str, Any], dict[str, str]], rows: int = BATCH_ROWS
                   ) -> Iterator[VectorBatch]:
    """``(id, vector, metadata)`` items, in order, as checked batches of at most ``rows`` items.

    ``ids`` are the items' ids as text; ``metadata_text(id, metadata)`` turns an
    item's metadata into text. Batches stay small in-kernel too: a fresh large array costs more
    (page faults) than a growing database's copies. Each batch is checked
    as :func:`.inputs.vector` checks one vector, at once: numbers only, finite,
    and text that is valid UTF-8. Where the vector length changes inside a batch,
    the batch is cut there, so a wrong-sized vector reaches the provider in a
    batch of its own and the provider's error names it.
    """
    for start in range(0, len(items), rows):
        chunk = items[start:start + rows]
        batch_ids = list(ids[start:start + rows])
        vectors = [item[1] for item in chunk]
        given = [item[2] for item in chunk]
        metadata = _text_copies(given) or [metadata_text(id, meta) for id, meta in zip(batch_ids, given, strict=True)]
        try:
            with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, refused below
                matrix: np.ndarray | None = np.asarray(vectors, dtype=np.float32)
        except (TypeError, ValueError):  # ragged, or not numbers: the slow path below says which
            matrix = None
        if matrix is not None and matrix.ndim == 2:
            yield from _within_bytes(_checked_batch(plugin, operation, batch_ids, matrix, metadata))
            continue
        for same in _runs_of_one_length(plugin, operation, batch_ids, vectors):
            run_ids = batch_ids[same.start:same.stop]
            matrix = _rows(plugin, operation, run_ids, vectors[same.start:same.stop])
            yield from _within_bytes(_checked_batch(plugin, operation, run_ids, matrix, metadata[same.start:same.stop]))


def _within_bytes(batch: VectorBatch, limit: int = BATCH_BYTES) -> Iterator[VectorBatch]:
    """The batch, cut into consecutive batches of at most ``limit`` bytes each (an item larger than that alone)."""
    texts = itertools.chain(batch.ids, itertools.chain.from_iterable(map(dict.keys, batch.metadata)),
                            itertools.chain.from_iterable(map(dict.values, batch.metadata)))
    if batch.vectors.nbytes + sum(map(len, texts)) <= limit:  # the usual case, measured without a loop per item
        return iter([batch])
    row_bytes = batch.vectors.shape[1] * batch.vectors.itemsize
    sizes = [row_bytes + len(id) + sum(map(len, meta.keys())) + sum(map(len, meta.values()))
             for id, meta in zip(batch.ids, batch.metadata, strict=True)]
    return (VectorBatch(batch.ids[span], batch.vectors[span], batch.metadata[span]) for span in _spans(sizes, limit))


def _spans(sizes: list[int], limit: int) -> Iterator[slice]:
    """Consecutive slices of items whose ``sizes`` add up to at most ``limit`` (at least one item each)."""
    start, total = 0, 0
    for index, size in enumerate(sizes):
        if index > start and total + size > limit:
            yield slice(start, index)
            start, total = index, 0
        total += size
    yield slice(start, len(sizes))


def _text_copies(metadata: list[Any]) -> list[dict[str, str]] | None:
    """Copies of the items' metadata when each is a dict of text to text, the usual case, found
    without a Python-level step per item; None when some item's metadata needs converting."""
    if set(map(type, metadata)) != {dict}:
        return None
    keys = set(map(type, itertools.chain.from_iterable(metadata)))
    values = set(map(type, itertools.chain.from_iterable(map(dict.values, metadata))))
    if keys | values <= {str}:
        return list(map(dict, metadata))
    return None


def _runs_of_one_length(plugin: str, operation: str, ids: list[str], vectors: list[Any]) -> Iterator[range]:
    """The index ranges of consecutive vectors of one length."""
    first, length = 0, None
    for index, (id, vector) in enumerate(zip(ids, vectors, strict=True)):
        try:
            size = len(vector)
        except TypeError:
            raise InvalidInput(plugin, operation, f"the vector of id {id!r} is {type(vector).__name__}, not a "
                               "list or numpy array of numbers") from None
        if length is not None and size != length:
            yield range(first, index)
            first = index
        length = size
    yield range(first, len(ids))


def _rows(plugin: str, operation: str, ids: list[str], vectors: list[Any]) -> np.ndarray:
    """Vectors of one length as a 2-D float32 array; the per-vector check names the first that is not numbers."""
    from . import inputs

    return np.asarray([inputs.vector(plugin, operation, vector, f"the vector of id {id!r}")
                       for id, vector in zip(ids, vectors, strict=True)], dtype=np.float32)


def _checked_batch(plugin: str, operation: str, ids: list[str], matrix: np.ndarray,
                   metadata: list[dict[str, str]]) -> VectorBatch:
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise InvalidInput(plugin, operation, f"the vector of id {ids[row]!r} holds NaN or infinite values; "
                           "a database would score it NaN: fix or drop it")
    _check_text(plugin, operation, ids, metadata)
    return VectorBatch(ids, matrix, metadata)


def _check_text(plugin: str, operation: str, ids: list[str], metadata: list[dict[str, str]]) -> None:
    """Refuse what protobuf would refuse on the wire (lone surrogates), on every transport alike."""
    keys = itertools.chain.from_iterable(map(dict.keys, metadata))
    values = itertools.chain.from_iterable(map(dict.values, metadata))
    texts = itertools.chain(ids, keys, values)
    if all(map(str.isascii, texts)):  # the usual case, checked without a Python-level loop
        return
    try:
        "".join(ids).encode()
        "".join(text for meta in metadata for pair in meta.items() for text in pair).encode()
    except UnicodeEncodeError:
        for id, meta in zip(ids, metadata, strict=True):
            for text in (id, *meta.keys(), *meta.values()):
                try:
                    text.encode()
                except UnicodeEncodeError as exc:
                    raise InvalidInput(plugin, operation, f"the id or metadata of id {id!r} holds "
                                       f"{text[exc.start:exc.end]!r}, a lone surrogate that is not valid UTF-8; "
                                       "remove it, e.g. text.encode('utf-8', 'replace').decode()") from None


def upsert_message(collection: str, batch: VectorBatch) -> bulk_pb2.UpsertBatch:
    """A batch as one ``hector_nb.bulk.UpsertBatch`` message."""
    metadata = [bulk_pb2.Metadata(entries=meta) for meta in batch.metadata] if any(batch.metadata) else []
    return bulk_pb2.UpsertBatch(collection=collection, ids=batch.ids, dimension=batch.vectors.shape[1],
                                vectors=batch.vectors.astype(_FLOAT32, copy=False).tobytes(), metadata=metadata)


def upsert_requests(collection: str, batches: Iterable[VectorBatch]) -> Iterator[sdk.UpsertRequest]:
    """Batches as Hector's per-item ``UpsertRequest`` messages, for plugins without the bulk service."""
    for batch in batches:
        for id, row, meta in zip(batch.ids, batch.vectors.tolist(), batch.metadata, strict=True):
            yield sdk.UpsertRequest(collection=collection, id=id, vector=row, metadata=meta)


def text_batches(texts: Iterable[str], size: int = BATCH_TEXTS, limit: int = BATCH_BYTES) -> Iterator[list[str]]:
    """Consecutive texts, at most ``size`` per batch and ``limit`` characters (a longer text alone)."""
    batch: list[str] = []
    characters = 0
    for text in texts:
        if batch and characters + len(text) > limit:
            yield batch
            batch, characters = [], 0
        batch.append(text)
        characters += len(text)
        if len(batch) == size:
            yield batch
            batch, characters = [], 0
    if batch:
        yield batch


def embedding(plugin: str, reply: sdk.EmbedResponse) -> np.ndarray:
    """One ``EmbedResponse``'s vector, or the provider's error as :class:`ProviderError`."""
    if reply.error:
        raise ProviderError(plugin, "embed_many", reply.error)
    return np.asarray(reply.vector, dtype=np.float32)


def embedding_rows(plugin: str, rows: Any, texts: Sequence[str]) -> np.ndarray:
    """What a provider's ``embed_many`` (or ``embed`` per text) returned for ``texts``, as float32 rows."""
    try:
        matrix = np.asarray(rows, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ProviderError(plugin, "embed_many", uneven_vectors(texts, rows)
                            or f"the embeddings are not rows of numbers: {exc}") from None
    if matrix.ndim != 2 or len(matrix) != len(texts):
        raise ProviderError(plugin, "embed_many", f"{len(texts)} texts, but the embeddings have shape "
                            f"{matrix.shape}; return one vector per text")
    return matrix


def decoded_embeddings(plugin: str, reply: bulk_pb2.EmbedBatchResponse, count: int) -> np.ndarray:
    """The ``count`` rows of an ``EmbedBatchResponse``, or its error as :class:`ProviderError`."""
    if reply.error:
        raise ProviderError(plugin, "embed_many", reply.error)
    rows = np.frombuffer(reply.vectors, dtype=_FLOAT32)
    if reply.dimension == 0 or rows.size != count * reply.dimension:
        raise ProviderError(plugin, "embed_many", f"{count} texts, but the answer holds {rows.size} values of "
                            f"dimension {reply.dimension}")
    rows = rows.reshape(count, reply.dimension)
    return rows if sys.byteorder == "little" else rows.astype(np.float32)


def pipelined(submit: Callable[[Request], PendingCall[Reply]], requests: Iterable[Request]) -> Iterator[Reply]:
    """Unary calls with at most :data:`MAX_IN_FLIGHT` on the wire, answers in the order of the requests.

    Stopping early (an error, or the caller closing the iterator) cancels the calls in flight.
    """
    pending: collections.deque[PendingCall[Reply]] = collections.deque()
    try:
        for request in requests:
            if len(pending) >= MAX_IN_FLIGHT:
                yield pending.popleft().result()
            pending.append(submit(request))
        while pending:
            yield pending.popleft().result()
    finally:
        for call in pending:
            call.cancel()


class RequestStream:
    """The requests of a client-streaming call, built lazily by gRPC's sending thread.

    gRPC swallows an exception raised while it pulls a request; this keeps it,
    ends the stream there, and :meth:`raise_failure` raises it in the caller's thread.
    """

    def __init__(self, requests: Iterable[Any]) -> None:
        self._requests = requests
        self.failure: BaseException | None = None

    def __iter__(self) -> Iterator[Any]:
        try:
            yield from self._requests
        except Exception as exc:  # noqa: BLE001 - raised again in the caller's thread
            self.failure = exc

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure
