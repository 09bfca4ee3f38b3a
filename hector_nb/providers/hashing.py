"""HashingEmbedder: deterministic feature hashing of words and character trigrams. No model download."""

from __future__ import annotations

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
        for word in _WORD.findall(text.lower()):
            index, sign = _bucket(word, self.dimension)
            vector[index] += 2.0 * sign
            padded = f"#{word}#"
            for start in range(len(padded) - 2):
                index, sign = _bucket(padded[start:start + 3], self.dimension)
                vector[index] += sign
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def embed_many(self, texts: list[str]) -> np.ndarray:
        """One row per text, as :meth:`embed` computes it: hector_nb's bulk path calls this once per batch."""
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        return np.vstack([self.embed(text) for text in texts])

    def get_embedder_info(self) -> sdk.EmbedderInfo:
        return sdk.EmbedderInfo(model_name=f"hashing-{self.dimension}", dimension=self.dimension)
