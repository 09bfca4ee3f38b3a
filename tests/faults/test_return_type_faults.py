"""A provider returning the wrong type gets the same clear error on every transport, before the wire."""

from __future__ import annotations

import pytest

from faults.wrong_types import FortyTwoLLM, NumberSearch, TextEmbedder
from hector_nb.errors import ProviderError


def test_generate_returning_a_number(session, transport):
    llm = session.add("llm", FortyTwoLLM(), transport=transport)
    with pytest.raises(ProviderError, match=r"generate returned int 42; it must return a str or "
                                            r"sdk.GenerateResponse"):
        llm.generate("hi")
    with pytest.raises(ProviderError, match=r"get_model_info returned dict .*; it must return sdk.ModelInfo"):
        llm.model_info()
    assert llm.health().healthy  # the plugin still serves


def test_search_returning_a_number_or_numbers(session, transport):
    db = session.add("db", NumberSearch(), transport=transport)
    with pytest.raises(ProviderError, match=r"search returned int 42; it must return a list of sdk.SearchResult"):
        db.search("number", [1.0, 0.0], 1)
    with pytest.raises(ProviderError, match=r"search returned int 42; it must return a list of sdk.SearchResult"):
        db.search("list", [1.0, 0.0], 1)


def test_embed_returning_text(session, transport):
    embedder = session.add("embedder", TextEmbedder(), transport=transport)
    with pytest.raises(ProviderError, match=r"embed returned str '0.1, 0.2'; it must return a list \(or numpy "
                                            r"array\) of numbers"):
        embedder.embed("hi")
    with pytest.raises(ProviderError, match=r"get_embedder_info returned NoneType None; it must return "
                                            r"sdk.EmbedderInfo"):
        embedder.info()
