"""The subprocess transport against real SDK plugins and deliberately broken executables."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading

import pytest
from plugin_process import process_gone, wait_until

from hector_nb import Session, sdk
from hector_nb.errors import (
    HandshakeError,
    InvalidConfig,
    PartialLoad,
    PluginCrashed,
    PluginError,
    PluginGaveUp,
    PluginNotAnswering,
    PluginTimeout,
)


def test_load_reads_the_manifest_and_calls_every_llm_rpc(session, install):
    path = install("junk_llm.py", "junk")
    llm = session.load(path, config={"temperature": 0.5, "verbose": True, "retries": 3}, fidelity="lenient")
    assert (llm.name, llm.transport, llm.plugin_type, llm.status) == ("junk", "subprocess", "llm_provider", "ready")
    assert llm.generate("hi").text == f"{llm.pid}:hi"
    assert [c.text for c in llm.stream("x")] == ["first ", "second", ""]
    assert llm.model_info().model_name == "junk"
    assert llm.health().healthy
    assert llm.remote_status() == "ready"
    assert llm.manifest.version == "0.3.0"
    # Lenient: non-string scalars reach Initialize as text (Hector drops them: tests/fidelity).
    assert wait_until(lambda: any("initialized with" in line for line in llm.logs()), 10)
    logged = next(line for line in llm.logs() if "initialized with" in line)
    assert "('retries', '3'), ('temperature', '0.5'), ('verbose', 'true')" in logged


def test_load_by_manifest_path_and_default_name(session, install):
    path = install("junk_llm.py", "by-manifest")
    llm = session.load(path.with_name("by-manifest.plugin.yaml"))
    assert llm.name == "by-manifest" and session.get("by-manifest") is llm


def test_database_and_embedder_clients(session, install):
    db = session.load(install("vectors.py", "db", "database_provider", args="database"))
    emb = session.load(install("vectors.py", "emb", "embedder_provider", args="embedder"))
    db.create_collection("c", 2)
    db.upsert("c", "a", [1.0, 0.0], {"lang": "en", "n": 2})
    assert db.upsert_many("c", [("b", [0.0, 1.0], None), ("c", [0.5, 0.5], {"k": "v"})]) == 2
    hits = db.search("c", [1.0, 0.1], top_k=2)
    assert [h.id for h in hits] == ["a", "c"] and dict(hits[0].metadata) == {"lang": "en", "n": "2"}
    db.delete("c", "a")
    assert [h.id for h in db.search("c", [1.0, 0.1], top_k=5)] == ["c", "b"]
    db.delete_collection("c")
    with pytest.raises(PluginError, match=r"plugin 'db', search: KeyError: 'c'"):
        db.search("c", [1.0, 0.0])
    vector = emb.embed("two words")
    assert vector.dtype.name == "float32" and vector.tolist() == [9.0, 1.0]
    matrix = emb.embed_many(["a", "bb cc", "ddd"])
    assert matrix.shape == (3, 2) and matrix[:, 0].tolist() == [1.0, 5.0, 3.0]
    assert emb.info() == sdk.EmbedderInfo(model_name="length", dimension=2)


def test_tcp_handshake(session, install, monkeypatch):
    monkeypatch.setenv("HECTOR_NB_PLUGIN_TRANSPORT", "tcp")
    llm = session.load(install("junk_llm.py", "tcp-junk"))
    assert llm.process.handshake.network == "tcp"
    assert llm.generate("over tcp").text.endswith(":over tcp")


def test_unix_handshake(session, install):
    llm = session.load(install("junk_llm.py", "unix-junk"))
    assert llm.process.handshake.network == "unix"


def test_exit_before_handshake_reports_code_and_stderr(session, install):
    with pytest.raises(PluginCrashed) as raised:
        session.load(install("exits_at_once.py", "quitter"))
    assert raised.value.exit_code == 3
    assert "exited with code 3 before its handshake" in str(raised.value)
    assert "fatal: cannot open model file" in str(raised.value)
    assert "quitter" not in session


def test_start_timeout_carries_stderr_tail(install):
    with Session(start_timeout=2) as s:
        with pytest.raises(PluginTimeout) as raised:
            s.load(install("never_handshakes.py", "sleepy"))
    assert "no handshake within 2s" in str(raised.value) and "warming up forever" in str(raised.value)


def test_a_handshake_naming_a_socket_nobody_listens_on_is_a_plugin_not_answering(install):
    with Session(start_timeout=2) as s:
        with pytest.raises(PluginNotAnswering, match="plugin 'mute', start: handshake done but the plugin does not"):
            s.load(install("answers_nothing.py", "mute"))
        assert "mute" not in s


def test_wrong_core_version_is_refused(session, install):
    with pytest.raises(HandshakeError, match="core protocol version 2"):
        session.load(install("wrong_core.py", "old"))


def test_missing_executable_and_missing_required_config(session, install):
    path = install("junk_llm.py", "needs-key", config_required=["api_key"])
    with pytest.raises(InvalidConfig, match="api_key missing"):
        session.load(path, fidelity="lenient")  # Hector starts it anyway: tests/fidelity
    assert session.load(path, config={"api_key": "k"}).status == "ready"


def test_hanging_call_times_out_and_plugin_stays_usable(session, install):
    llm = session.load(install("junk_llm.py", "hanger"))
    with pytest.raises(PluginTimeout, match="no answer within 1s"):
        llm.generate("hang", timeout=1)
    assert llm.generate("still here").text.endswith(":still here")


def test_crash_fails_the_call_then_restarts_with_last_config(session, install):
    llm = session.load(install("junk_llm.py", "crasher"), config={"mode": "fast"})
    first_pid = llm.pid
    with pytest.raises(PluginCrashed) as raised:
        llm.generate("crash")
    assert raised.value.exit_code == 7 and "about to crash" in raised.value.stderr_tail
    assert llm.status == "crashed"
    reply = llm.generate("back")
    assert llm.pid != first_pid and reply.text == f"{llm.pid}:back"
    assert (llm.status, llm.restarts) == ("ready", 1)
    assert wait_until(lambda: sum("initialized with [('mode', 'fast')]" in line for line in llm.logs()) == 2, 10)
    table = session.list().set_index("name")
    assert table.loc["crasher", "restarts"] == 1 and table.loc["crasher", "pid"] == llm.pid


def test_crash_mid_stream(session, install, tmp_path, monkeypatch):
    marker = tmp_path / "first-chunk-received"
    monkeypatch.setenv("JUNK_STREAM_CRASH_MARKER", str(marker))
    llm = session.load(install("junk_llm.py", "stream-crasher"))
    chunks = llm.stream("crash")
    assert next(chunks).text == "first "
    marker.touch()  # the plugin crashes now, between two chunks
    with pytest.raises(PluginCrashed, match="exited with code 9"):
        list(chunks)
    assert [c.text for c in llm.stream("ok")] == ["first ", "second", ""]


def test_restarts_are_bounded(session, install, tmp_path, monkeypatch):
    marker = tmp_path / "fail-start"
    monkeypatch.setenv("JUNK_FAIL_START_MARKER", str(marker))
    llm = session.load(install("junk_llm.py", "doomed"))
    marker.write_text("from now on Initialize fails")
    with pytest.raises(PluginCrashed):
        llm.generate("crash")
    with pytest.raises(PluginError, match="refusing to start"):
        llm.generate("again")
    assert llm.status == "error"
    with pytest.raises(PluginGaveUp, match="gave up after 3 failed restarts"):
        llm.generate("and again")
    marker.unlink()
    session.restart("doomed")
    assert llm.status == "ready" and llm.generate("fixed").text.endswith(":fixed")


def test_unload_during_an_automatic_restart_leaves_no_plugin_running(session, install, tmp_path, monkeypatch):
    hold, started = tmp_path / "hold", tmp_path / "started-pid"
    monkeypatch.setenv("HELD_START_MARKER", str(hold))
    monkeypatch.setenv("HELD_START_PID", str(started))
    llm = session.load(install("held_start.py", "held"))
    with pytest.raises(PluginCrashed):
        llm.generate("crash")
    hold.write_text("the next start waits for this file to go")
    outcome: list[BaseException | str] = []

    def call_after_crash():
        try:
            outcome.append(llm.generate("again").text)
        except PluginError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call_after_crash)
    caller.start()
    # (the pid file appears empty a moment before the pid is written: wait for the pid)
    assert wait_until(lambda: started.exists() and started.read_text().strip(), 30), \
        "the automatic restart did not start a process"
    unloader = threading.Thread(target=session.unload, args=("held",))
    unloader.start()
    assert wait_until(lambda: "held" not in session, 10)
    hold.unlink()  # the restarted plugin may now finish its start, while it is being unloaded
    caller.join(60)
    unloader.join(60)
    assert not caller.is_alive() and not unloader.is_alive()
    restarted = int(started.read_text())
    assert wait_until(lambda: process_gone(restarted), 10), "the plugin restarted during unload is still running"
    assert llm.status == "shutdown"
    assert isinstance(outcome[0], PluginError) and "shut down" in str(outcome[0]), outcome


def test_shutdown_stops_the_process_and_cleans_up(session, install):
    llm = session.load(install("junk_llm.py", "stopper"))
    process = llm.process
    socket = process.handshake.address
    session.unload("stopper")
    assert process.exit_code == 0
    assert not os.path.exists(socket)
    assert llm.status == "shutdown"
    with pytest.raises(PluginError, match="no plugin named 'stopper' is loaded"):
        session.get("stopper")


HOST_SCRIPT = textwrap.dedent("""
    import os, sys
    from hector_nb import Session
    s = Session()
    llm = s.load(sys.argv[1])
    print(llm.pid, flush=True)
    if sys.argv[2] == "raise":
        raise RuntimeError("the host failed")
    if sys.argv[2] == "exit":
        sys.exit(0)
    sys.stdin.read()
""")


@pytest.mark.parametrize("how", ["raise", "exit", "sigkill"])
def test_no_orphan_when_the_host_process_ends(install, how):
    path = install("junk_llm.py", "orphan")
    host = subprocess.Popen([sys.executable, "-c", HOST_SCRIPT, str(path), how], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pid = int(host.stdout.readline())
        if how == "sigkill":
            host.kill()
        host.wait(timeout=30)

        assert wait_until(lambda: process_gone(pid), 30.0), f"plugin {pid} outlived its host ({how})"
    finally:
        host.kill()
        host.communicate(timeout=10)


def test_load_config_starts_every_enabled_plugin(session, install, tmp_path, monkeypatch):
    install("junk_llm.py", "cfg-llm")
    install("vectors.py", "cfg-db", "database_provider", args="database")
    monkeypatch.setenv("LLM_MODE", "strict")
    (tmp_path / "hector.yaml").write_text(textwrap.dedent("""
        plugins:
          llm_providers:
            writer: {name: writer, type: grpc, path: ./cfg-llm, config: {mode: "${LLM_MODE}", top_p: 0.9}}
          database_providers:
            store: {name: store, type: grpc, path: ./cfg-db, enabled: true}
            disabled: {name: disabled, type: grpc, path: ./nowhere, enabled: false}
    """))
    loaded = session.load_config(tmp_path / "hector.yaml")
    assert [c.name for c in loaded] == ["writer", "store"]
    assert list(session.list()["name"]) == ["writer", "store"]
    writer = session.get("writer")
    # As Hector: top_p, a number, never reaches Initialize (tests/fidelity has the warning).
    assert wait_until(lambda: any("initialized with [('mode', 'strict')]" in line for line in writer.logs()), 10)


def test_load_config_rejects_a_plugin_in_the_wrong_section(session, install, tmp_path):
    install("junk_llm.py", "misplaced")
    (tmp_path / "hector.yaml").write_text("plugins:\n  embedder_providers:\n    e: {name: e, path: ./misplaced}\n")
    with pytest.raises(PartialLoad) as failed:  # Hector loads the good ones; here there are none
        session.load_config(tmp_path / "hector.yaml")
    assert failed.value.loaded == [] and list(failed.value.failures) == ["e"]
    assert isinstance(failed.value.failures["e"], InvalidConfig)
    assert "listed as a embedder_provider but its manifest says llm_provider" in str(failed.value.failures["e"])


@pytest.mark.parametrize("how", ["close", "abandon"])
def test_closing_or_abandoning_a_stream_cancels_it_in_the_plugin(session, install, how):
    llm = session.load(install("../../sdk/plugins/echo_llm.py", "sdk-echo"), config={"delay": "0.2"})
    stream = llm.stream(" ".join(f"w{i}" for i in range(100)))
    assert next(stream).text == "w0 "
    if how == "close":
        stream.close()
    else:
        del stream
        gc.collect()
    # The provider's generator was closed in the plugin: its finally clause printed this.
    assert wait_until(lambda: "[stdout] stream closed" in llm.logs(), 10), llm.logs()
    assert llm.generate("after").text == "Echo: after"
