"""Fixtures for the fidelity tests: a session, fresh warnings, the recorder on every transport."""

from __future__ import annotations

import pytest
from fidelity import support
from fidelity.recorder import Recorder, install_recorder

from hector_nb import Session


@pytest.fixture(autouse=True)
def fresh_warnings():
    """Each test sees each warning afresh, and records them all."""
    with support.fresh_warnings() as caught:
        yield caught


@pytest.fixture
def session():
    with Session(timeout=30, start_timeout=30) as s:
        yield s


@pytest.fixture
def start_recorder(session, tmp_path):
    """``start_recorder(transport, **load_options)`` -> an LLM client for the recorder."""
    def start(transport: str, **options):
        if transport == "executable":
            return session.load(install_recorder(tmp_path), **options)
        return session.add("recorder", Recorder(), transport=transport, **options)

    return start
