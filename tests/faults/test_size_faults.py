"""Large things within gRPC's limits: big items in bulk calls, and provider errors of any length."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from go_binaries import go_binaries

from hector_nb.errors import ProviderError
from hector_nb.manifest import PluginManifest, write_manifest
from hector_nb.plugin.servicers import MAX_ERROR_BYTES
from hector_nb.providers import MemoryDatabase

#: Items of these sizes fit one message (256 MB) each; 1,024 of them in one batch did not.
DOCUMENT = "d" * 300_000
DIMENSION = 70_000
TEXT = "t" * 1_100_000
#: The transports whose calls are messages (in-kernel calls are function calls, without a size limit).
MESSAGES = ["in-process", "subprocess"]


# Item 11: batches are cut by bytes as well as by rows.
def test_upsert_many_of_300_kb_documents(session, transport):
    db = session.add("db", MemoryDatabase(), transport=transport)
    db.create_collection("docs", 2)
    count = 900  # 270 MB of documents
    angles = np.linspace(0, np.pi / 2, count)
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1)  # a direction of its own per item
    assert db.upsert_many("docs", [(f"id{i}", vectors[i], {"content": DOCUMENT}) for i in range(count)]) == count
    hit = db.search("docs", vectors[count - 1], 1)[0]
    assert (hit.id, len(hit.metadata["content"])) == (f"id{count - 1}", len(DOCUMENT))


@pytest.mark.parametrize("transport", MESSAGES)
def test_upsert_many_of_70000_dimension_vectors(session, transport):
    db = session.add("db", MemoryDatabase(), transport=transport)
    db.create_collection("wide", DIMENSION)
    vectors = np.eye(1024, DIMENSION, dtype=np.float32)  # 287 MB
    assert db.upsert_many("wide", [(f"id{i}", vectors[i], None) for i in range(1024)]) == 1024
    assert db.search("wide", vectors[1000], 1)[0].id == "id1000"


@pytest.mark.parametrize("transport", MESSAGES)
def test_embed_many_of_1_mb_texts(scripted, transport):
    embedder = scripted("sized.py", "Lengths", transport)
    vectors = embedder.embed_many([TEXT] * 260 + ["short"])  # 286 MB of text
    assert vectors.shape == (261, 2) and vectors[0, 0] == len(TEXT) and vectors[-1, 0] == len("short")


# Item 12: an error of any length is a ProviderError with its start, saying it was cut; the same everywhere.
@pytest.mark.parametrize("letter", ["x", "é", "%"])  # "é" and "%" take three to six bytes once percent-encoded
def test_a_provider_error_of_a_megabyte_is_a_provider_error_saying_it_was_cut(scripted, transport, letter):
    llm = scripted("sized.py", "Wordy", transport, letter=letter, length="1000000")
    messages = []
    for call in (lambda: llm.generate("hi"), llm.model_info):
        with pytest.raises(ProviderError) as raised:
            call()
        messages.append(raised.value.message)
    *_, last = llm.stream("hi")  # a stream reports its error in its last chunk
    messages.append(last.error)
    for message in messages:
        assert message.startswith(f"ValueError: {letter * 100}") and message.endswith("more characters]"), \
            message[-200:]
        assert "[error cut: " in message and len(message.encode()) <= MAX_ERROR_BYTES


def test_an_error_that_fits_is_kept_whole(scripted, transport):
    llm = scripted("sized.py", "Wordy", transport, letter="é", length="300")
    with pytest.raises(ProviderError) as raised:
        llm.generate("hi")
    assert raised.value.message == f"ValueError: {'é' * 300}"


@pytest.mark.slow  # builds the Go interop programs on first use
def test_a_go_plugins_error_of_a_megabyte_is_a_provider_error_saying_it_was_cut(session, tmp_path):
    executable = tmp_path / "echollm"
    shutil.copy(go_binaries() / "echollm", executable)
    write_manifest(PluginManifest(name="go-echollm", version="1.0.0", type="llm_provider"), executable)
    llm = session.load(executable, fidelity="lenient")  # it prints a line before its handshake
    with pytest.raises(ProviderError) as raised:
        llm.generate("fail at length")  # Go sends the whole megabyte in its status trailer
    message = raised.value.message
    assert message.startswith("echo: long long") and message.endswith("more characters]"), message[-200:]
    assert len(message.encode()) <= MAX_ERROR_BYTES
    assert llm.generate("still serving").text == "Echo: still serving"
