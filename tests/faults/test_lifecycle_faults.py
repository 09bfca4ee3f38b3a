"""A plugin's life: crashes between calls, restarts, unloads and loads racing calls, deadlines, daemons."""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
from pathlib import Path

import pytest
from ipython_shell import extension_shell
from plugin_process import process_gone, wait_until

import hector_nb
from hector_nb import Session
from hector_nb.errors import CallCancelled, HectorError, InvalidInput, PluginCrashed, PluginError, ProviderError
from hector_nb.magics import provider as provider_magic
from hector_nb.manifest import PluginManifest, write_manifest
from hector_nb.providers import EchoLLM, MemoryDatabase

PLUGINS = Path(__file__).parent / "plugins"


# Item 1: a plugin killed between calls (kill -9, out of memory) took its data along: the next call says so.
def test_a_plugin_killed_between_calls_fails_the_next_call_saying_its_memory_is_gone(session):
    db = session.load("builtin:memory", name="mem", transport="subprocess")
    db.create_collection("docs", 2)
    db.upsert("docs", "a", [1.0, 0.0])
    first = db.pid
    os.kill(first, signal.SIGKILL)
    assert wait_until(lambda: db.status == "crashed", 10)  # the host saw it die: between calls
    with pytest.raises(PluginCrashed, match=r"killed by signal 9 \(SIGKILL\) since the last call.*memory") as raised:
        db.search("docs", [1.0, 0.0])
    assert raised.value.exit_code == -signal.SIGKILL
    assert (db.status, db.restarts) == ("ready", 1) and db.pid != first
    assert any(line.startswith("[host]") and "killed by signal 9" in line for line in db.logs())
    # Said once: the restarted plugin answers (its collection is gone, as the error said).
    with pytest.raises(ProviderError, match="docs"):
        db.search("docs", [1.0, 0.0])


# Item 7: restart means one thing everywhere: a fresh instance with the last config; nothing in memory survives.
def test_restart_starts_a_fresh_instance_on_every_transport(session, transport):
    original = MemoryDatabase()
    db = session.add("mem", original, transport=transport, config={"metric": "dot"})
    db.create_collection("docs", 2)
    db.upsert("docs", "a", [1.0, 0.0])
    session.restart("mem")
    assert (db.status, db.restarts, db.config) == ("ready", 1, {"metric": "dot"})
    with pytest.raises(ProviderError, match="docs"):
        db.search("docs", [1.0, 0.0])
    db.create_collection("docs", 2)
    db.upsert("docs", "b", [1.0, 0.0])
    assert [hit.id for hit in db.search("docs", [1.0, 0.0])] == ["b"]
    if transport != "subprocess":  # the object the user passed is not the one running any more
        assert db.provider is not original and isinstance(db.provider, MemoryDatabase)


class NeedsArguments(EchoLLM):
    """A provider whose constructor takes an argument, remembered for its fresh instances."""

    def __init__(self, prefix: str) -> None:
        self.made_with = prefix

    def initialize(self, config):
        super().initialize({**config, "prefix": self.made_with})


def test_restart_remakes_a_provider_with_its_constructor_arguments(session):
    llm = session.add("needs", NeedsArguments(">> "), transport="in-process")
    session.restart("needs")
    assert llm.generate("hi").text == ">> hi" and llm.provider.made_with == ">> "


# Item 14: calls racing unload and restart end only in HectorErrors; those cut short are CallCancelled.
def test_calls_racing_restart_and_unload_raise_only_hector_errors(session, transport):
    llm = session.load("builtin:echo", name="racer", transport=transport, config={"delay": "0.002"})
    failures: list[BaseException] = []
    calls = threading.Semaphore(0)
    stop = threading.Event()

    def caller() -> None:
        while not stop.is_set():
            try:
                llm.generate("one two")
                assert "".join(chunk.text for chunk in llm.stream("three four five six")) == "three four five six"
            except BaseException as exc:  # noqa: BLE001 - every failure is judged below
                failures.append(exc)
                if not isinstance(exc, HectorError) or llm.status == "shutdown":
                    return
            calls.release()

    threads = [threading.Thread(target=caller) for _ in range(16)]
    for thread in threads:
        thread.start()
    for _ in range(3):
        for _ in range(16):
            assert calls.acquire(timeout=60), "calls stopped going through"
        session.restart("racer")
    session.unload("racer")
    stop.set()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    wrong = [exc for exc in failures if not isinstance(exc, HectorError) or isinstance(exc, PluginCrashed)]
    assert wrong == [], [f"{type(exc).__name__}: {exc}" for exc in wrong[:3]]
    assert all(isinstance(exc, CallCancelled) or "was shut down (unloaded)" in str(exc) for exc in failures), \
        "\n".join(sorted({f"{type(exc).__name__}: {exc}" for exc in failures}))  # a string: pytest cuts a set's repr


# Item 14 too: a stream the restart cut short is CallCancelled even when read while the new process starts
# (once it was judged then as the old process's crash).
def test_a_stream_cut_by_a_restart_is_cancelled_while_the_new_process_starts(session, scripted, tmp_path):
    llm = scripted("held_restart.py", "Held", "subprocess")
    chunks = iter(llm.stream("hello"))
    assert next(chunks).text == "first"
    old = llm.pid
    restart = threading.Thread(target=session.restart, args=(llm.name,))
    restart.start()
    try:
        assert wait_until(lambda: process_gone(old), 30), "the restart did not stop the old process"
        assert restart.is_alive()  # the new process waits for the file go
        with pytest.raises(CallCancelled, match="restarted"):
            list(chunks)
    finally:
        (tmp_path / "go").touch()
        restart.join(60)
    assert (llm.status, llm.restarts) == ("ready", 1) and llm.pid != old


# Item 15: two threads loading one name: exactly one wins, the other hears why; no process left behind.
def test_two_loads_of_one_name_at_once_one_wins(session):
    ready = threading.Barrier(2)
    outcomes: list[object] = []

    def load() -> None:
        ready.wait()
        try:
            outcomes.append(session.load("builtin:echo", name="twin", transport="subprocess"))
        except PluginError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    errors = [o for o in outcomes if isinstance(o, PluginError)]
    assert len(outcomes) == 2 and len(errors) == 1, outcomes
    assert "twin" in str(errors[0]) and ("being loaded" in str(errors[0]) or "loaded already" in str(errors[0]))
    assert session.list()["name"].tolist() == ["twin"]


def daemonizer(directory: Path) -> Path:
    """``plugins/daemonizer.py`` installed as a plugin executable in ``directory``, its manifest beside it."""
    executable = directory / "daemonizer"
    executable.write_text(f"#!{sys.executable}\n" + (PLUGINS / "daemonizer.py").read_text())
    executable.chmod(0o755)
    write_manifest(PluginManifest(name="daemonizer", version="1.0.0", type="llm_provider"), executable)
    return executable


# Item 16: a daemon the plugin left in a session of its own goes with the unload; nothing accumulates.
def test_a_setsid_daemon_goes_with_its_plugin_and_nothing_accumulates(session, tmp_path):
    executable = daemonizer(tmp_path)
    pid_file = tmp_path / "daemon.pid"

    def cycle() -> int:
        session.load(executable, config={"pid_file": str(pid_file)})
        daemon = int(pid_file.read_text())
        session.unload("daemonizer")
        assert wait_until(lambda: process_gone(daemon), 15), f"the daemon {daemon} outlived its plugin's unload"
        return daemon

    cycle()  # the first cycle starts gRPC's own threads and fds
    fds, threads = len(os.listdir("/proc/self/fd")), threading.active_count()
    for _ in range(20):
        cycle()
    assert wait_until(lambda: threading.active_count() <= threads, 15), threading.enumerate()
    assert len(os.listdir("/proc/self/fd")) <= fds


def test_a_daemon_out_of_reach_is_reported_as_escaped(session, tmp_path):
    executable = daemonizer(tmp_path)
    pid_file = tmp_path / "daemon.pid"
    llm = session.load(executable, config={"pid_file": str(pid_file), "scrub": "yes"})
    process, daemon = llm.process, int(pid_file.read_text())
    try:
        session.unload("daemonizer")
        assert wait_until(lambda: process.escaped, 15)
        assert any(line.startswith("[host]") and "escaped" in line for line in llm.logs()), llm.logs()
    finally:
        os.kill(daemon, signal.SIGKILL)  # out of the host's reach: the test stops it itself
    assert wait_until(lambda: process_gone(daemon), 15)


# Item 17: None, inf and huge deadlines mean none; zero and negative are refused; closing still stops everything.
@pytest.mark.parametrize("timeout", [None, math.inf, 1e300])
def test_no_deadline_everywhere_and_closing_still_stops(timeout):
    with Session(timeout=timeout, start_timeout=timeout) as session:
        llm = session.load("builtin:echo", transport="subprocess")
        db = session.load("builtin:memory", transport="subprocess")
        kernel = session.load("builtin:memory", name="kernel", transport="in-process")
        assert llm.generate("hi", timeout=timeout).text == "hi"
        assert "".join(chunk.text for chunk in llm.stream("a b", timeout=timeout)) == "a b"
        for database in (db, kernel):
            database.create_collection("docs", 2)
            assert database.upsert_many("docs", [(str(i), [1.0, float(i)], None) for i in range(300)],
                                        timeout=timeout) == 300
        pids = [llm.pid, db.pid]
    assert all(process_gone(pid) for pid in pids)
    assert (llm.status, db.status, kernel.status) == ("shutdown",) * 3


@pytest.mark.parametrize("timeout", [0, -1, math.nan, "30"])
def test_a_senseless_deadline_is_refused(timeout, session):
    with pytest.raises(InvalidInput, match="timeout"):
        Session(timeout=timeout)
    with pytest.raises(InvalidInput, match="timeout"):
        Session(start_timeout=timeout)
    llm = session.load("builtin:echo")
    with pytest.raises(InvalidInput, match="plugin 'echo', generate: timeout"):
        llm.generate("hi", timeout=timeout)


# Item 19: cells whose names differ only in what a module name cannot hold are two modules, not one.
def test_subprocess_cells_with_names_alike_as_files_stay_apart(tmp_path, monkeypatch):
    monkeypatch.setattr(provider_magic, "_cell_modules", tmp_path)  # removed by pytest, not at exit
    monkeypatch.syspath_prepend(str(tmp_path))
    with extension_shell() as shell:
        for name, answer in (("bot-1", "dash"), ("bot_1", "underscore")):
            shell.run_cell_magic("hector", f"provider --subprocess --name {name}", f"""
from hector_nb import sdk
class Bot(sdk.LLMProvider):
    def generate(self, messages, tools):
        return sdk.GenerateResponse(text={answer!r})
""")
        session = hector_nb.session()
        session.restart("bot-1")  # a new process imports the cell's module again: its own
        assert session.llm("bot-1").generate("?").text == "dash"
        assert session.llm("bot_1").generate("?").text == "underscore"
