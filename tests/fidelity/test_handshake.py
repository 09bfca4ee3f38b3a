"""A plugin that prints on stdout before its handshake: refused as go-plugin refuses it,
tolerated and logged in lenient fidelity."""

from __future__ import annotations

from pathlib import Path

import pytest
from fidelity.support import install_noisy

from hector_nb.errors import HandshakeError
from hector_nb.host import process


@pytest.fixture
def noisy(tmp_path) -> Path:
    return install_noisy(tmp_path)


def test_stdout_before_the_handshake_fails_the_load_quoting_the_line(session, noisy):
    with pytest.raises(HandshakeError) as raised:
        session.load(noisy)
    assert str(raised.value) == (
        "plugin 'noisy', start: printed 'starting...' on stdout before its handshake; Hector (go-plugin) refuses "
        "such a plugin silently (go-plugin's 'Unrecognized remote plugin message' reaches stderr only, Hector's log "
        "shows nothing, then 'provider not found'); print to stderr instead (load with --lenient / "
        "fidelity='lenient' to tolerate it here)")
    assert "noisy" not in session
    assert not [p for p in process._live if p.name == "noisy"], "the refused plugin was left running"


def test_lenient_tolerates_and_logs_the_line(session, noisy):
    llm = session.load(noisy, fidelity="lenient")
    assert llm.generate("hi").text == "served"
    assert "[stdout] starting..." in llm.logs()


def test_a_lenient_session_tolerates_it_too(noisy):
    from hector_nb import Session

    with Session(fidelity="lenient") as lenient:
        assert lenient.load(noisy).generate("hi").text == "served"
