"""In-kernel and in-process transports: same clients, same semantics as a subprocess."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from hector_nb import sdk
from hector_nb.errors import PluginError, PluginTimeout, ProviderError


class Tally(sdk.LLMProvider):
    """Records what happens to it, so tests can see calls, closes and shutdowns."""

    config_defaults = {"greeting": "hello"}

    def __init__(self):
        self.events: list[str] = []
        self.closed = threading.Event()

    def initialize(self, config):
        self.events.append(f"init {config['greeting']}")

    def generate(self, messages, tools):
        if messages[-1].content == "hang":
            threading.Event().wait(30)
        if messages[-1].content == "fail":
            raise ValueError("no such word")
        return sdk.GenerateResponse(text=f"{messages[0].role}:{messages[-1].content}:{len(tools)}")

    def generate_streaming(self, messages, tools):
        try:
            for i in range(1000):
                yield f"{i} "
        finally:
            self.closed.set()

    def get_model_info(self):
        return sdk.ModelInfo(model_name="tally")

    def shutdown(self):
        self.events.append("shutdown")


class Vectors(sdk.EmbedderProvider):
    async def embed(self, text):
        return np.array([len(text), 1.0])

    def get_embedder_info(self):
        return sdk.EmbedderInfo(model_name="v", dimension=2)


@pytest.mark.parametrize("transport", ["in-kernel", "in-process"])
def test_llm_over_transport(session, transport):
    provider = Tally()
    llm = session.add("tally", provider, transport=transport, config={"greeting": "hi"})
    assert (llm.transport, llm.status, provider.events) == (transport, "ready", ["init hi"])
    assert llm.generate("word").text == "ROLE_USER:word:0"  # the role a Hector agent sends
    messages = [{"role": "system", "content": "s"}, sdk.Message(role="user", content="q")]
    assert llm.generate(messages, tools=[{"name": "t"}]).text == "ROLE_UNSPECIFIED:q:1"
    assert llm.model_info().model_name == "tally"
    with pytest.raises(ProviderError, match=r"plugin 'tally', generate: ValueError: no such word"):
        llm.generate("fail")
    assert llm.manifest.name == "tally" and llm.manifest.capabilities["streaming"] is True
    session.unload("tally")
    assert provider.events[-1] == "shutdown" and llm.status == "shutdown"


@pytest.mark.parametrize("transport", ["in-kernel", "in-process"])
def test_closing_a_stream_closes_the_provider_generator(session, transport):
    provider = Tally()
    llm = session.add("tally", provider, transport=transport)
    assert provider.events == ["init hello"]
    stream = llm.stream("go")
    assert [next(stream).text for _ in range(3)] == ["0 ", "1 ", "2 "]
    stream.close()
    assert provider.closed.wait(10), "the provider's generator was not closed"
    assert llm.generate("after").text == "ROLE_USER:after:0"


# In-kernel calls are function calls without a deadline: the kernel's interrupt stops a hung one
# (tests/notebook/test_in_kernel_interrupt.py).
@pytest.mark.parametrize("transport", ["in-process"])
def test_hanging_provider_times_out(session, transport):
    llm = session.add("tally", Tally(), transport=transport)
    with pytest.raises(PluginTimeout, match="plugin 'tally', generate: no answer within 0.5s"):
        llm.generate("hang", timeout=0.5)


@pytest.mark.parametrize("transport", ["in-kernel", "in-process", "subprocess"])
def test_async_embedder_and_bulk(session, transport):
    if transport == "subprocess":
        from hector_nb.providers import HashingEmbedder as provider_type
    else:
        provider_type = Vectors
    emb = session.add("emb", provider_type(), transport=transport)
    matrix = emb.embed_many([f"text number {i}" for i in range(300)])
    assert matrix.shape[0] == 300
    for i in (0, 150, 299):
        assert np.allclose(matrix[i], emb.embed(f"text number {i}"))


def test_add_rejects_non_providers_and_unknown_transports(session):
    with pytest.raises(PluginError, match="is not a provider"):
        session.add("x", object())
    with pytest.raises(PluginError, match="unknown transport 'carrier-pigeon'"):
        session.add("x", Tally(), transport="carrier-pigeon")
    notebook_class = type("NotebookLLM", (Tally,), {"__module__": "__main__"})
    with pytest.raises(PluginError, match="defined in a notebook or script"):
        session.add("x", notebook_class(), transport="subprocess")
    from hector_nb.providers import builtin_plugin_path

    with pytest.raises(PluginError, match="a plugin executable runs as a subprocess"):
        session.load(builtin_plugin_path("echo"), transport="in-kernel")
    session.add("x", Tally())
    with pytest.raises(PluginError, match="is loaded already"):
        session.add("x", Tally())


@pytest.mark.parametrize("transport", ["in-kernel", "in-process", "subprocess"])
def test_restart_replays_the_last_config_on_every_transport(session, transport, tmp_path, monkeypatch):
    from greeter import Greeter

    refuse = tmp_path / "refuse"
    monkeypatch.setenv("GREETER_REFUSE", str(refuse))
    llm = session.add("greeter", Greeter(), transport=transport, config={"greeting": "hi"})
    assert llm.generate("there").text == "hi there"
    assert session.restart("greeter") is llm
    # Shutdown forgot the greeting (a subprocess is a new process): it is back only because the config was replayed.
    assert (llm.status, llm.restarts, llm.generate("again").text) == ("ready", 1, "hi again")
    refuse.write_text("")
    with pytest.raises(ProviderError, match="plugin 'greeter', initialize: RuntimeError: refusing to start"):
        llm.restart()
    assert (llm.status, llm.restarts) == ("error", 2)
    refuse.unlink()
    llm.restart()
    assert (llm.status, llm.restarts, llm.generate("fixed").text) == ("ready", 3, "hi fixed")


@pytest.mark.parametrize("transport", ["in-kernel", "in-process", "subprocess"])
def test_an_unloaded_plugin_refuses_calls_and_restarts(session, transport):
    from greeter import Greeter

    llm = session.add("greeter", Greeter(), transport=transport, config={"greeting": "hi"})
    session.unload("greeter")
    assert llm.status == "shutdown"
    with pytest.raises(PluginError, match="plugin 'greeter', generate: the plugin was shut down"):
        llm.generate("x")
    with pytest.raises(PluginError, match="plugin 'greeter', restart: the plugin was shut down"):
        llm.restart()
    llm.shutdown()  # a second shutdown is harmless


class OnlyGenerate(sdk.LLMProvider):
    """Implements generate() alone: streaming falls back to LLMProvider's default generate_streaming."""

    def generate(self, messages, tools):
        call = sdk.ToolCall(id="call-1", name="lookup", arguments_json="{}")
        return sdk.GenerateResponse(text="whole answer", tool_calls=[call], tokens_used=3)


@pytest.mark.parametrize("transport", ["in-kernel", "in-process"])
def test_the_default_generate_streaming_streams_what_generate_answers(session, transport):
    llm = session.add("plain", OnlyGenerate(), transport=transport, fidelity="lenient")
    chunks = list(llm.stream("q"))
    assert [c.type for c in chunks] == [sdk.CHUNK_TYPE_TEXT, sdk.CHUNK_TYPE_TOOL_CALL, sdk.CHUNK_TYPE_DONE]
    assert (chunks[0].text, chunks[1].tool_call.name, chunks[2].tokens_used) == ("whole answer", "lookup", 3)
    assert llm.manifest.capabilities["streaming"] is False
