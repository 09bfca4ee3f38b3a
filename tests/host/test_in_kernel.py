"""In-kernel calls are function calls: the provider runs in the caller's thread, call and chunks alike.

How a hung in-kernel call is stopped (the kernel's interrupt) is tested in a real
kernel: tests/notebook/test_in_kernel_interrupt.py.
"""

from __future__ import annotations

import threading

from hector_nb import sdk


class Where(sdk.LLMProvider):
    """Records the thread of every call and of every chunk it yields."""

    def __init__(self):
        self.threads: set[int] = set()

    def generate(self, messages, tools):
        self.threads.add(threading.get_ident())
        return sdk.GenerateResponse(text="here")

    def generate_streaming(self, messages, tools):
        for word in ("a ", "b ", "c"):
            self.threads.add(threading.get_ident())
            yield word


def test_calls_and_stream_chunks_run_in_the_callers_thread(session):
    provider = Where()
    llm = session.add("where", provider)
    for _ in range(5):
        assert llm.generate("x").text == "here"
        assert [chunk.text for chunk in llm.stream("x")][:3] == ["a ", "b ", "c"]
    assert provider.threads == {threading.get_ident()}


def test_the_timeout_is_not_a_deadline_in_kernel(session):
    """Nothing can stop code in the caller's own thread: a slow call finishes, whatever its timeout."""
    release = threading.Event()

    class Slow(Where):
        def generate(self, messages, tools):
            assert release.wait(30)
            return super().generate(messages, tools)

    llm = session.add("slow", Slow())
    threading.Timer(0.3, release.set).start()  # later than the call's timeout below
    assert llm.generate("x", timeout=0.01).text == "here"


class QueryTypes(sdk.DatabaseProvider):
    """Records the type of every query its search is given."""

    def __init__(self):
        self.queries: list[type] = []

    def search(self, collection, vector, top_k):
        self.queries.append(type(vector))
        return [sdk.SearchResult(id="a", score=float(sum(vector)))]


class ArrayQueryTypes(QueryTypes):
    array_queries = True


def test_a_query_reaches_the_provider_as_a_list_unless_it_takes_arrays(session):
    """In-kernel, a provider declaring array_queries gets the caller's checked float32 array as it is;
    any other gets a list of floats, as over the wire (where every provider gets a list)."""
    import numpy as np

    lists, arrays, wired = QueryTypes(), ArrayQueryTypes(), ArrayQueryTypes()
    for name, provider, transport in (("lists", lists, "in-kernel"), ("arrays", arrays, "in-kernel"),
                                      ("wired", wired, "in-process")):
        db = session.add(name, provider, transport=transport)
        hits = db.search("c", np.array([0.25, 0.5], dtype=np.float32), 1)
        assert hits[0].score == 0.75
        db.search("c", [1, 2], 1)  # a list is checked and converted as well
    assert lists.queries == [list, list]
    assert arrays.queries == [np.ndarray, np.ndarray]
    assert wired.queries == [list, list]
