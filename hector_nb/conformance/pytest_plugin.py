"""A pytest plugin: a plugin's conformance checks as tests, and fixtures that load plugins for a test.

pytest loads it by itself wherever hector_nb is installed (its ``pytest11`` entry point), and
then it does nothing until asked: no manifest becomes a test, and no part of the check is
imported. Ask for the checks with ``--hector-check`` (on the command line, or in ``addopts``)::

    [tool.pytest.ini_options]
    addopts = "--hector-check"

then ``pytest plugins/`` runs, for every ``*.plugin.yaml`` found there, one test per
conformance check beside your own tests: a ``fail`` fails its test with the fix, a ``skip``
skips it with the reason, a ``warn`` passes with a warning in pytest's summary.
``-k`` selects checks by name (``-k search_best_first``, ``-k "not robustness"``) and only the
selected checks run. A manifest named on the command line (``pytest plugins/my-llm.plugin.yaml``)
is checked without the option, and so is every manifest of a suite whose ``conftest.py``
still has the older ``pytest_plugins = ["hector_nb.conformance.pytest_plugin"]``. Config values
for ``Initialize`` go in the ini file, one ``KEY=VALUE`` a line (text, as Hector passes them)::

    [tool.pytest.ini_options]
    hector_check_set = ["model=small"]

Two fixtures load plugins for a test, shut down when it ends: :func:`hector_session`, a
fresh :class:`hector_nb.Session`, and :func:`hector_plugin`, its ``load``
(``hector_plugin("plugins/my-llm", config={"model": "small"})``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..manifest import SUFFIX

if TYPE_CHECKING:
    from ..host.clients import PluginClient
    from ..sessions import Session
    from .base import Check
    from .report import CheckReport
    from .target import Target

#: Registered under its module's name by the entry point too, so an older ``pytest_plugins`` line naming the
#: module finds it loaded instead of registering it twice.
PLUGIN_NAME = __name__


class HectorCheckWarning(UserWarning):
    """A conformance check's ``warn``: Hector loads the plugin, but something deserves a look."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("hector_nb").addoption(
        "--hector-check", action="store_true", default=False,
        help="collect every *.plugin.yaml as one test per hector_nb conformance check")
    parser.addini("hector_check_set", type="linelist", default=[],
                  help="KEY=VALUE config entries passed to Initialize by hector_nb's conformance checks")
    parser.addini("hector_check_timeout", default="5", help="deadline of each call a check makes, in seconds")


def _asked(config: pytest.Config) -> bool:
    """``--hector-check``, or a conftest that names this plugin in ``pytest_plugins`` (the way before the entry
    point: such a suite asked for the checks)."""
    if config.getoption("hector_check"):
        return True
    return any(PLUGIN_NAME in _as_list(getattr(plugin, "pytest_plugins", ()))
               for plugin in config.pluginmanager.get_plugins()
               if Path(getattr(plugin, "__file__", "") or "").name == "conftest.py")


def _as_list(names: str | list[str] | tuple[str, ...]) -> list[str]:
    return [names] if isinstance(names, str) else list(names)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if not file_path.name.endswith(SUFFIX):
        return None
    if not (_asked(parent.config) or parent.session.isinitpath(file_path)):
        return None
    manifest: PluginManifestFile = PluginManifestFile.from_parent(parent, path=file_path)
    return manifest


@pytest.fixture
def hector_session() -> Iterator[Session]:
    """A fresh :class:`hector_nb.Session` for one test; every plugin loaded into it is shut down after the test."""
    from ..sessions import Session

    session = Session()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def hector_plugin(hector_session: Session) -> Callable[..., PluginClient]:
    """Load a plugin for one test: ``hector_plugin(target, name=None, config=None, transport=..., fidelity=...)``
    is :meth:`hector_nb.Session.load` (``builtin:NAME``, a plugin executable or its ``.plugin.yaml``...); the
    plugin is shut down after the test."""
    return hector_session.load


class PluginManifestFile(pytest.File):
    """A plugin's manifest: its checks are its tests, run together once (they share plugin instances)."""

    def _target(self) -> Target:
        from ..config import parse_settings
        from ..errors import ConfigError
        from .target import target_of_path

        try:
            config = parse_settings(self.config.getini("hector_check_set"), "hector_check_set")
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
        return target_of_path(self.path, config)

    def collect(self) -> list[CheckItem]:
        from .runner import applicable

        self.target = self._target()
        return [CheckItem.from_parent(self, name=check.name, check=check) for check in applicable(self.target)]

    def report(self) -> CheckReport:
        """The checks of the items pytest runs (after ``-k`` and the other deselections), run once."""
        if not hasattr(self, "_report"):
            from .runner import run

            selected = [item.name for item in self.session.items if item.parent is self]
            self._report = run(self.target, selected, timeout=float(self.config.getini("hector_check_timeout")))
        return self._report


class CheckFailed(Exception):
    """A conformance check failed; the message carries what happened and the fix."""


class CheckItem(pytest.Item):
    """One conformance check of one plugin."""

    def __init__(self, *, check: Check, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
        from .base import Verdict

        assert isinstance(self.parent, PluginManifestFile)
        row = self.parent.report().set_index("check").loc[self.name]
        if row.verdict == Verdict.FAIL.value:
            raise CheckFailed(f"{row.happened}\nfix: {row.fix}")
        if row.verdict == Verdict.SKIP.value:
            pytest.skip(row.happened)
        if row.verdict == Verdict.WARN.value:
            warnings.warn(HectorCheckWarning(f"{self.parent.target.name} {self.name}: {row.happened}; "
                                             f"fix: {row.fix}"), stacklevel=1)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CheckFailed):
            return f"{self.check.description}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"hector check {self.name}"
