"""A module the provider imports from a local file is carried into the plugin; one that is neither installed
nor local is refused, and never becomes a package name in requirements.txt (pip would install whatever the
index holds under that name)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from hector_nb import Session
from hector_nb.errors import ExportError
from hector_nb.export import export_provider
from hector_nb.targets import load_provider_class

#: Both local modules get names no index may know; uuid-suffixed so that no test sees another's module.
HELPERS = '''
import numpy
from {words} import WORDS

from hector_nb.sdk import GenerateResponse, LLMProvider


class Polite(LLMProvider):
    """A base class in a sibling file, itself importing a sibling and an installed package."""

    def generate(self, messages, tools):
        return GenerateResponse(text=self.greet(messages[-1].content), tokens_used=int(numpy.int64(2)))

    def greet(self, text):
        return f"{{WORDS[0]}} {{text}}"
'''

PROVIDER = '''
from {helpers} import Polite


class Greeter(Polite):
    name = "greeter"

    def greet(self, text):
        return super().greet(text).upper()
'''


@pytest.fixture
def siblings(tmp_path) -> tuple[Path, str, str]:
    """A provider module with a sibling it subclasses from, which imports another sibling package."""
    source = tmp_path / "src"
    (source / (words := f"words_{uuid.uuid4().hex[:8]}")).mkdir(parents=True)
    (source / words / "__init__.py").write_text("from .table import WORDS\n")
    (source / words / "table.py").write_text("WORDS = ('hello',)\n")
    (source / words / "notes.txt").write_text("a package's data file travels with it\n")
    helpers = f"helpers_{uuid.uuid4().hex[:8]}"
    (source / f"{helpers}.py").write_text(textwrap.dedent(HELPERS.format(words=words)))
    (source / "providers.py").write_text(textwrap.dedent(PROVIDER.format(helpers=helpers)))
    return source, helpers, words


def test_a_sibling_module_is_carried_and_the_plugin_runs_without_it(siblings, tmp_path):
    source, helpers, words = siblings
    out = tmp_path / "out"
    # As a user runs it, from another directory: the provider file's own directory is where its siblings are.
    exported = subprocess.run([sys.executable, "-m", "hector_nb", "export", str(source / "providers.py:Greeter"),
                               "--out", str(out)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    library = out / "greeter.lib"
    carried = sorted(str(path.relative_to(library)) for path in library.rglob("*")
                     if path.is_file() and "_hector_runtime" not in path.parts)
    assert carried == sorted([f"{words}/__init__.py", f"{words}/notes.txt", f"{words}/table.py", f"{helpers}.py",
                              "provider_greeter.py", "distributions.json", "manifest.json"])
    carried_helpers = (library / f"{helpers}.py").read_text()
    assert "from _hector_runtime.sdk import LLMProvider" in carried_helpers and "hector_nb" not in carried_helpers
    requirements = (out / "requirements.txt").read_text().split()
    assert "numpy" in requirements and not [line for line in requirements if helpers in line or words in line]
    shutil.rmtree(source)  # the plugin needs nothing of the exporting machine's files
    with Session(timeout=60, start_timeout=60) as session:
        reply = session.load(out / "greeter").generate("ada")
    assert (reply.text, reply.tokens_used) == ("HELLO ADA", 2)


def test_a_notebook_cell_importing_a_local_module_carries_it(notebook, tmp_path, monkeypatch):
    local = tmp_path / "mine"
    local.mkdir()
    module = f"suffixes_{uuid.uuid4().hex[:8]}"
    (local / f"{module}.py").write_text("SUFFIX = ' (carried)'\n\n\ndef decorate(text):\n    return text + SUFFIX\n")
    monkeypatch.syspath_prepend(str(local))  # as the notebook's own directory is on its path
    notebook(f"from {module} import decorate\nfrom hector_nb import sdk")
    notebook(textwrap.dedent('''
        class Decorated(sdk.LLMProvider):
            def generate(self, messages, tools):
                return sdk.GenerateResponse(text=decorate(messages[-1].content))
    '''))
    result = notebook(f"%hector export Decorated --out {tmp_path / 'out'}")
    assert (result.source.parent / f"{module}.py").is_file()
    assert module not in result.requirements.read_text()
    shutil.rmtree(local)
    with Session(timeout=60, start_timeout=60) as session:
        assert session.load(result.executable).generate("hi").text == "hi (carried)"


def test_an_unknown_module_is_refused_by_name_and_never_written_as_a_requirement(tmp_path):
    module = tmp_path / f"fetcher_{uuid.uuid4().hex[:8]}.py"
    unknown = f"not_installed_{uuid.uuid4().hex[:8]}"
    # Imported where it is used, so the class loads; export reads the source and judges the import.
    module.write_text("from hector_nb.sdk import LLMProvider\n\n\nclass Fetch(LLMProvider):\n"
                      f"    def generate(self, messages, tools):\n        import {unknown}\n"
                      f"        return {unknown}.answer()\n")
    out = tmp_path / "out"
    for venv in (False, True):  # --venv is refused before any virtualenv is made: pip never sees the name
        with pytest.raises(ExportError, match=rf"imports the module '{unknown}', neither installed in this Python "
                                              "nor a local file.*never guesses a package"):
            export_provider(load_provider_class(f"{module}:Fetch"), out, venv=venv)
        assert not out.exists() or list(out.iterdir()) == []
    # The user naming the package is what makes it a requirement, never the import alone.
    result = export_provider(load_provider_class(f"{module}:Fetch"), out, requirements=[unknown])
    assert unknown in result.requirements.read_text().split()


def test_an_installed_module_is_its_distribution_not_its_name(tmp_path):
    module = tmp_path / f"dumper_{uuid.uuid4().hex[:8]}.py"
    module.write_text("import yaml\nfrom hector_nb.sdk import LLMProvider\n\n\nclass Dump(LLMProvider):\n"
                      "    def generate(self, messages, tools):\n        return yaml.safe_dump(messages)\n")
    result = export_provider(load_provider_class(f"{module}:Dump"), tmp_path / "out")
    lines = result.requirements.read_text().split()
    assert "PyYAML" in lines and "yaml" not in lines


def test_a_local_package_holding_a_file_that_is_not_python_is_refused_naming_it(siblings, tmp_path):
    source, _, words = siblings
    (source / words / "draft.py").write_bytes(b"WORDS = ('\xff',)\n")  # never imported, but carried with its package
    provider = source / f"greeters_{uuid.uuid4().hex[:8]}.py"  # imported here: a name no other test imports
    shutil.copyfile(source / "providers.py", provider)
    with pytest.raises(ExportError, match=rf"{words}/draft.py is not Python source that export can carry"):
        export_provider(load_provider_class(f"{provider}:Greeter"), tmp_path / "out")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(("origin", "required_from"), [
    ({"url": "file:///src/in-house", "dir_info": {}}, "file:///src/in-house"),
    ({"url": "https://git.example/in-house.git", "vcs_info": {"vcs": "git", "commit_id": "0a1b2c"}},
     "git+https://git.example/in-house.git@0a1b2c"),
])
def test_a_distribution_installed_from_a_url_is_required_from_there(tmp_path, monkeypatch, origin, required_from):
    # What pip leaves in site-packages when it installs from a directory or a repository, not from an index.
    module = f"inhouse_{uuid.uuid4().hex[:8]}"
    site = tmp_path / "site-packages"
    (site / module).mkdir(parents=True)
    (site / module / "__init__.py").write_text("ANSWER = 42\n")
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "top_level.txt").write_text(f"{module}\n")
    (info / "direct_url.json").write_text(json.dumps(origin))
    monkeypatch.syspath_prepend(str(site))
    provider = tmp_path / f"uses_{module}.py"
    provider.write_text(f"import {module}\nfrom hector_nb.sdk import LLMProvider\n\n\nclass Answer(LLMProvider):\n"
                        f"    def generate(self, messages, tools):\n        return str({module}.ANSWER)\n")
    result = export_provider(load_provider_class(f"{provider}:Answer"), tmp_path / "out")
    assert f"{module} @ {required_from}" in result.requirements.read_text().splitlines()
