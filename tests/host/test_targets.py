"""hector_nb.targets: every target form resolved by one function, and a built-in started one way everywhere."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import get_args

import pytest

from hector_nb.conformance.target import target_of_path
from hector_nb.errors import InvalidInput, ManifestError, PluginNotFound, WrongPluginType
from hector_nb.hector import Fidelity
from hector_nb.host.transport import TransportKind
from hector_nb.manifest import PluginManifest, manifest_from_provider, write_manifest
from hector_nb.providers import BUILTIN_NAMES, EchoLLM, builtin_class, builtin_plugin_path
from hector_nb.targets import (
    DatabaseBuiltin,
    EmbedderBuiltin,
    LaunchSpec,
    LLMBuiltin,
    TargetKind,
    load_provider_class,
    require_provider,
    resolve,
)

ROOT = Path(__file__).resolve().parents[2]


def test_builtin_resolves_to_its_launcher_beside_its_manifest():
    spec = resolve("builtin:echo")
    launcher = builtin_plugin_path("echo")
    assert (spec.kind, spec.name, spec.plugin_type) == (TargetKind.BUILTIN, "echo", "llm_provider")
    assert spec.command == (str(launcher),) and spec.manifest_file == launcher.with_name("echo.plugin.yaml")
    assert spec.provider_class is EchoLLM and spec.env is None
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]  # frozen


@pytest.mark.parametrize("given", ["executable", "manifest", "path object"])
def test_a_plugin_file_resolves_to_its_executable(given):
    launcher = builtin_plugin_path("hashing")
    target = {"executable": str(launcher), "manifest": f"{launcher}.plugin.yaml", "path object": launcher}[given]
    spec = resolve(target)
    assert (spec.kind, spec.name, spec.plugin_type) == (TargetKind.EXECUTABLE, "hashing", "embedder_provider")
    assert spec.command == (str(launcher),) and spec.provider_class is None


def test_module_and_file_classes_resolve_to_a_served_class(tmp_path):
    spec = resolve("hector_nb.providers.echo:EchoLLM")
    assert (spec.kind, spec.name, spec.provider_class) == (TargetKind.CLASS, "echo", EchoLLM)
    assert spec.command == (sys.executable, "-m", "hector_nb.plugin.serve", "hector_nb.providers.echo:EchoLLM")
    assert spec.env is not None and spec.manifest == manifest_from_provider(EchoLLM)
    source = tmp_path / "shouty_provider.py"
    source.write_text(textwrap.dedent("""
        from hector_nb import sdk

        class Outer:
            class Shout(sdk.LLMProvider):
                name = "shout"

                def generate(self, messages, tools):
                    return sdk.GenerateResponse(text=messages[-1].content.upper())
    """))
    spec = resolve(f"{source}:Outer.Shout")
    assert (spec.kind, spec.name, spec.plugin_type) == (TargetKind.CLASS, "shout", "llm_provider")
    assert spec.command[-1] == "shouty_provider:Outer.Shout"


@pytest.mark.parametrize("target, error, words", [
    ("builtin:nope", PluginNotFound, "no built-in provider 'nope'; choose one of builtin:echo, builtin:memory"),
    ("plugins/nowhere", PluginNotFound, "no plugin executable or .plugin.yaml there; name builtin:NAME"),
    ("my-module:Two Words", InvalidInput, "neither a file nor a class name; name builtin:NAME"),
    ("no_such_module_here:Thing", PluginNotFound, "cannot import the class: No module named 'no_such_module_here'"),
    ("hector_nb.providers.echo:Missing", PluginNotFound, "cannot import the class: module"),
    ("collections:OrderedDict", WrongPluginType, "OrderedDict is not a provider hector_nb runs (llm_provider, "),
    ("os.path:join", WrongPluginType, "a function object is not a provider hector_nb runs"),
    ("", InvalidInput, "the path is empty"),
])
def test_each_error_names_the_target_and_what_to_do(target, error, words):
    with pytest.raises(error, match=re.escape(words)) as raised:
        resolve(target, "serve")
    assert raised.value.operation == "serve"


def test_a_manifest_of_another_plugin_type_is_refused_or_reported(tmp_path):
    executable = tmp_path / "tools"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    write_manifest(PluginManifest(name="tools", version="1", type="tool_provider"), executable)
    with pytest.raises(WrongPluginType, match="its manifest's type 'tool_provider' is not a provider hector_nb runs"):
        resolve(executable)
    reported = resolve(executable, "check", lenient=True)
    assert reported.plugin_type is None and "'tool_provider' is not a provider" in reported.manifest_error
    with pytest.raises(ManifestError, match="no such manifest"):
        resolve(tmp_path / "ghost")
    missing = resolve(str(tmp_path / "ghost"), "check", lenient=True)
    assert missing.manifest is None and "no such manifest" in missing.manifest_error


def test_one_plugin_type_check_one_message(session):
    messages = []
    for refuse in (lambda: require_provider(int, "x", "export"), lambda: session.add("x", object()),
                   lambda: resolve("collections:OrderedDict")):
        with pytest.raises(WrongPluginType) as raised:
            refuse()
        messages.append(re.sub(r"^(a )?\w+ (object )?", "", raised.value.message))
    assert len(set(messages)) == 1, messages
    with pytest.raises(WrongPluginType, match="is a plugin executable, not a provider class; export takes"):
        load_provider_class(str(builtin_plugin_path("echo")))


def test_transport_and_fidelity_take_enums_and_strings(session):
    llm = session.load("builtin:echo", transport=TransportKind.IN_KERNEL, fidelity=Fidelity.LENIENT)
    assert llm.transport == "in-kernel" and llm.fidelity == "lenient"
    db = session.load_database("builtin:memory", name="m", transport="in-process")
    assert db.transport == "in-process"
    with pytest.raises(InvalidInput, match="unknown transport 'carrier-pigeon'; use one of in-kernel, in-process, "
                                           "subprocess"):
        session.load("builtin:echo", name="e2", transport="carrier-pigeon")
    with pytest.raises(ValueError, match="fidelity must be 'hector'"):
        session.load("builtin:echo", name="e4", fidelity="strict")
    with pytest.raises(InvalidInput, match="a plugin executable runs as a subprocess"):
        session.load(builtin_plugin_path("echo"), name="e3", transport=TransportKind.IN_KERNEL)


def test_typed_loads_refuse_another_kind_before_starting_it(session):
    with pytest.raises(WrongPluginType, match="is an llm_provider, but this needs a database_provider"):
        session.load_database("builtin:echo")
    assert session.names() == []
    embedder = session.load_embedder(builtin_plugin_path("hashing"))
    assert embedder.embed("a text").shape[0] > 0


def _children_commands(pid: int) -> list[list[str]]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0")[:-1] for child in children]


def test_every_entry_point_starts_a_builtin_as_its_launcher(session, tmp_path):
    from ipython_shell import extension_shell

    launcher = resolve("builtin:echo").command
    assert session.load("builtin:echo").process.command == list(launcher)  # Session.load
    assert target_of_path("builtin:echo").command == list(launcher)  # hector_nb.check, python -m hector_nb check
    with extension_shell() as ip:  # %hector load, when the subprocess is asked for
        assert ip.run_line_magic("hector", "load builtin:echo --subprocess").process.command == list(launcher)
    # python -m hector_nb serve: the plugin process it starts runs the launcher (its #! interpreter, then its path).
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    served = subprocess.Popen([sys.executable, "-m", "hector_nb", "serve", "builtin:echo"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert served.stdout is not None and served.stdout.readline().startswith("Serving echo (LLM) at http")
        commands = _children_commands(served.pid)
        assert [command[1:] for command in commands] == [list(launcher)], commands
    finally:
        served.kill()
        served.communicate(timeout=60)


@pytest.mark.parametrize("builtin", BUILTIN_NAMES)
def test_each_committed_builtin_manifest_is_the_one_its_class_declares(builtin):
    # The manifests are files because Hector's discovery reads files; this keeps each one its class's, byte
    # for byte (name, type, version, config keys, defaults, required keys, capabilities).
    committed = builtin_plugin_path(builtin).with_name(f"{builtin}.plugin.yaml").read_text()
    declared = manifest_from_provider(builtin_class(builtin)).to_yaml()
    assert committed == declared, f"write the declared manifest into {builtin}.plugin.yaml:\n{declared}"


def test_a_launch_spec_is_what_load_takes(session):
    spec = resolve("builtin:hashing")
    assert isinstance(spec, LaunchSpec)
    assert session.load(spec, name="h").embed("x").shape[0] > 0


def test_the_typed_builtin_names_are_every_builtin_of_its_type():
    typed = {"llm_provider": LLMBuiltin, "database_provider": DatabaseBuiltin, "embedder_provider": EmbedderBuiltin}
    for plugin_type, names in typed.items():
        assert {resolve(name).plugin_type for name in get_args(names)} == {plugin_type}
    assert sorted(name for names in typed.values() for name in get_args(names)) == sorted(
        f"builtin:{name}" for name in BUILTIN_NAMES)
