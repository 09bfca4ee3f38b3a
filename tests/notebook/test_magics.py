"""The %hector magics in a real IPython shell."""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from IPython.core.error import UsageError
from traitlets import TraitError

import hector_nb
from hector_nb.display import Generation
from hector_nb.providers import BUILTINS


def test_help_lists_every_subcommand(ip, capsys):
    ip.run_line_magic("hector", "--help")
    listing = capsys.readouterr().out
    for name in ("load", "unload", "restart", "list", "logs", "discover", "generate", "embed", "upsert", "search",
                 "compare", "provider"):
        assert f"  {name} " in listing
    ip.run_line_magic("hector", "search --help")
    assert capsys.readouterr().out.startswith("%hector search [--embedder EMBEDDER]")


def test_load_generate_and_shared_session(ip, capsys):
    client = ip.run_line_magic("hector", "load builtin:echo --set prefix='you said: '")
    assert hector_nb.session().get("echo") is client
    ip.user_ns["who"] = "Ada"
    generation = ip.run_line_magic("hector", 'generate echo "hello {who}" --out result')
    assert isinstance(generation, Generation) and ip.user_ns["result"] is generation
    assert generation.text == "you said: hello Ada"
    assert "you said: hello Ada" in capsys.readouterr().out  # no widget frontend here: printed progressively
    reply = ip.run_line_magic("hector", 'generate echo "plain" --no-stream --system "be terse"')
    assert reply.text == "you said: plain"
    cell = ip.run_cell_magic("hector", "generate echo", "from the {who} cell\n")
    assert cell.text == "you said: from the Ada cell"
    table = ip.run_line_magic("hector", "list")
    assert list(table["name"]) == ["echo"]


def test_timeout_setting_reaches_the_session(ip):
    ip.run_line_magic("config", "HectorMagics.timeout = 7.5")
    assert hector_nb.session().timeout == 7.5


@pytest.mark.parametrize("setting, value, unit", [
    ("stream_fps", "0", "redraws per second"), ("stream_fps", "-5", "redraws per second"),
    ("timeout", "0", "seconds"), ("timeout", "-1", "seconds"), ("timeout", "float('nan')", "seconds"),
    ("timeout", "float('inf')", "seconds"),
])
def test_numeric_settings_refuse_what_is_not_positive_and_finite(ip, caplog, setting, value, unit):
    magics = ip.magics_manager.registry["HectorMagics"]
    before = getattr(magics, setting)
    message = rf"HectorMagics\.{setting} must be a positive finite number \({unit}\), got .*; e\.g\. %config"
    with pytest.raises(TraitError, match=message):
        setattr(magics, setting, eval(value))
    # %config shows the same TraitError (IPython logs it) and keeps the setting as it was: no division by zero later.
    try:
        ip.run_line_magic("config", f"HectorMagics.{setting} = {value}")
        assert getattr(magics, setting) == before and hector_nb.session().timeout == magics.timeout
    finally:  # %config keeps the refused value in the shared shell's config: the next load_ext would meet it
        ip.run_line_magic("config", f"HectorMagics.{setting} = {before!r}")
    assert any(record.levelname == "ERROR" and f"HectorMagics.{setting} must be a positive finite number"
               in record.getMessage() for record in caplog.records)


class Stuck(hector_nb.sdk.LLMProvider):
    """Answers once ``release`` is set: a call outlives any deadline shorter than the test's."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def generate(self, messages, tools):
        self.release.wait(60)
        return hector_nb.sdk.GenerateResponse(text="late")


def test_a_timeout_change_applies_to_loaded_plugins_and_its_error_names_the_magics(ip):
    stuck = Stuck()
    ip.run_line_magic("config", "HectorMagics.timeout = 30")  # the test shell is shared: set, not assumed
    client = hector_nb.session().add("stuck", stuck, transport="in-process")
    assert client.timeout == 30.0
    ip.run_line_magic("config", "HectorMagics.timeout = 0.5")  # after the load: it applies to the next call
    assert client.timeout == 0.5
    try:
        with pytest.raises(UsageError) as raised:
            ip.run_line_magic("hector", 'generate stuck "hi" --no-stream')
    finally:
        stuck.release.set()
        ip.run_line_magic("config", "HectorMagics.timeout = 30")
    assert str(raised.value) == (
        "plugin 'stuck', generate: no answer within 0.5s; for a longer deadline: %config HectorMagics.timeout = 60 "
        "(it applies to every loaded plugin); what the plugin wrote: %hector logs stuck")


def test_provider_cell_registers_and_replaces(ip):
    cell = '''
from hector_nb import sdk
shutdowns = globals().setdefault("shutdowns", [])
class Shout(sdk.LLMProvider):
    version = "{version}"
    def generate(self, messages, tools):
        return sdk.GenerateResponse(text=messages[-1].content.upper() + "{mark}")
    def shutdown(self):
        shutdowns.append("{version}")
'''
    ip.run_cell_magic("hector", "provider --name loud", cell.format(version="1", mark="!"))
    assert ip.run_line_magic("hector", 'generate loud "hi" --no-stream').text == "HI!"
    ip.run_cell_magic("hector", "provider --name loud", cell.format(version="2", mark="?"))
    assert ip.user_ns["shutdowns"] == ["1"]
    assert ip.run_line_magic("hector", 'generate loud "hi" --no-stream').text == "HI?"
    assert hector_nb.session().get("loud").manifest.version == "2"


def test_provider_cell_as_subprocess(ip):
    cell = '''
from hector_nb import sdk
class Reverse(sdk.LLMProvider):
    def generate(self, messages, tools):
        return sdk.GenerateResponse(text=messages[-1].content[::-1])
'''
    client = ip.run_cell_magic("hector", "provider --subprocess", cell)
    assert (client.name, client.transport) == ("reverse", "subprocess") and client.pid
    assert ip.run_line_magic("hector", 'generate reverse "abc" --no-stream').text == "cba"


def test_upsert_search_and_compare(ip):
    ip.user_ns["frame"] = pd.DataFrame({
        "key": ["a", "b", "c", "d"],
        "body": ["red apples and pears", "green apples", "blue evening sky", "dark night sky"],
        "topic": ["fruit", "fruit", "sky", "sky"],
    })
    ip.run_line_magic("hector", "load builtin:hashing --set dimension=128")
    ip.run_line_magic("hector", "load builtin:memory --name cos")
    ip.run_line_magic("hector", "load builtin:memory --name dot --set metric=dot --in-process")
    for db in ("cos", "dot"):
        count = ip.run_line_magic("hector", f"upsert {db} things --from frame --text-column body --id-column key "
                                            "--embedder hashing")
        assert count == 4
    # A second upsert finds the collection there already.
    ip.run_line_magic("hector", "upsert cos things --from frame --text-column body --id-column key --embedder hashing")
    found = ip.run_line_magic("hector", 'search cos things "apples" --embedder hashing --top-k 2')
    assert list(found.columns) == ["rank", "id", "score", "hector_keeps", "content", "topic"]
    assert set(found["id"]) == {"a", "b"} and list(found["topic"]) == ["fruit", "fruit"]
    ip.user_ns["q"] = hector_nb.session().get("hashing").embed("sky")
    by_vector = ip.run_line_magic("hector", "search cos things --vector q --top-k 2")
    assert set(by_vector["id"]) == {"c", "d"}
    frame = ip.run_line_magic("hector", 'compare cos,dot things "night sky" --embedder hashing --top-k 2 '
                                        "--reference cos")
    assert list(frame.columns.get_level_values(0).unique()) == ["cos", "dot"]
    assert frame.loc[1, ("cos", "id")] == "d"
    assert frame.recall["cos"] == 1.0


@pytest.mark.parametrize("line, message", [
    ('generate ghost "hi"', "plugin 'ghost', get: no plugin named 'ghost' is loaded"),
    ('search echo c "q" --embedder echo', "plugin 'echo', use: is an llm_provider, but this needs a database_provider"),
    ("frobnicate", "unknown subcommand 'frobnicate'"),
    ("search db c --top-k many", "argument --top-k: invalid int value: 'many'"),
    ('generate echo "unbalanced', "check the quotes"),
    ("upsert mem c --from nothing --text-column t --embedder h", "no variable 'nothing' in the notebook"),
    ("load builtin:nope", "no built-in provider 'nope'"),
    ('search mem c "q"', "give --embedder E to embed the query (or --vector VAR)"),
    ('compare mem c "q" --embedder h', "needs at least two databases"),
    ('compare mem,echo c "q" --embedder h --reference other', "--reference other must be one of"),
    ("load builtin:memory --name bad --set metric",
     "configure: --set takes KEY=VALUE (the value is text), got 'metric'; e.g. --set prefix=Hi"),
])
def test_errors_are_one_line_usage_errors(ip, line, message):
    ip.run_line_magic("hector", "load builtin:echo")
    ip.run_line_magic("hector", "load builtin:memory --name mem")
    with pytest.raises(UsageError) as raised:
        ip.run_line_magic("hector", line)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_plugin_management_subcommands(ip, capsys, tmp_path):
    from hector_nb.providers import builtin_plugin_path

    client = ip.run_line_magic("hector", f"load {builtin_plugin_path('echo')} --name disk-echo --set delay=0")
    assert (client.name, client.transport) == ("disk-echo", "subprocess")
    ip.run_line_magic("hector", "logs disk-echo")
    assert "(disk-echo has written nothing)" in capsys.readouterr().out
    first_pid = client.pid
    assert ip.run_line_magic("hector", "restart disk-echo") is client and client.pid != first_pid
    assert client.generate("x").text == "x"
    ip.run_line_magic("hector", "unload disk-echo")
    assert client.status == "shutdown" and list(ip.run_line_magic("hector", "list")["name"]) == []
    table = ip.run_line_magic("hector", f"discover {builtin_plugin_path('echo').parent}")
    assert sorted(table["name"]) == sorted(BUILTINS) and table["valid"].all()
    (tmp_path / "hector.yaml").write_text(
        f"plugins:\n  embedder_providers:\n    emb: {{name: emb, path: {builtin_plugin_path('hashing')}, "
        "config: {dimension: '16'}}\n")
    loaded = ip.run_line_magic("hector", f"load --config {tmp_path / 'hector.yaml'}")
    assert list(loaded["name"]) == ["emb"]
    assert hector_nb.session().get("emb").info().dimension == 16


def test_a_refused_setting_left_in_the_shells_config_does_not_stop_a_reload(ip):
    ip.run_line_magic("config", "HectorMagics.stream_fps = 0")  # refused, yet IPython keeps it in the shell's config
    with pytest.warns(UserWarning, match=r"HectorMagics\.stream_fps must be a positive finite number .*; "
                                         r"it stays 20\.0 \(its default\)"):
        ip.run_line_magic("reload_ext", "hector_nb")
    assert ip.magics_manager.registry["HectorMagics"].stream_fps == 20.0
    assert "stream_fps" not in ip.config.HectorMagics
