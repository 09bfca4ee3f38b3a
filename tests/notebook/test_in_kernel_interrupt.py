"""In-kernel calls are function calls: the kernel's interrupt is what stops a hung provider.

A real Jupyter kernel (jupyter_client): the call hangs, ``interrupt_kernel``
raises KeyboardInterrupt inside the provider's code, the cell fails with it, and
the plugin answers the next call.
"""

from __future__ import annotations

import queue
import time

import pytest
from jupyter_client.manager import start_new_kernel

PROVIDERS = '''
import asyncio, threading
from hector_nb import sdk, session

cancelled = threading.Event()

class Hang(sdk.LLMProvider):
    def generate(self, messages, tools):
        if messages[-1].content == "hang":
            print("waiting", flush=True)
            threading.Event().wait()  # never returns by itself
        return sdk.GenerateResponse(text="still usable")

class AsyncHang(sdk.LLMProvider):
    async def generate(self, messages, tools):
        if messages[-1].content == "hang":
            print("waiting", flush=True)
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.set()
                raise
        return sdk.GenerateResponse(text="still usable")

plain = session().add("plain", Hang(), transport="in-kernel")
coroutine = session().add("coroutine", AsyncHang(), transport="in-kernel")
'''


def _wait_for_output(client, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = client.get_iopub_msg(timeout=5)
        except queue.Empty:
            continue
        if message["msg_type"] == "stream" and text in message["content"]["text"]:
            return
    pytest.fail(f"the kernel never printed {text!r}")


def _reply_to(client, msg_id: str) -> dict:
    reply = client.get_shell_msg(timeout=60)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = client.get_shell_msg(timeout=60)
    return reply["content"]


@pytest.mark.timeout(180)
@pytest.mark.parametrize("plugin", ["plain", "coroutine"])
def test_the_kernel_interrupt_stops_a_hung_in_kernel_call(plugin):
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        assert client.execute_interactive(PROVIDERS, timeout=60)["content"]["status"] == "ok"
        # The call's timeout= is not a deadline in-kernel (nothing could stop the provider at it): the
        # call is still hanging long after it, until the interrupt.
        # stop_on_error=False: the interrupted cell must not make ipykernel abort the check sent after it
        # (it aborts requests that arrive within its stop_on_error window, a race on a loaded machine).
        msg_id = client.execute(f'{plugin}.generate("hang", timeout=0.1)', stop_on_error=False)
        _wait_for_output(client, "waiting")  # the provider is inside its call
        manager.interrupt_kernel()
        reply = _reply_to(client, msg_id)
        assert (reply["status"], reply["ename"]) == ("error", "KeyboardInterrupt")
        outputs: list[str] = []
        check = f'print({plugin}.generate("again").text, {plugin}.status, cancelled.is_set())'
        reply = client.execute_interactive(check, timeout=60,
                                           output_hook=lambda m: outputs.append(m["content"].get("text", "")))
        assert reply["content"]["status"] == "ok", reply["content"]
        # An async provider's coroutine is cancelled with the interrupted call, not left running.
        assert "".join(outputs) == f"still usable ready {plugin == 'coroutine'}\n"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
