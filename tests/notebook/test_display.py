"""Coalesced redraws, generation bookkeeping, and the comparison measures."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pandas as pd
import pytest

from hector_nb import display, sdk
from hector_nb.compare import Comparison, comparison_frame, overlap_at_k, recall_at_k
from hector_nb.display import SearchResults, TextView, results_frame, run_stream


class CountingView:
    def __init__(self):
        self.renders: list[tuple[str, bool]] = []

    def render(self, generation, final):
        self.renders.append((generation.text, final))


def text(t):
    return sdk.StreamChunk(type=sdk.CHUNK_TYPE_TEXT, text=t)


def test_a_burst_of_chunks_is_drawn_once_and_the_text_is_exact():
    chunks = [text(f"w{i} ") for i in range(5000)] + [sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=5000)]
    view = CountingView()
    generation = run_stream("llm", iter(chunks), view, fps=20)
    assert generation.text == "".join(f"w{i} " for i in range(5000))
    assert generation.tokens_used == 5000 and generation.state == "done"
    assert generation.updates == len(view.renders) <= 3
    assert view.renders[-1] == (generation.text, True)


def test_slow_chunks_are_redrawn_at_most_fps_times_a_second(monkeypatch):
    # A clock the chunks move: each arrives 10 ms after the last, so 40 of them span 0.4 s of stream time,
    # in which 20 redraws a second allow 8, plus the first and the final one.
    now = [0.0]
    monkeypatch.setattr(display, "time", SimpleNamespace(monotonic=lambda: now[0]))

    def slow():
        for i in range(40):
            now[0] += 0.01
            yield text(f"{i},")

    view = CountingView()
    generation = run_stream("llm", slow(), view, fps=20)
    assert 2 <= generation.updates <= 10, generation.updates
    assert generation.text == "".join(f"{i}," for i in range(40))
    assert [final for _, final in view.renders].count(True) == 1


def test_error_and_tool_call_chunks_and_text_view():
    chunks = [text("partial "), sdk.StreamChunk(type=sdk.CHUNK_TYPE_TOOL_CALL,
                                                 tool_call=sdk.ToolCall(name="lookup", arguments_json="{}")),
              sdk.StreamChunk(type=sdk.CHUNK_TYPE_ERROR, error="model overloaded")]
    out = io.StringIO()
    generation = run_stream("llm", iter(chunks), TextView(out))
    assert (generation.state, generation.error) == ("error", "model overloaded")
    assert [c.name for c in generation.tool_calls] == ["lookup"]
    printed = out.getvalue()
    assert printed.startswith("partial \n[tool call, dropped by Hector in a stream; tool calls reach an agent only "
                              "through unary Generate] lookup({})\n[error] model overloaded\n[error: 1 tokens")


def test_interrupt_closes_the_stream():
    closed = []

    class Chunks:
        def __iter__(self):
            return self

        def __next__(self):
            raise KeyboardInterrupt

        def close(self):
            closed.append(True)

    generation = run_stream("llm", Chunks(), CountingView())
    assert generation.interrupted and generation.state == "interrupted" and closed == [True]


def test_overlap_and_recall():
    assert overlap_at_k(["a", "b", "c"], ["c", "d", "a"], 3) == pytest.approx(2 / 3)
    assert recall_at_k(["a", "x"], ["a", "b"], 2) == 0.5
    results = {
        "one": [sdk.SearchResult(id="a", score=0.9, content="A"), sdk.SearchResult(id="b", score=0.5)],
        "two": [sdk.SearchResult(id="b", score=0.8), sdk.SearchResult(id="c", score=0.1)],
    }
    frame = comparison_frame(results, top_k=2, reference="one")
    assert frame.loc[1, ("one", "id")] == "a" and frame.loc[2, ("two", "id")] == "c"
    assert frame.loc[1, ("one", "content")] == "A"
    assert frame.overlap.loc["one", "two"] == 0.5
    assert frame.recall.to_dict() == {"one": 1.0, "two": 0.5}
    with pytest.raises(ValueError, match="reference 'three' is not among"):
        comparison_frame(results, 2, reference="three")


def test_a_comparison_carries_its_measures_as_typed_attributes_and_a_derived_table_is_plain():
    results = {"one": [sdk.SearchResult(id="a", score=0.9)], "two": [sdk.SearchResult(id="b", score=0.3)]}
    frame = comparison_frame(results, top_k=3, threshold=0.5)
    assert isinstance(frame, Comparison) and frame.top_k == 3 and frame.reference is None
    assert frame.hector_dropped.to_dict() == {"one": 0, "two": 1}
    assert comparison_frame(results, top_k=3).hector_dropped is None, "no threshold: nothing measured"
    with pytest.raises(ValueError, match="no reference database .* reference=NAME"):
        _ = frame.recall
    # A slice no longer holds the whole result lists the measures describe: it is a plain table.
    assert type(frame.round(2)) is pd.DataFrame and type(frame.loc[[1]]) is pd.DataFrame


def test_search_results_count_what_hector_drops_from_their_own_column():
    frame = results_frame([sdk.SearchResult(id="a", score=0.9), sdk.SearchResult(id="b", score=0.2)], threshold=0.5)
    assert isinstance(frame, SearchResults) and frame.hector_dropped == 1
    assert frame[frame["score"] > 0.5].hector_dropped == 0, "a selection counts its own rows"
    assert results_frame([sdk.SearchResult(id="a", score=0.9)]).hector_dropped is None, "no threshold, no column"


def test_the_status_counts_tokens_while_the_stream_runs(monkeypatch):
    seen = []
    now = [0.0]
    monkeypatch.setattr(display, "time", SimpleNamespace(monotonic=lambda: now[0]))

    class StatusView:
        def render(self, generation, final):
            seen.append((generation.tokens_used, final))

    def chunks():
        for i in range(30):
            now[0] += 0.01  # stream time, moved by the chunks: no sleeping
            yield text(f"{i} ")
        yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=42)

    run_stream("llm", chunks(), StatusView(), fps=50)
    during = [tokens for tokens, final in seen if not final]
    assert during and during[0] > 0 and during == sorted(during), "counted as chunks arrive"
    assert seen[-1] == (42, True), "the DONE chunk's real usage wins at the end"


@pytest.mark.parametrize("seconds, status", [
    (0.00004, "[done: 3 tokens, under 0.01s]"),        # faster than the status's clock: no rate
    (1.5, "[done: 3 tokens, 1.50s, 2.0 tok/s]"),
])
def test_a_rate_is_shown_only_for_a_measurable_time(monkeypatch, seconds, status):
    now = [0.0]
    monkeypatch.setattr(display, "time", SimpleNamespace(monotonic=lambda: now[0]))

    def chunks():
        yield text("a b c")
        now[0] += seconds
        yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=3)

    out = io.StringIO()
    generation = run_stream("llm", chunks(), TextView(out))
    assert out.getvalue() == f"a b c\n{status}\n"
    assert (generation.tokens_per_second is None) == (seconds < display.MEASURABLE_SECONDS)


def test_the_widget_view_uses_only_ipywidgets_traits(ip, recwarn):
    # Layout(white_space=...) is no trait of ipywidgets: it warned (DeprecationWarning) and did nothing.
    view = display.WidgetView()
    generation = display.Generation("llm", parts=["line one\nline two"])
    view.render(generation, final=True)
    assert "done · llm" in view.status.value
    assert not [w for w in recwarn if "hector_nb" in w.filename or "white_space" in str(w.message)], \
        [str(w.message) for w in recwarn]
