"""A session with in-kernel providers, a bridge serving them, and clients of the bridge."""

from __future__ import annotations

import httpx
import ollama
import openai
import pytest
from bridge_providers import Mirror

from hector_nb import Session
from hector_nb.providers.echo import EchoLLM
from hector_nb.providers.hashing import HashingEmbedder


@pytest.fixture
def session():
    with Session(timeout=30) as s:
        s.add("echo", EchoLLM())
        s.add("hashing", HashingEmbedder())
        s.add("mirror", Mirror(), config={"hang": "3"})
        yield s


@pytest.fixture
def bridge(session):
    with session.serve() as running:
        yield running


@pytest.fixture
def http(bridge):
    with httpx.Client(base_url=bridge.url, timeout=30) as client:
        yield client


@pytest.fixture
def openai_client(bridge):
    with openai.OpenAI(base_url=bridge.url + "/v1", api_key="unused", max_retries=0, timeout=30) as client:
        yield client


@pytest.fixture
def ollama_client(bridge):
    return ollama.Client(host=bridge.url, timeout=30)
