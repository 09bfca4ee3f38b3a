"""The bridge's server: it starts, answers, guards its door and stops."""

from __future__ import annotations

import httpx
import pytest

from hector_nb.errors import HectorError, PluginNotFound


def test_it_answers_both_apis_and_stops(session):
    bridge = session.serve(["echo", "hashing"])
    assert bridge.running and bridge.url.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=bridge.url, timeout=30) as http:
        assert http.get("/").text == "Ollama is running"
        assert http.get("/api/version").json()["version"]
        models = http.get("/v1/models").json()
        assert [m["id"] for m in models["data"]] == ["echo", "hashing"]
    assert session.bridges == [bridge]
    bridge.stop()
    assert not bridge.running and session.bridges == []
    with pytest.raises(httpx.ConnectError):
        httpx.get(bridge.url + "/api/version", timeout=5)


def test_a_comma_separated_text_is_refused_with_the_list_to_pass(session):
    with pytest.raises(TypeError, match=r"serve takes a list of names, e.g. \['echo', 'hashing'\]"):
        session.serve("echo, hashing")
    assert session.bridges == []


def test_closing_the_session_stops_its_bridges(session):
    bridge = session.serve()
    session.close()
    assert not bridge.running


def test_a_name_not_loaded_fails_at_once(session):
    with pytest.raises(PluginNotFound, match="nope"):
        session.serve(["echo", "nope"])


def test_another_host_than_loopback_needs_a_key(session):
    with pytest.raises(HectorError, match="api_key"):
        session.serve(host="0.0.0.0")


def test_a_taken_port_is_a_clear_error(session, bridge):
    port = int(bridge.url.rsplit(":", 1)[1])
    with pytest.raises(HectorError, match=f"cannot listen on 127.0.0.1:{port}"):
        session.serve(port=port)


def test_unknown_routes_answer_in_the_api_shape(http):
    assert http.get("/v1/nothing").json()["error"]["code"] == "404"
    reply = http.get("/api/nothing")
    assert reply.status_code == 404 and "Ollama API" in reply.json()["error"]


def test_the_bearer_key_is_required_when_set(session):
    with session.serve(api_key="sesame") as bridge:
        refused = httpx.get(bridge.url + "/v1/models", timeout=30)
        assert refused.status_code == 401 and "Bearer" in refused.json()["error"]["message"]
        assert httpx.get(bridge.url + "/api/version", timeout=30).status_code == 401
        wrong = httpx.get(bridge.url + "/v1/models", headers={"Authorization": "Bearer nope"}, timeout=30)
        assert wrong.status_code == 401
        right = httpx.get(bridge.url + "/v1/models", headers={"Authorization": "Bearer sesame"}, timeout=30)
        assert right.status_code == 200


def test_a_body_past_the_limit_is_413(session):
    from hector_nb.bridge import start_bridge

    with start_bridge(session, max_request_bytes=1000) as bridge, httpx.Client(base_url=bridge.url) as http:
        declared = http.post("/api/chat", content=b"x" * 2000, headers={"Content-Type": "application/json"})
        assert declared.status_code == 413 and "1000 bytes" in declared.json()["error"]
        chunked = http.post("/v1/responses", content=iter([b"x" * 600, b"x" * 600]))
        assert chunked.status_code == 413 and "1000 bytes" in chunked.json()["error"]["message"]


def test_with_a_key_the_config_lines_use_hectors_openai_flavour(session):
    with session.serve("echo", api_key="sesame") as bridge:
        lines = bridge.describe().splitlines()
    url = bridge.url
    assert lines == [
        f"Serving echo (LLM) at {url}",
        f"  Hector v1:  llms: {{echo: {{type: openai, host: {url}/v1, api_key: YOUR_KEY, model: echo}}}}",
        f"  Hector v2:  llms: {{echo: {{provider: openai, base_url: {url}/v1, api_key: YOUR_KEY, model: echo}}}}",
        f"  OpenAI API: base_url {url}/v1, api_key: YOUR_KEY (sent as 'Authorization: Bearer YOUR_KEY')"]
    assert "sesame" not in "\n".join(lines)


def test_a_session_without_deadline_answers(session, http):
    session.timeout = None  # no deadline at all
    reply = http.post("/api/chat", json={"model": "echo", "stream": False,
                                         "messages": [{"role": "user", "content": "hi"}]})
    assert reply.status_code == 200 and reply.json()["total_duration"] > 0
    with http.stream("POST", "/api/chat", json={"model": "echo", "messages": [{"role": "user", "content": "a b"}]}
                     ) as streamed:
        assert [line for line in streamed.iter_lines() if line][-1].startswith('{"model":"echo"')
