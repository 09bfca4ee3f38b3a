"""A TOOL_CALL chunk in a stream is shown, and marked: Hector drops it (the widget view: tests/notebook)."""

from __future__ import annotations

import io

from hector_nb import sdk
from hector_nb.display import TextView, run_stream
from hector_nb.hector import STREAM_TOOL_CALL_NOTE

CHUNKS = [sdk.StreamChunk(type=sdk.CHUNK_TYPE_TEXT, text="checking "),
          sdk.StreamChunk(type=sdk.CHUNK_TYPE_TOOL_CALL, tool_call=sdk.ToolCall(name="lookup", arguments_json="{}")),
          sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=1)]


def test_text_view_marks_a_streamed_tool_call():
    out = io.StringIO()
    run_stream("llm", iter(CHUNKS), TextView(out))
    assert f"\n[tool call, {STREAM_TOOL_CALL_NOTE}] lookup({{}})\n" in out.getvalue()
