"""An SDK plugin under many concurrent calls: no fixed cap, and it still answers Health and Shutdown."""

from __future__ import annotations

import threading

import pytest
from plugin_process import wait_until

from hector_nb.errors import CallCancelled, HectorError

STREAMS = 64


class Streams:
    """``STREAMS`` streams of the plugin, each consumed by a thread of its own."""

    def __init__(self, llm) -> None:
        self.first: list[str] = []
        self.outcomes: dict[int, object] = {}
        self._threads = [threading.Thread(target=self._consume, args=(llm, i)) for i in range(STREAMS)]
        for thread in self._threads:
            thread.start()

    def _consume(self, llm, index: int) -> None:
        text = ""
        try:
            for chunk in llm.stream("go"):
                if chunk.error:
                    text += f"[error: {chunk.error}]"
                elif chunk.text and not text:
                    self.first.append(chunk.text)
                text += chunk.text
            self.outcomes[index] = text
        except HectorError as exc:
            self.outcomes[index] = exc

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout)
        assert not any(thread.is_alive() for thread in self._threads), "a stream never ended"


# Item 10: Go plugins serve every call at once; so do SDK plugins.
@pytest.mark.parametrize("transport", ["in-process", "subprocess"])
def test_64_streams_run_at_once_and_health_answers_while_all_are_busy(scripted, transport):
    llm = scripted("busy.py", "Busy", transport, streams=str(STREAMS))
    streams = Streams(llm)
    try:
        # Each stream's first chunk comes only once all 64 run in the provider at the same time.
        assert wait_until(lambda: len(streams.first) == STREAMS, timeout=90), streams.outcomes
        assert set(streams.first) == {f"{STREAMS} at once"}
        assert llm.health().healthy  # answered while every stream holds a thread; it releases them
    finally:
        streams.join(60)
    assert set(streams.outcomes.values()) == {f"{STREAMS} at once released"}, streams.outcomes


@pytest.mark.parametrize("transport", ["in-process", "subprocess"])
def test_unloading_a_busy_plugin_cancels_its_streams_and_reaches_its_shutdown(session, scripted, transport):
    llm = scripted("busy.py", "Busy", transport, streams=str(STREAMS), hold="8")
    provider = llm.provider
    streams = Streams(llm)
    try:
        assert wait_until(lambda: len(streams.first) == STREAMS, timeout=90), streams.outcomes
        session.unload("busy")
    finally:
        streams.join(60)  # a stream not cancelled ends after the 8 s hold, with text: the assertion says so
    assert all(isinstance(outcome, CallCancelled) for outcome in streams.outcomes.values()), streams.outcomes
    if transport == "in-process":
        assert provider.shut_down.is_set(), "the provider's shutdown() ran, though every worker was busy"
    else:
        assert "[stdout] shutdown called" in llm.logs(), llm.logs()
