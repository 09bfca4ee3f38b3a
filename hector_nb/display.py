"""What a person sees: live generation views, and search results as DataFrames.

Display is kept apart from execution: :func:`run_stream` consumes a chunk
iterator (from any client) and feeds a view; the views only render.
"""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas

from . import sdk
from .hector import STREAM_TOOL_CALL_NOTE, hector_keeps

#: Frontend updates per second at most, however fast chunks arrive.
DEFAULT_FPS = 20.0
#: The shortest time a rate is shown for: the status shows hundredths of a second, and a rate over less
#: is noise (an in-kernel answer of 50 tokens in 40 µs is not "1,250,000 tok/s").
MEASURABLE_SECONDS = 0.01


@dataclass
class Generation:
    """The outcome of one streamed generation."""

    plugin: str
    #: The TEXT chunks' texts; :attr:`text` joins them (adding each chunk to one string copies it every time).
    parts: list[str] = field(default_factory=list, repr=False)
    tool_calls: list[sdk.ToolCall] = field(default_factory=list)
    tokens_used: int = 0
    chunks: int = 0
    error: str = ""
    interrupted: bool = False
    elapsed: float = 0.0
    #: How many times the view was redrawn (coalesced, see ``DEFAULT_FPS``).
    updates: int = 0
    #: The IPython execution count of the cell whose view showed this generation live.
    shown_in_cell: int | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        """The text so far. Joined when read (a view reads it at most ``fps`` times a second), kept joined."""
        if len(self.parts) > 1:
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""

    @property
    def tokens_per_second(self) -> float | None:
        """None for a generation shorter than :data:`MEASURABLE_SECONDS`: its rate would be noise."""
        return self.tokens_used / self.elapsed if self.elapsed >= MEASURABLE_SECONDS else None

    @property
    def state(self) -> str:
        if self.error:
            return "error"
        return "interrupted" if self.interrupted else "done"

    def __repr__(self) -> str:
        return (f"<Generation {self.plugin}: {self.state}, {self.tokens_used} tokens, {self.elapsed:.2f}s, "
                f"{len(self.text)} chars>")

    def _ipython_display_(self) -> None:
        # The live view already shows this generation in the cell that streamed it: an unassigned
        # `%hector generate` would otherwise print this object's repr under the widget.
        if self.shown_in_cell is None or _execution_count() != self.shown_in_cell:
            _show({"text/plain": _plain(self)})

    def add(self, chunk: sdk.StreamChunk) -> None:
        """Take one chunk into account.

        Until the final DONE chunk reports the real usage, each TEXT chunk counts
        as one token (most LLM streams send a token per chunk), so the status
        line moves while the stream runs.
        """
        self.chunks += 1
        if chunk.type == sdk.CHUNK_TYPE_TEXT:
            self.parts.append(chunk.text)
            self.tokens_used += 1
        elif chunk.type == sdk.CHUNK_TYPE_TOOL_CALL:
            self.tool_calls.append(chunk.tool_call)
        elif chunk.type == sdk.CHUNK_TYPE_DONE:
            self.tokens_used = chunk.tokens_used or self.tokens_used
        elif chunk.type == sdk.CHUNK_TYPE_ERROR:
            self.error = chunk.error


class StreamView(Protocol):
    """Where a generation is shown while it streams."""

    def render(self, generation: Generation, final: bool) -> None: ...


class WidgetView:
    """An ipywidgets view: the text as it streams, tool calls and a status line (tokens, time, tokens/s).

    The text goes into an ``ipywidgets.Output`` as stdout, a frame's new text at a time: while it
    writes, the Output widget captures the cell's output messages (its ``msg_id``), so each frame sends
    the kernel's usual stream message holding only the text that arrived since the last frame, never
    the text already shown. (The frontend's Output model then saves its outputs back to the kernel:
    that echo is ipywidgets' own, in JupyterLab and in nbclient.) The display also carries the text as
    ``text/plain``, updated once at the end, so a notebook saved where widgets do not render
    (nbconvert, GitHub) still shows what was generated.
    """

    def __init__(self) -> None:
        import ipywidgets as widgets

        self.text = widgets.Output()
        self.tools = widgets.HTML()
        self.status = widgets.HTML()
        self.widget = widgets.VBox([self.text, self.tools, self.status])
        self.handle = _show(self._bundle("(streaming…)"), display_id=True)
        self._shown = 0  # characters of the text already sent

    def _bundle(self, text: str) -> dict[str, Any]:
        view = {"model_id": self.widget.model_id, "version_major": 2, "version_minor": 0}
        return {"text/plain": text, "application/vnd.jupyter.widget-view+json": view}

    def render(self, generation: Generation, final: bool) -> None:
        text = generation.text
        if len(text) > self._shown:
            # Captured for the frame's write only: other output of the cell stays below it. Not as
            # ``with self.text:``: in IPython, Output's __exit__ swallows the exception it exits with, and
            # a kernel interrupt landing in the write would be lost, the stream going on to its deadline.
            self.text.__enter__()
            try:
                sys.stdout.write(text[self._shown:])
                sys.stdout.flush()
            finally:
                self.text.__exit__(None, None, None)
            self._shown = len(text)
        if generation.tool_calls:
            calls = "".join(f"<li><code>{html.escape(c.name)}({html.escape(c.arguments_json)})</code></li>"
                            for c in generation.tool_calls)
            self.tools.value = (f"<b>tool calls</b> <span style='color: #b35c00'>({STREAM_TOOL_CALL_NOTE})</span>"
                                f"<ul>{calls}</ul>")
        self.status.value = _status_html(generation, final)
        if final:
            self.handle.update(self._bundle(_plain(generation)), raw=True)


def _show(bundle: dict[str, Any], **options: Any) -> Any:
    """IPython's ``display`` of a raw mime bundle; its handle with ``display_id=True``."""
    from IPython.display import display

    show: Callable[..., Any] = display  # named with a type: IPython's functions are untyped
    return show(bundle, raw=True, **options)


def _execution_count() -> int | None:
    """The running IPython's execution count; None outside IPython."""
    from IPython.core.getipython import get_ipython

    shell_of: Callable[[], Any] = get_ipython  # named with a type: IPython's functions are untyped
    shell = shell_of()
    return None if shell is None else int(shell.execution_count)


def _plain(generation: Generation) -> str:
    lines = [generation.text]
    lines += [_tool_call_line(call) for call in generation.tool_calls]
    if generation.error:
        lines.append(f"[error] {generation.error}")
    lines.append(f"[{generation.state}: {generation.tokens_used} tokens, {_timing(generation, ', ')}]")
    return "\n".join(lines)


def _timing(generation: Generation, separator: str) -> str:
    """``1.20s`` and the rate (``41.7 tok/s``), or ``under 0.01s`` with no rate when too fast to measure."""
    rate = generation.tokens_per_second
    if rate is None:
        return f"under {MEASURABLE_SECONDS:g}s"
    return f"{generation.elapsed:.2f}s{separator}{rate:.1f} tok/s"


def _tool_call_line(call: sdk.ToolCall) -> str:
    """A streamed tool call in text, marked: Hector drops it (tool calls reach an agent only through Generate)."""
    return f"[tool call, {STREAM_TOOL_CALL_NOTE}] {call.name}({call.arguments_json})"


def _status_html(generation: Generation, final: bool) -> str:
    facts = f"{generation.plugin} · {generation.tokens_used} tokens · {_timing(generation, ' · ')}"
    if generation.error:
        return f"<span style='color: #c00'><b>error:</b> {html.escape(generation.error)}</span> · {facts}"
    state = generation.state if final else "streaming…"
    return f"<span style='color: #666'>{state} · {facts}</span>"


class TextView:
    """Progressive plain text, where no widget frontend exists (terminal IPython, nbconvert)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdout
        self._shown = 0
        self._tools = 0

    def render(self, generation: Generation, final: bool) -> None:
        self.stream.write(generation.text[self._shown:])
        self._shown = len(generation.text)
        for call in generation.tool_calls[self._tools:]:
            self.stream.write("\n" + _tool_call_line(call))
        self._tools = len(generation.tool_calls)
        if final:
            if generation.error:
                self.stream.write(f"\n[error] {generation.error}")
            self.stream.write("\n" + _plain(generation).rsplit("\n", 1)[-1] + "\n")
        self.stream.flush()


def run_stream(plugin: str, chunks: Iterator[sdk.StreamChunk], view: StreamView,
               fps: float = DEFAULT_FPS) -> Generation:
    """Feed ``chunks`` into ``view``, redrawing at most ``fps`` times a second.

    A KeyboardInterrupt (a kernel interrupt) closes the stream, which cancels
    the call, and ends the generation as ``interrupted``.
    """
    generation = Generation(plugin)
    interval = 1.0 / fps
    start = last = time.monotonic()
    try:
        for chunk in chunks:
            generation.add(chunk)
            now = time.monotonic()
            if now - last >= interval:
                generation.elapsed = now - start
                view.render(generation, final=False)
                generation.updates += 1
                last = now
    except KeyboardInterrupt:
        generation.interrupted = True
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        generation.elapsed = time.monotonic() - start
        view.render(generation, final=True)
        generation.updates += 1
    return generation


#: The columns every search result has, before its metadata.
RESULT_FIELDS = ("rank", "id", "score", "content")
#: The column saying whether Hector's document store would keep a hit (its score reaches search.threshold).
KEEPS_COLUMN = "hector_keeps"
#: Prefix of a metadata key that would otherwise shadow a result field (``meta.id``).
METADATA_PREFIX = "meta."


def metadata_columns(result: sdk.SearchResult) -> dict[str, str]:
    """A result's metadata as columns, never shadowing the result's own fields.

    A key named like a result field (``id``, ``score``, ``content``, ``rank``)
    becomes ``meta.KEY``, unless it repeats the field's value exactly (Hector's
    own databases store the text as ``content`` metadata too): then it is
    left out, as it says nothing new.
    """
    own = {"id": result.id, "score": str(result.score), "content": result.content}
    columns = {}
    for key, value in result.metadata.items():
        if key not in RESULT_FIELDS:
            columns[key] = value
        elif own.get(key) != value:
            columns[METADATA_PREFIX + key] = value
    return columns


class SearchResults(pandas.DataFrame):  # type: ignore[misc, unused-ignore]  # pandas has no type information here
    """A database's hits as a table: ``rank``, ``id``, ``score``, (``hector_keeps``), ``content``, then one column
    per metadata key (see :func:`results_frame`)."""

    @property
    def _constructor(self) -> type[SearchResults]:
        return SearchResults

    @property
    def hector_dropped(self) -> int | None:
        """How many of these hits Hector's document store would drop (their score is below its threshold);
        None when the table has no ``hector_keeps`` column (no threshold was given)."""
        if KEEPS_COLUMN not in self.columns:
            return None
        return int((~self[KEEPS_COLUMN].astype(bool)).sum())


def results_frame(results: Iterable[sdk.SearchResult], threshold: float | None = None) -> SearchResults:
    """Search results as a table: rank, id, score, content, then one column per metadata key.

    A metadata key that collides with one of those four is shown as ``meta.KEY``
    (see :func:`metadata_columns`). With a ``threshold`` above 0 (Hector's
    ``search.threshold``, :data:`hector_nb.hector.SEARCH_THRESHOLD`), a
    ``hector_keeps`` column after ``score`` says which hits Hector's document
    store would keep, and :attr:`SearchResults.hector_dropped` how many it would drop.
    """
    results = list(results)
    rows = [
        {**metadata_columns(r), "rank": rank, "id": r.id, "score": r.score, "content": r.content}
        for rank, r in enumerate(results, start=1)
    ]
    fields = list(RESULT_FIELDS)
    if threshold is not None and threshold > 0:
        fields.insert(fields.index("score") + 1, KEEPS_COLUMN)
        for row, result in zip(rows, results, strict=True):
            row[KEEPS_COLUMN] = hector_keeps(result.score, threshold)
    frame = SearchResults(rows, columns=fields) if not rows else SearchResults(rows)
    ordered: SearchResults = frame[fields + [c for c in frame.columns if c not in fields]]
    return ordered
