"""The pytest plugin as a plugin's own suite meets it: real ``python -m pytest`` runs in a project directory.

pytest finds the plugin through the ``pytest11`` entry point pyproject.toml declares. The editable
install of hector_nb on this machine may predate that entry point, so each run here puts a
distribution on its path that declares exactly pyproject's entry points (what ``pip install``
writes): pytest loads the plugin from it as it would from an installed hector_nb.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from hector_nb.conformance import pytest_plugin

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = Path(__file__).parent / "plugins"

OWN_TESTS = '''
import pytest
from hector_nb import PluginError

LOADED = []

def test_a_plugin_loaded_by_the_fixture(hector_plugin):
    llm = hector_plugin("builtin:echo", config={"prefix": "Hi "})
    LOADED.append(llm)
    assert llm.generate("Ada").text == "Hi Ada"

def test_the_fixture_shut_it_down_after_its_test():
    with pytest.raises(PluginError):
        LOADED[0].generate("Ada")
'''


def entry_points() -> dict[str, str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]


def test_pyproject_registers_the_plugin_under_its_module_name():
    assert entry_points() == {pytest_plugin.PLUGIN_NAME: "hector_nb.conformance.pytest_plugin"}


@pytest.fixture
def project(tmp_path, install):
    """A plugin's repository: its own tests, a good database plugin under plugins/, and hector_nb "installed"."""
    root = tmp_path / "project"
    (root / "plugins").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "tests" / "test_own.py").write_text(OWN_TESTS)
    executable = install(PLUGINS / "broken_db.py", "database_provider", "unsorted", name="broken-db")
    for file in (executable, executable.with_name(executable.name + ".plugin.yaml")):
        file.rename(root / "plugins" / file.name)
    (root / "pytest.ini").write_text("[pytest]\n")  # the project's root: no settings of hector_nb's own suite
    site = tmp_path / "site" / "hector_nb_entry_points-0.dist-info"
    site.mkdir(parents=True)
    (site / "METADATA").write_text("Metadata-Version: 2.1\nName: hector_nb_entry_points\nVersion: 0\n")
    (site / "entry_points.txt").write_text("[pytest11]\n" + "".join(f"{name} = {value}\n"
                                                                   for name, value in entry_points().items()))
    return root


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    starts = project / "starts.txt"
    starts.write_text("")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(project.parent / "site"), str(ROOT)]),
           "BROKEN_DB_STARTS": str(starts)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfs", *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=280)


def plugin_starts(project: Path) -> int:
    return len((project / "starts.txt").read_text().split())


def test_loaded_from_the_entry_point_it_adds_fixtures_and_collects_nothing_unasked(project):
    result = run_pytest(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout and "plugin.yaml" not in result.stdout, result.stdout
    assert plugin_starts(project) == 0


def test_asked_each_check_is_a_test_and_k_runs_only_the_selected_checks(project):
    result = run_pytest(project, "--hector-check", "plugins", "-k", "search_best_first")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "FAILED plugins/broken_db-unsorted.plugin.yaml::search_best_first" in out
    assert "fix: sort hits by score, best first" in out and "1 failed" in out and "deselected" in out, out
    selected_starts = plugin_starts(project)
    # Deselected, the failing check neither runs nor fails; the others did run, in more plugin processes.
    result = run_pytest(project, "--hector-check", "plugins", "-k", "not search_best_first")
    assert result.returncode == 0 and "1 deselected" in result.stdout, result.stdout + result.stderr
    assert 0 < selected_starts < plugin_starts(project)


def test_a_manifest_named_on_the_command_line_is_checked_without_the_option(project):
    result = run_pytest(project, "plugins/broken_db-unsorted.plugin.yaml", "-k", "search_best_first")
    assert result.returncode == 1 and "1 failed" in result.stdout, result.stdout + result.stderr


def test_an_older_conftest_line_still_asks_for_the_checks(project):
    # The entry point registered the module under its own name: the line finds it loaded, no double registration.
    (project / "conftest.py").write_text(f'pytest_plugins = ["{pytest_plugin.PLUGIN_NAME}"]\n')
    result = run_pytest(project, "plugins", "-k", "search_best_first")
    assert result.returncode == 1 and "1 failed" in result.stdout, result.stdout + result.stderr
