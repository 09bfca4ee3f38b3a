"""A session with in-kernel providers, and a plain HTTP client for the bridge's routes."""

from __future__ import annotations

import httpx
import pytest

from hector_nb import Session
from hector_nb.providers.echo import EchoLLM
from hector_nb.providers.hashing import HashingEmbedder


@pytest.fixture
def session():
    with Session(timeout=30) as s:
        s.add("echo", EchoLLM())
        s.add("hashing", HashingEmbedder())
        yield s


@pytest.fixture
def bridge(session):
    with session.serve(["echo", "hashing"]) as running:
        yield running


@pytest.fixture
def http(bridge):
    with httpx.Client(base_url=bridge.url, timeout=30) as client:
        yield client
