"""Notebooks on a real Jupyter kernel (nbclient / jupyter_client)."""

from __future__ import annotations

import json
import queue
import re
import time
from pathlib import Path

import nbformat
import pytest
from extras import extras_required
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def execute(notebook, **options):
    NotebookClient(notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}},
                   **options).execute()
    return notebook


def text_of(cell) -> str:
    parts = []
    for output in cell.outputs:
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
        parts.append(output.get("ename", ""))
    return "".join(parts)


@pytest.mark.timeout(300)
def test_quickstart_runs_end_to_end():
    notebook = execute(nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4), store_widget_state=True)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    everything = "\n".join(text_of(c) for c in code)
    updates = int(re.search(r"widget updates during the stream: (\d+)", everything).group(1))
    assert updates > 1, "the streaming widget must be redrawn during the generation, not only at its end"
    assert "Once upon a time a plugin author wanted to try Hector plugins." in everything
    widget_views = [o for c in code for o in c.outputs if "application/vnd.jupyter.widget-view+json" in
                    o.get("data", {})]
    assert widget_views, "the generation is shown in an ipywidget"
    # ...whose plain-text side holds the final text, for readers without widgets.
    assert widget_views[0]["data"]["text/plain"].startswith("Once upon a time a plugin author")
    assert "upserted 652 vectors into euclidean/stdlib" in everything
    assert "shutil.move" in everything and "recall@5 against cosine" in everything
    assert "json.loads" in everything
    assert "storyteller: " in everything and "ready for Hector" in everything  # the %hector check cell
    # Real engines: MiniLM vectors in the exact, approximate and Qdrant databases; without the extras, a note.
    if extras_required() or "NOTE: pip install" not in everything:
        assert "652 documents, embedded by minilm (384 dimensions), in exact, usearch, qdrant" in everything
        assert "'usearch': 0." in everything or "'usearch': 1.0" in everything
        assert "usearch expansion_search=64" in everything  # the closing sweep's last row
    else:
        assert "652 documents, embedded by" in everything
    assert "ndcg@10" in everything and "ref_recall@10" in everything  # the closing evaluation's table...
    assert [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]  # ...and its static plot
    assert notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]


def test_a_failing_magic_fails_the_cell_without_a_traceback():
    notebook = new_notebook(metadata={"kernelspec": KERNELSPEC}, cells=[
        new_code_cell("%load_ext hector_nb"),
        new_code_cell('%hector generate ghost "hello"'),
    ])
    with pytest.raises(CellExecutionError) as raised:
        execute(notebook)
    assert raised.value.ename == "UsageError"
    output = notebook.cells[1].outputs
    assert [o.get("text", "") for o in output] == [
        "UsageError: plugin 'ghost', get: no plugin named 'ghost' is loaded (loaded: none); load it first\n"]


SLOW_LLM = '''
%load_ext hector_nb
%config HectorMagics.widgets = "always"
import time
from hector_nb import sdk, session

class Slow(sdk.LLMProvider):
    def generate_streaming(self, messages, tools):
        for i in range(2000):
            time.sleep(0.02)
            yield f"{i} "

    def generate(self, messages, tools):
        return sdk.GenerateResponse(text="still usable")

'''


LOAD_SLOW = {
    "in-kernel": 'session().add("slow", Slow(), transport="in-kernel")',
    "in-process": 'session().add("slow", Slow(), transport="in-process")',
    # A real plugin process: the built-in echo, slowed down, echoing a long prompt.
    "subprocess": 'session().load("builtin:echo", name="slow", config={"delay": "0.02"})\n'
                  'PROMPT = " ".join(str(i) for i in range(2000))',
}


@pytest.mark.timeout(180)
@pytest.mark.parametrize("transport", sorted(LOAD_SLOW))
def test_interrupting_a_stream_keeps_its_text_fails_the_cell_and_keeps_the_plugin(transport):
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        reply = client.execute_interactive(SLOW_LLM + LOAD_SLOW[transport], timeout=60)
        assert reply["content"]["status"] == "ok"
        prompt = "{PROMPT}" if transport == "subprocess" else "go"
        # stop_on_error=False: the interrupted cell must not make ipykernel abort the cell sent after it.
        msg_id = client.execute(f'%hector generate slow "{prompt}" --out gen', stop_on_error=False)
        deadline = time.monotonic() + 60
        # Wait until the widget has been sent some text (its new text comes as stream messages), then interrupt.
        streamed = ""
        while time.monotonic() < deadline:
            try:
                message = client.get_iopub_msg(timeout=5)
            except queue.Empty:
                continue
            streamed += message["content"].get("text", "") if message["msg_type"] == "stream" else ""
            if "0 1 " in streamed:
                break
        else:
            pytest.fail("the stream never showed up in the widget")
        manager.interrupt_kernel()
        widget_after = []  # what the widget and the display showed once interrupted
        reply = client.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = client.get_shell_msg(timeout=60)
        # The cell fails with KeyboardInterrupt, so Run All stops at it...
        assert (reply["content"]["status"], reply["content"].get("ename")) == ("error", "KeyboardInterrupt")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the interrupted cell's kernel goes idle
            try:
                message = client.get_iopub_msg(timeout=5)
            except queue.Empty:
                continue
            widget_after.append(str(message["content"]))
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle" \
                    and message["parent_header"].get("msg_id") == msg_id:
                break
        # ...after the widget kept the partial text and says it was interrupted.
        shown = "".join(widget_after)
        assert "interrupted" in shown and "0 1 " in shown, shown
        outputs = []
        reply = client.execute_interactive(
            'again = %hector generate slow "again" --no-stream\n'
            'print(gen.state, 0 < gen.chunks < 2000, gen.text.startswith("0 1 "), again.text)',
            output_hook=lambda m: outputs.append(m["content"].get("text", "")), timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        expected = "again" if transport == "subprocess" else "still usable"
        assert "".join(outputs) == f"interrupted True True {expected}\n"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


STREAM_100_CHARS = """
import time
from hector_nb import sdk, session
from hector_nb.display import WidgetView, run_stream

class Paced(sdk.LLMProvider):
    def generate_streaming(self, messages, tools):
        for i in range(CHUNKS):
            time.sleep(0.07)  # a frame each: the view redraws at most 20 times a second
            yield f"{i:04d}" + "x" * 95 + " "

llm = session().add(f"paced-{CHUNKS}", Paced())
generation = run_stream(llm.name, llm.stream("go"), WidgetView(), fps=20)
"""


def iopub_of(code: str, client) -> list[dict]:
    """The iopub messages a cell running ``code`` published, up to its idle status."""
    msg_id = client.execute(code)
    messages = []
    while True:
        message = client.get_iopub_msg(timeout=120)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return messages
        messages.append(message)


@pytest.mark.timeout(180)
def test_a_streaming_widget_is_sent_each_frames_new_text_only():
    # Recorded from a real kernel: what the widget view publishes per frame, in bytes of message content.
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        sizes = {}
        for chunks in (10, 40):
            messages = iopub_of(f"CHUNKS = {chunks}\n" + STREAM_100_CHARS, client)
            after = [m for m in messages if m["msg_type"] != "execute_input"]
            text = "".join(m["content"]["text"] for m in after if m["msg_type"] == "stream")
            assert text == "".join(f"{i:04d}" + "x" * 95 + " " for i in range(chunks))
            frames = [m for m in after if m["msg_type"] == "stream"]
            assert len(frames) >= chunks // 2, "the text arrived in frames, as it streamed"
            assert max(len(m["content"]["text"]) for m in frames) <= 400, "a frame holds the new chunks only"
            # No widget message carries text; only the final display update (the text/plain a saved notebook
            # keeps) carries it whole, once.
            carrying = [m["msg_type"] for m in after
                        if m["msg_type"] != "stream" and "x" * 95 in json.dumps(m["content"])]
            assert carrying == ["update_display_data"], carrying
            sizes[chunks] = sum(len(json.dumps(m["content"])) for m in after if m["msg_type"] != "update_display_data")
        # Four times the text, four times the bytes (not sixteen, as when every frame sent the text so far).
        assert sizes[40] < 5 * sizes[10], sizes
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


INTERRUPTED_FRAME = """
import sys
from hector_nb import sdk
from hector_nb.display import WidgetView, run_stream

view = WidgetView()
write = sys.stdout.write

def interrupted(text):  # the kernel's interrupt, landing in the widget's write of a frame
    sys.stdout.write = write
    raise KeyboardInterrupt

def chunks():
    yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_TEXT, text="first")
    yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_TEXT, text=" second")

sys.stdout.write = interrupted
generation = run_stream("llm", chunks(), view, fps=1e9)
print("after the stream:", generation.interrupted, repr(generation.text), view.text.msg_id == "")
"""


@pytest.mark.timeout(180)
def test_an_interrupt_landing_in_a_widget_frame_ends_the_stream():
    # In IPython, ipywidgets' Output used as a context manager swallows the exception it exits with (it shows
    # it in the widget): an interrupt landing in a frame's write was lost, the stream running to its deadline.
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        messages = iopub_of(INTERRUPTED_FRAME, client)
        printed = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
        assert "after the stream: True 'first' True" in printed, printed
        assert not [m for m in messages if m["msg_type"] == "error"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)

