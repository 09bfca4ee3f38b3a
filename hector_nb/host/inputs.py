"""What a caller hands a client, checked before a request is built: one error naming the input.

Without these checks a bad input fails deep inside protobuf with a raw
``ValueError``, ``TypeError`` or ``UnicodeEncodeError`` (and only on some
transports), or worse, is sent: a NaN vector makes every later search score NaN.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidInput
from ..plugin.constants import bool_text

#: ``top_k`` is an int32 on the wire.
MAX_TOP_K = 2**31 - 1


def vector(plugin: str, operation: str, value: Any, what: str = "the vector") -> list[float]:
    """``value`` as the list of finite float32 values the wire carries, or :class:`InvalidInput`."""
    return cast("list[float]", row(plugin, operation, value, what).tolist())  # float32 values as Python floats


def row(plugin: str, operation: str, value: Any, what: str = "the vector") -> NDArray[np.float32]:
    """``value`` as a 1-D array of finite float32 values (``value`` itself when it is one), or :class:`InvalidInput`."""
    if isinstance(value, (str, bytes)):
        raise InvalidInput(plugin, operation, f"{what} is text ({value[:40]!r}); give a list or numpy array "
                           "of numbers (embed text with an embedder first)")
    if type(value) is np.ndarray and value.dtype == np.float32:  # an embedder's row: nothing to convert
        array = value
    else:
        try:
            with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, refused below
                array = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(plugin, operation, f"{what} is not a list of numbers ({exc})") from None
    if array.ndim != 1:
        raise InvalidInput(plugin, operation, f"{what} must be one row of numbers; got an array of shape "
                           f"{array.shape}")
    # One dot product tells a row of finite values whose squares fit float32 (every embedding) at a third of
    # isfinite().all()'s cost; only a row it fails on is looked at value by value.
    if not math.isfinite(array.dot(array)) and not np.isfinite(array).all():
        bad = np.flatnonzero(~np.isfinite(array))
        raise InvalidInput(plugin, operation, f"{what} holds NaN or infinite values (at positions "
                           f"{bad[:5].tolist()}); a database would score it NaN: fix or drop it")
    return array


def top_k(plugin: str, value: Any) -> int:
    """``value`` if it is a whole number from 1 to :data:`MAX_TOP_K`, or :class:`InvalidInput`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_TOP_K:
        raise InvalidInput(plugin, "search", f"top_k must be a whole number from 1 to {MAX_TOP_K}, got {value!r}")
    return int(value)


def item_id(plugin: str, operation: str, value: Any, row: int | None = None) -> str:
    """An item's id as text; a missing one (None, NaN, pandas' NA) is :class:`InvalidInput` naming its row,
    never the text ``"None"`` or ``"nan"``, under which every missing id would become one item."""
    if type(value) is str:
        return value
    if value is None or type(value).__name__ in ("NAType", "NaTType") or (
            isinstance(value, (float, np.floating)) and math.isnan(value)):
        which = "the id" if row is None else f"the id of item {row} (counting from 0)"
        raise InvalidInput(plugin, operation, f"{which} is missing ({value!r}); give every item an id "
                           "(drop or fill missing ids first)")
    return str(value)


def metadata_texts(plugin: str, operation: str, id: str, metadata: Mapping[Any, Any] | None) -> dict[str, str]:
    """An item's metadata as the wire carries it, text to text, each value in full; :class:`InvalidInput`
    naming the id and key for a value that has no faithful text (None, bytes that are not UTF-8)."""
    if not metadata:
        return {}
    return {key if type(key) is str else str(key): value if type(value) is str else
            _metadata_text(plugin, operation, id, key, value) for key, value in metadata.items()}


def _metadata_text(plugin: str, operation: str, id: str, key: Any, value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return bool_text(value)
    if isinstance(value, np.ndarray):  # in full: str() would abbreviate it with "..."
        return json.dumps(value.tolist())
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            raise InvalidInput(plugin, operation, f"metadata {key!r} of id {id!r} is bytes that are not UTF-8 "
                               "text; metadata is text on Hector's wire: encode it (e.g. base64) first") from None
    if value is None:
        raise InvalidInput(plugin, operation, f"metadata {key!r} of id {id!r} is None; metadata is text on "
                           "Hector's wire: drop the key or give it a value")
    return str(value)


class building:  # lower case: used like the function it replaces, ``with building(...)``
    """Turn protobuf's refusal of a field value, while a request is built, into :class:`InvalidInput`.

    A class rather than ``@contextmanager``: it wraps every in-kernel call, where
    a generator-based context manager would cost more than the call itself.
    """

    def __init__(self, plugin: str, operation: str, what: str) -> None:
        self.plugin, self.operation, self.what = plugin, operation, what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, traceback: Any) -> None:
        if isinstance(exc, UnicodeEncodeError):
            character = exc.object[exc.start:exc.end] if isinstance(exc.object, str) else "?"
            raise InvalidInput(self.plugin, self.operation, f"{self.what} holds {character!r} at position "
                               f"{exc.start}, a lone surrogate that is not valid UTF-8; remove it, e.g. "
                               "text.encode('utf-8', 'replace').decode()") from None
        if isinstance(exc, (TypeError, ValueError)):
            raise InvalidInput(self.plugin, self.operation, f"{self.what} cannot be sent: {exc}") from None
