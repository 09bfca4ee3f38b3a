"""Seeded clustered vectors for the engine benchmarks: a Gaussian mixture, as embeddings are.

Uniform random vectors in 384 dimensions are all nearly equidistant, which makes
every approximate index look bad; embeddings of text cluster by topic. Here each
vector is one of ``clusters`` random centres plus Gaussian noise, and queries are
drawn the same way (near the data, not copies of it).
"""

from __future__ import annotations

import numpy as np

CLUSTERS = 100
#: The noise's scale beside the centres' (both unit-variance per dimension before scaling).
SPREAD = 0.35


def clustered(count: int, dimension: int, seed: int = 0, clusters: int = CLUSTERS) -> np.ndarray:
    """``count`` float32 rows of ``dimension`` values from a seeded Gaussian mixture of ``clusters`` centres."""
    centres = np.random.default_rng(1234).standard_normal((clusters, dimension)).astype(np.float32)
    rng = np.random.default_rng(seed)
    rows = np.empty((count, dimension), dtype=np.float32)
    for start in range(0, count, 65536):  # in slices: 1M x 384 float64 noise at once would take 3 GB
        stop = min(count, start + 65536)
        members = rng.integers(0, clusters, stop - start)
        rows[start:stop] = centres[members] + SPREAD * rng.standard_normal((stop - start, dimension))
    return rows


def queries(count: int, dimension: int) -> np.ndarray:
    """Queries from the same mixture, with a seed of their own."""
    return clustered(count, dimension, seed=987_654)
