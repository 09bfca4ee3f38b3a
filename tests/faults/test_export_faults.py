"""Export: names and interpreters are validated, nothing is written outside --out, requirements merge, and a
failed re-export leaves the previous plugin working."""

from __future__ import annotations

import os
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


def provider_class(directory: Path, name_attribute: str = ""):
    """An importable LLM provider class, written as a module file under ``directory``."""
    module = directory / f"provider_{uuid.uuid4().hex}.py"
    module.write_text(textwrap.dedent(f'''
        from hector_nb.sdk import GenerateResponse, LLMProvider

        class Shout(LLMProvider):
            {f"name = {name_attribute!r}" if name_attribute else ""}

            def generate(self, messages, tools):
                return GenerateResponse(text=messages[-1].content.upper())
    '''))
    return load_provider_class(f"{module}:Shout")


@pytest.fixture
def out(tmp_path):
    directory = tmp_path / "sandbox" / "out"
    directory.mkdir(parents=True)
    return directory


# Item 1: names that leave --out are refused; an existing ../victim.lib is not deleted.
@pytest.mark.parametrize("name", ["../victim", "/tmp/absolute-victim", "a/b", "..", ".", "-rf", "x\ny",
                                  'x"""', "name with space", "é" * 3, "a" * 200])
def test_export_refuses_names_that_are_not_one_plain_file_name(tmp_path, out, name):
    victim = out.parent / "victim.lib"
    victim.mkdir()
    (victim / "precious").write_text("keep me")
    with pytest.raises(ExportError, match="plugin name"):
        export_provider(provider_class(tmp_path), out, name=name)
    assert (victim / "precious").read_text() == "keep me"
    assert list(out.iterdir()) == []
    assert not Path("/tmp/absolute-victim").exists()


def test_export_refuses_a_class_declared_name_that_leaves_out(tmp_path, out):
    with pytest.raises(ExportError, match=r"plugin name '\.\./x'"):
        export_provider(provider_class(tmp_path, name_attribute="../x"), out)
    assert not (out.parent / "x").exists() and list(out.iterdir()) == []


def test_export_never_writes_through_a_symlink_out_of_the_directory(tmp_path, out):
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    (out / "shout").symlink_to(outside)
    outside_dir = tmp_path / "outside-lib"
    outside_dir.mkdir()
    (outside_dir / "keep").write_text("keep")
    (out / "shout.lib").symlink_to(outside_dir)
    with pytest.raises(ExportError, match="outside"):
        export_provider(provider_class(tmp_path), out, name="shout")
    assert outside.read_text() == "untouched" and (outside_dir / "keep").read_text() == "keep"


# Item 2: nothing user-supplied is pasted into generated code.
@pytest.mark.parametrize("python", ["/usr/bin/python3\nimport os; os.system('touch pwned')", "/bin/py\rthon",
                                    "python\0", ""])
def test_export_refuses_an_interpreter_line_that_is_not_one_line(tmp_path, out, python):
    with pytest.raises(ExportError, match="--python"):
        export_provider(provider_class(tmp_path), out, name="shout", python=python)
    assert list(out.iterdir()) == []


def test_the_launcher_carries_no_user_text_and_runs(tmp_path):
    # A name full of the characters a valid name may hold, in a directory whose path holds quotes.
    out = tmp_path / "it's \"\"\" here"
    result = export_provider(provider_class(tmp_path), out, name="Shout.v2-x_1", python=sys.executable)
    launcher = result.executable.read_text()
    assert "Shout.v2-x_1" not in launcher and str(out) not in launcher
    with Session(timeout=30, start_timeout=30) as session:
        assert session.load(result.executable).generate("hi").text == "HI"


# Item 3: requirements.txt is merged, parsed with packaging.
def test_a_second_export_into_the_same_directory_keeps_the_first_ones_requirements(tmp_path, out):
    export_provider(provider_class(tmp_path), out, name="first", requirements=["requests>=2"])
    export_provider(provider_class(tmp_path), out, name="second", requirements=["numpy>=1.26"])
    lines = (out / "requirements.txt").read_text().split()
    assert "requests>=2" in lines and "numpy>=1.26" in lines
    assert len([line for line in lines if line.startswith("grpcio>")]) == 1


def test_a_requirement_and_the_import_it_covers_make_one_line(tmp_path, out):
    module = tmp_path / f"uses_yaml_{uuid.uuid4().hex}.py"
    module.write_text("import yaml\nfrom hector_nb.sdk import LLMProvider\n\n\nclass Dump(LLMProvider):\n"
                      "    def generate(self, messages, tools):\n        return yaml.safe_dump(messages)\n")
    # The import alone names the distribution PyYAML; the user's pyyaml>=6 is the same project.
    export_provider(load_provider_class(f"{module}:Dump"), out, name="dump", requirements=["pyyaml>=6"])
    lines = (out / "requirements.txt").read_text().split()
    assert [line for line in lines if line.lower().startswith("pyyaml")] == ["pyyaml>=6"]


def test_the_issues_case_requests_pinned_and_imported_makes_one_line(tmp_path, out):
    module = tmp_path / f"uses_requests_{uuid.uuid4().hex}.py"
    # Imported where it is used, so the test needs no requests package: the export reads the source only.
    module.write_text("from hector_nb.sdk import LLMProvider\n\n\nclass Fetch(LLMProvider):\n"
                      "    def generate(self, messages, tools):\n        import requests\n"
                      "        return requests.__name__\n")
    export_provider(load_provider_class(f"{module}:Fetch"), out, name="fetch", requirements=["requests>=2"])
    lines = (out / "requirements.txt").read_text().split()
    assert [line for line in lines if line.startswith("requests")] == ["requests>=2"]


def test_conflicting_and_unreadable_requirements_are_refused_and_nothing_is_written(tmp_path, out):
    export_provider(provider_class(tmp_path), out, name="first", requirements=["requests<2"])
    before = (out / "requirements.txt").read_text()
    with pytest.raises(ExportError, match=r"requests<2.*requests>=2|requests>=2.*requests<2"):
        export_provider(provider_class(tmp_path), out, name="second", requirements=["requests>=2"])
    assert (out / "requirements.txt").read_text() == before and not (out / "second").exists()
    with pytest.raises(ExportError, match="not a requirement"):
        export_provider(provider_class(tmp_path), out, name="third", requirements=["requests >>>= 2"])
    (out / "requirements.txt").write_text("-e git+https://example.invalid/x.git\n")
    with pytest.raises(ExportError, match=r"requirements.txt line 1"):
        export_provider(provider_class(tmp_path), out, name="fourth")
    assert not (out / "third").exists() and not (out / "fourth").exists()
    assert os.listdir(out).count("requirements.txt") == 1


# Issue 21 item 5: a re-export that fails part way leaves the previous plugin working.
RELEASE = '''
from hector_nb.sdk import GenerateResponse, LLMProvider

NOTES = {notes!r}


class Release(LLMProvider):
    name = "release"

    def generate(self, messages, tools):
        return GenerateResponse(text={answer!r} + NOTES[:0])
'''
#: The largest file of the plugin's runtime is about 21 kB; the new source is bigger than the limit.
FILE_SIZE_LIMIT = 100_000


def _file_size_limited():
    """In the child, before exec: files cannot grow past the limit, as on a full disk (EFBIG, not a signal)."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def test_a_re_export_that_fails_mid_write_leaves_the_previous_plugin_working(tmp_path, out):
    first, second = (tmp_path / f"release_{uuid.uuid4().hex}.py" for _ in range(2))
    first.write_text(RELEASE.format(notes="", answer="first"))
    export_provider(load_provider_class(f"{first}:Release"), out)
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    second.write_text(RELEASE.format(notes="n" * (3 * FILE_SIZE_LIMIT), answer="second"))
    # A real write failure in a real export: the runtime's files fit, the new provider's source does not.
    failed = subprocess.run([sys.executable, "-m", "hector_nb", "export", f"{second}:Release", "--out", str(out)],
                            capture_output=True, text=True, timeout=120, preexec_fn=_file_size_limited,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert failed.returncode == 1
    assert "could not write the plugin into" in failed.stderr and "File too large" in failed.stderr
    assert "the previous export, if any, is unchanged" in failed.stderr and "Traceback" not in failed.stderr
    after = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    assert after == before  # no half-written file, and nothing staged left behind
    with Session(timeout=30, start_timeout=60) as session:
        assert session.load(out / "release").generate("hi").text == "first"


def test_a_path_in_the_way_is_refused_before_anything_is_written(tmp_path, out):
    export_provider(provider_class(tmp_path), out, name="shout")
    before = sorted(out.rglob("*"))
    (out / "shout.venv").write_text("a file where the virtualenv belongs")
    with pytest.raises(ExportError, match=r"shout.venv is in the way: export writes a directory there"):
        export_provider(provider_class(tmp_path), out, name="shout", venv=True)
    assert sorted(out.rglob("*")) == sorted([*before, out / "shout.venv"])
    with Session(timeout=30, start_timeout=60) as session:
        assert session.load(out / "shout").generate("hi").text == "HI"


@pytest.mark.timeout(600)
def test_a_re_export_whose_virtualenv_fails_leaves_the_previous_plugin_and_requirements(tmp_path, out, monkeypatch):
    export_provider(provider_class(tmp_path), out, name="shout")
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # nothing is downloaded: the unknown requirement cannot be found
    with pytest.raises(ExportError, match="pip could not install the requirements into the plugin's virtualenv.*"
                                          "the previous export, if any, is unchanged"):
        export_provider(provider_class(tmp_path), out, name="shout", venv=True,
                        requirements=[f"no-such-package-{uuid.uuid4().hex[:8]}"])
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before
    with Session(timeout=30, start_timeout=60) as session:
        assert session.load(out / "shout").generate("hi").text == "HI"


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_an_out_that_cannot_be_a_directory_is_one_clear_error(tmp_path, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    target = blocker if where == "a file" else blocker / "out"
    with pytest.raises(ExportError, match=rf"cannot write into {target} \(.*\); choose a directory you can write"):
        export_provider(provider_class(tmp_path), target, name="shout")
    assert blocker.read_text() == "a file"
