"""Async providers in-kernel: one calling another, and the kernel's interrupt while one blocks the loop."""

from __future__ import annotations

import signal
import threading
from concurrent.futures import Future

import pytest

from hector_nb import sdk
from hector_nb.errors import ProviderError

#: A bound for calls that must answer at once: far beyond any answer, far below a deadlock's forever.
PROMPT = 30


class Quick(sdk.LLMProvider):
    async def generate(self, messages, tools):
        return sdk.GenerateResponse(text="quick")


class Caller(sdk.LLMProvider):
    """Asks another in-kernel plugin (``Caller.inner``, a client) from inside its own async method."""

    inner = None

    async def generate(self, messages, tools):
        return sdk.GenerateResponse(text=Caller.inner.generate("inner?").text)


def answer_within(call, seconds: float):
    """``call()``'s result (or its exception, raised), run in a thread: a deadlock fails the test, not hangs it."""
    answer: Future = Future()

    def run() -> None:
        try:
            answer.set_result(call())
        except BaseException as exc:  # noqa: BLE001 - raised in the test's thread
            answer.set_exception(exc)

    threading.Thread(target=run, daemon=True).start()
    try:
        return answer.result(seconds)
    except TimeoutError:
        pytest.fail(f"no answer within {seconds}s: the event loop is blocked")


# Item 8: an async provider calling another in-kernel async provider fails at once, saying why.
def test_an_async_provider_calling_another_in_kernel_fails_at_once(session):
    Caller.inner = session.add("quick", Quick())
    outer = session.add("caller", Caller())
    with pytest.raises(ProviderError, match="event loop.*await"):
        answer_within(lambda: outer.generate("hi"), PROMPT)
    assert answer_within(lambda: session.get("quick").generate("still?").text, PROMPT) == "quick"


class Blocker(sdk.LLMProvider):
    """Blocks the event loop with synchronous code until ``released`` is set."""

    entered = threading.Event()
    released = threading.Event()

    async def generate(self, messages, tools):
        Blocker.entered.set()
        Blocker.released.wait(120)  # synchronous: nothing else runs on the loop meanwhile
        return sdk.GenerateResponse(text="late")


# Item 8: after the kernel's interrupt of a provider blocking the loop, the other async providers keep working.
def test_after_an_interrupt_other_async_providers_keep_working(session):
    quick = session.add("quick", Quick())
    blocker = session.add("blocker", Blocker())
    # The kernel's interrupt: SIGINT, here aimed at the main thread, which waits for the blocked loop.
    main = threading.main_thread().ident
    assert threading.get_ident() == main
    interrupter = threading.Thread(target=lambda: Blocker.entered.wait(60) and signal.pthread_kill(main, signal.SIGINT))
    interrupter.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            blocker.generate("block")
        assert answer_within(lambda: quick.generate("after").text, PROMPT) == "quick"
    finally:
        Blocker.released.set()  # the abandoned loop's thread ends once the blocking code returns
        interrupter.join(60)
