"""A pytest plugin: every ``*.plugin.yaml`` pytest collects becomes one test per conformance check.

In a plugin's repository, ``conftest.py``::

    pytest_plugins = ["hector_nb.conformance.pytest_plugin"]

then ``pytest plugins/`` (or add ``plugins`` to ``testpaths``) runs the checks
of every plugin found there beside your own tests: a ``fail`` fails its test
with the fix, a ``skip`` skips it with the reason, a ``warn`` passes with a
warning in pytest's summary. Config values for ``Initialize`` go in the ini
file, one ``KEY=VALUE`` a line::

    [tool.pytest.ini_options]
    hector_check_set = ["model=small"]
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from ..config import parse_settings
from ..errors import ConfigError
from ..manifest import SUFFIX
from .base import Check, Verdict
from .report import CheckReport
from .runner import applicable, run
from .target import Target, target_of_path


class HectorCheckWarning(UserWarning):
    """A conformance check's ``warn``: Hector loads the plugin, but something deserves a look."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("hector_check_set", type="linelist", default=[],
                  help="KEY=VALUE config entries passed to Initialize by hector_nb's conformance checks")
    parser.addini("hector_check_timeout", default="5", help="deadline of each call a check makes, in seconds")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.endswith(SUFFIX):
        return PluginManifestFile.from_parent(parent, path=file_path)
    return None


class PluginManifestFile(pytest.File):
    """A plugin's manifest: its checks are its tests, run together once (they share plugin instances)."""

    def _target(self) -> Target:
        try:
            config = parse_settings(self.config.getini("hector_check_set"), "hector_check_set")
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
        return target_of_path(self.path, config)

    def collect(self) -> list[CheckItem]:
        self.target = self._target()
        return [CheckItem.from_parent(self, name=check.name, check=check) for check in applicable(self.target)]

    def report(self) -> CheckReport:
        if not hasattr(self, "_report"):
            self._report = run(self.target, timeout=float(self.config.getini("hector_check_timeout")))
        return self._report


class CheckFailed(Exception):
    """A conformance check failed; the message carries what happened and the fix."""


class CheckItem(pytest.Item):
    """One conformance check of one plugin."""

    def __init__(self, *, check: Check, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
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
