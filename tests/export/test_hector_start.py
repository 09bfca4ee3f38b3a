"""Exported plugins and the built-in launchers start the way Hector starts them: with Hector's
environment, whose PATH may lead to no virtualenv. A missing package is one stderr line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

from hector_nb import Session
from hector_nb.errors import ExportError, PluginCrashed
from hector_nb.export import export_provider
from hector_nb.plugin.constants import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE
from hector_nb.providers import builtin_plugin_path
from hector_nb.targets import load_provider_class

#: A PATH as a service's or a shell's without any virtualenv: no interpreter of this test run on it.
HECTOR_PATH = "/usr/bin:/bin"

PROVIDERS = '''
import os
import threading

from hector_nb.providers import EchoLLM, MemoryDatabase as Memory
from hector_nb.sdk import GenerateResponse, LLMProvider, ModelInfo

LEVEL = os.environ.get("LEVEL", "info")
GREETING = " ".join(["log", "level"]).upper()
LOCK = threading.Lock()


class Levels(LLMProvider):
    def generate(self, messages, tools):
        return GenerateResponse(text=f"{GREETING}: {LEVEL}")

    def get_model_info(self):
        return ModelInfo(model_name="levels")


class Locked(Levels):
    def generate(self, messages, tools):
        with LOCK:
            return super().generate(messages, tools)


class Loud(EchoLLM):
    def generate(self, messages, tools):
        reply = super().generate(messages, tools)
        reply.text = reply.text.upper()
        return reply


class Sorted(Memory):
    name = "sorted"
'''


@pytest.fixture
def providers(tmp_path) -> Path:
    file = tmp_path / "providers.py"
    file.write_text(textwrap.dedent(PROVIDERS))
    return file


@pytest.fixture
def session(monkeypatch):
    monkeypatch.setenv("PATH", HECTOR_PATH)
    with Session(timeout=30, start_timeout=60) as s:
        yield s


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> str:
    """An interpreter with none of the plugin's packages (a virtualenv without them)."""
    directory = tmp_path_factory.mktemp("bare")
    venv.EnvBuilder(with_pip=False).create(directory)
    return str(directory / "bin" / "python")


def test_the_launcher_names_the_exporting_interpreter(providers, tmp_path, session, monkeypatch):
    result = export_provider(load_provider_class(f"{providers}:Levels"), tmp_path / "out")
    assert result.executable.read_text().splitlines()[0] == f"#!{sys.executable}"
    monkeypatch.setenv("LEVEL", "debug")  # re-evaluated in the plugin process, from Hector's environment
    assert session.load(result.executable).generate("hi").text == "LOG LEVEL: debug"
    source = result.source.read_text()
    assert 'LEVEL = os.environ.get("LEVEL", "info")' in source and "import os" in source
    assert "LOCK" not in source


def test_a_computed_value_that_is_not_a_constant_is_refused(providers, tmp_path):
    with pytest.raises(ExportError, match="uses 'LOCK', a value that exists only in the running notebook"):
        export_provider(load_provider_class(f"{providers}:Locked"), tmp_path / "out")


def test_a_missing_package_is_one_stderr_line_naming_it_and_the_install_command(providers, tmp_path, session,
                                                                               bare_python):
    result = export_provider(load_provider_class(f"{providers}:Levels"), tmp_path / "out", python=bare_python)
    with pytest.raises(PluginCrashed) as raised:
        session.load(result.executable)
    requirements = tmp_path / "out" / "requirements.txt"
    assert raised.value.stderr_tail == (  # one line, as the plugin log shows it
        f"[stderr] levels: the Python package 'grpcio' (module 'grpc') is missing from {bare_python}; install the "
        f"plugin's packages with: {bare_python} -m pip install -r {requirements}")


@pytest.mark.parametrize(("cls", "module", "uses", "check"), [
    ("Loud", "echo", [], lambda plugin: plugin.generate("hi").text == "HI"),
    ("Sorted", "memory", ["results.py"],  # the built-in modules it imports come along
     lambda plugin: plugin.upsert("c", "a", [1.0, 0.0]) or plugin.search("c", [1.0, 0.0], 1)[0].id == "a"),
])
def test_a_subclass_of_a_builtin_carries_its_module(providers, tmp_path, session, cls, module, uses, check):
    result = export_provider(load_provider_class(f"{providers}:{cls}"), tmp_path / "out")
    source = result.source.read_text()
    assert "hector_nb" not in source.replace("exported by hector_nb", "")
    carried = result.source.parent / "_hector_runtime" / "providers"
    assert sorted(p.name for p in carried.iterdir()) == sorted(["__init__.py", f"{module}.py", *uses])
    assert ("numpy" in result.requirements.read_text().split()) == (module == "memory")
    assert check(session.load(result.executable))


def test_export_builtin_names_this_interpreter(tmp_path, session):
    completed = subprocess.run([sys.executable, "-m", "hector_nb", "export", "builtin:echo", "--out",
                                str(tmp_path / "plugins")], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    launcher = tmp_path / "plugins" / "echo"
    assert launcher.read_text().splitlines()[0] == f"#!{sys.executable}"
    assert session.load(launcher).generate("hello").text == "hello"


def test_a_builtin_launcher_run_by_a_python_without_hector_nb_says_what_to_do(bare_python):
    launcher = builtin_plugin_path("echo")
    completed = subprocess.run([bare_python, str(launcher)], capture_output=True, text=True, timeout=60,
                               env={"PATH": HECTOR_PATH, MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE})
    assert completed.returncode == 1 and completed.stdout == ""
    # hector_nb is on no package index: the command installs it from the clone the launcher sits in.
    clone = Path(launcher).resolve().parents[3]
    assert (clone / "pyproject.toml").is_file()
    assert completed.stderr == (
        f"echo: {bare_python} lacks the Python package of module 'hector_nb'; install hector_nb there "
        f'({bare_python} -m pip install -e "{clone}"), or write a launcher that names a Python that has it: '
        "python -m hector_nb export builtin:echo --out DIR\n")


def test_a_builtin_launcher_copied_out_of_the_clone_names_the_engine_extra(bare_python, tmp_path):
    # As the README's `cp hector_nb/providers/plugins/openai* ./plugins/`: no clone around it any more.
    launcher = tmp_path / "plugins" / "qdrant"
    launcher.parent.mkdir()
    launcher.write_text(builtin_plugin_path("qdrant").read_text())
    completed = subprocess.run([bare_python, str(launcher)], capture_output=True, text=True, timeout=60,
                               env={"PATH": HECTOR_PATH, MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE})
    assert completed.returncode == 1 and completed.stdout == ""
    assert f'({bare_python} -m pip install -e "PATH/TO/hector_nb-clone[qdrant]")' in completed.stderr


@pytest.mark.timeout(900)
def test_export_creates_a_virtualenv_on_request(providers, tmp_path, session, monkeypatch):
    # The new virtualenv sees this Python's packages, so pip has nothing to fetch: nothing is downloaded.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), HECTOR_PATH]))
    result = export_provider(load_provider_class(f"{providers}:Levels"), tmp_path / "out", venv=True)
    monkeypatch.setenv("PATH", HECTOR_PATH)
    interpreter = tmp_path / "out" / "levels.venv" / "bin" / "python"
    assert result.executable.read_text().splitlines()[0] == f"#!{interpreter}"
    assert session.load(result.executable).generate("hi").text == "LOG LEVEL: info"
    with pytest.raises(ExportError, match="give either --python or --venv"):
        export_provider(load_provider_class(f"{providers}:Levels"), tmp_path / "out", venv=True, python="/x")
