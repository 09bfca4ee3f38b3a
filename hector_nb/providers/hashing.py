"""HashingEmbedder: deterministic feature hashing of words and character trigrams. No model download."""

from __future__ import annotations

import collections
import functools
import hashlib
import re

import numpy as np

from .. import sdk

_WORD = re.compile(r"\w+")


def _bucket(feature: str, dimension: int) -> tuple[int, float]:
    # blake2b, not hash(): Python salts str hashes per process, and a subprocess plugin
    # must embed exactly as the in-kernel one does.
    digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    return digest % dimension, 1.0 if (digest >> 63) & 1 else -1.0


@functools.lru_cache(maxsize=65536)
def _features(word: str, dimension: int) -> tuple[tuple[int, float], ...]:
    """The signed buckets of one word: the word itself (weight 2) and its character trigrams."""
    index, sign = _bucket(word, dimension)
    padded = f"#{word}#"
    return ((index, 2.0 * sign), *(_bucket(padded[start:start + 3], dimension) for start in range(len(padded) - 2)))


class HashingEmbedder(sdk.EmbedderProvider):
    """Words and character trigrams hashed into ``dimension`` signed buckets, L2-normalised.

    Texts that share words land close together, which is enough to try search
    end to end. Config ``dimension`` (default 256).
    """

    name = "hashing"
    version = "0.1.0"
    description = "Deterministic feature-hashing embedder (words and character trigrams)."
    config_optional = ("dimension",)
    config_defaults = {"dimension": "256"}

    def __init__(self) -> None:
        self.dimension = 256

    def initialize(self, config: dict[str, str]) -> None:
        dimension = int(config.get("dimension") or 256)
        if dimension < 1:
            raise ValueError(f"dimension must be a positive integer, got {dimension}")
        self.dimension = dimension

    def embed(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        # Each distinct word is hashed once and weighted by its count (sums of small integers, exact in
        # float32): a long text repeats its words, and an 8 MB one embeds in about a second.
        for word, count in collections.Counter(_WORD.findall(text.lower())).items():
            for index, sign in _features(word, self.dimension):
                vector[index] += sign * count
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def embed_many(self, texts: list[str]) -> np.ndarray:
        """One row per text, as :meth:`embed` computes it: hector_nb's bulk path calls this once per batch."""
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        return np.vstack([self.embed(text) for text in texts])

    def get_embedder_info(self) -> sdk.EmbedderInfo:
        return sdk.EmbedderInfo(model_name=f"hashing-{self.dimension}", dimension=self.dimension)
