"""What the engine providers share about the vectors they are given."""

from __future__ import annotations

from typing import Any


def floats(vector: Any) -> list[float]:
    """A vector as a list of floats: a numpy row (what ``upsert_many`` is given) at C speed, else item by item."""
    return vector.tolist() if hasattr(vector, "tolist") else [float(x) for x in vector]
