"""The result of a conformance check: a DataFrame, one row per check, with a one-line summary.

Shown styled in a notebook (verdicts coloured, the summary above the table),
as text in a terminal, and as JUnit XML for a plugin's CI.
"""

from __future__ import annotations

import html
import os
import textwrap
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas

from .base import Verdict

COLUMNS = ["check", "verdict", "description", "happened", "fix", "seconds"]
_COLOURS = {"pass": "#d9f2d9", "warn": "#fff1c2", "fail": "#f8d0d0", "skip": "#eeeeee"}


class CheckReport(pandas.DataFrame):  # type: ignore[misc, unused-ignore]  # pandas is untyped: strict only
    """One row per check: ``check``, ``verdict``, ``description``, ``happened``, ``fix``, ``seconds``.

    ``plugin`` names what was checked; :attr:`summary` is the one-line verdict,
    :attr:`ok` is true when nothing failed.
    """

    _metadata = ["plugin", "blocking"]

    @property
    def _constructor(self) -> type[CheckReport]:
        return CheckReport

    @classmethod
    def build(cls, plugin: str, rows: Sequence[Mapping[str, object]], blocking: list[str]) -> CheckReport:
        """The report of ``plugin``; ``blocking`` names the checks whose failure stops Hector loading it."""
        report = cls(rows, columns=COLUMNS)
        report.plugin = plugin
        report.blocking = list(blocking)
        return report

    def counts(self) -> dict[str, int]:
        found = Counter(self["verdict"])
        return {verdict.value: found[verdict.value] for verdict in Verdict if found[verdict.value]}

    @property
    def failures(self) -> list[str]:
        return list(self.loc[self["verdict"] == Verdict.FAIL.value, "check"])

    @property
    def ok(self) -> bool:
        """No check failed."""
        return not self.failures

    @property
    def summary(self) -> str:
        """E.g. ``"14 pass, 2 warn, 1 fail: Hector would not load this plugin"``."""
        counts = ", ".join(f"{count} {verdict}" for verdict, count in self.counts().items()) or "no checks"
        failures = self.failures
        if any(name in getattr(self, "blocking", []) for name in failures):
            verdict = "Hector would not load this plugin"
        elif failures:
            verdict = f"Hector would load this plugin, but it misbehaves ({', '.join(failures)})"
        elif Verdict.WARN.value in self.counts():
            verdict = "Hector would load this plugin; read the warnings"
        else:
            verdict = "ready for Hector"
        return f"{getattr(self, 'plugin', 'plugin')}: {counts}: {verdict}"

    def _is_report(self) -> bool:
        # A selection of columns (report[["check", "fix"]]) is a plain table, without a summary.
        return set(COLUMNS) <= set(self.columns)

    def __str__(self) -> str:
        if not self._is_report():
            return str(pandas.DataFrame(self).to_string())
        table = pandas.DataFrame(self).drop(columns=["description"]).to_string(index=False, max_colwidth=90)
        return f"{self.summary}\n{table}"

    __repr__ = __str__  # a terminal, and a notebook's text/plain, show the summary line too

    def to_text(self, width: int = 100) -> str:
        """For a terminal: the summary, one line per check, then in full, wrapped, what each warning and failure
        found and its fix, and why each skipped check did not apply."""
        lines = [self.summary, ""]
        lines += [f"  {row.verdict:<5} {row.check:<28} {row.seconds:6.2f}s" for row in self.itertuples(index=False)]
        for row in self.itertuples(index=False):
            if row.verdict == Verdict.PASS.value:
                continue
            explained = (("happened", row.happened), ("fix", row.fix)) if row.verdict != Verdict.SKIP.value \
                else (("why", row.happened),)
            lines += ["", f"{row.check}: {row.verdict}: {row.description}"]
            for label, text in explained:
                if text:
                    lines += textwrap.wrap(text, width, initial_indent=f"  {label}: ",
                                           subsequent_indent=" " * (len(label) + 4), break_on_hyphens=False,
                                           break_long_words=False)
        return "\n".join(lines)

    def _repr_html_(self) -> str | None:
        if not self._is_report():
            table: str | None = pandas.DataFrame(self)._repr_html_()
            return table
        styled = (pandas.DataFrame(self).style.hide(axis="index")
                  .map(lambda verdict: f"background-color: {_COLOURS.get(verdict, '')}", subset=["verdict"])
                  .format({"seconds": "{:.2f}"})
                  .set_properties(**{"text-align": "left", "white-space": "pre-wrap"}))
        return f"<p><b>{html.escape(self.summary)}</b></p>{styled.to_html()}"

    def to_junit(self, path: str | os.PathLike[str]) -> Path:
        """Write the report as JUnit XML (one testcase per check) to ``path``; return the file."""
        suite = ET.Element("testsuite", name=f"hector_nb check {self.plugin}", tests=str(len(self)),
                           failures=str(len(self.failures)),
                           skipped=str(int((self["verdict"] == Verdict.SKIP.value).sum())),
                           time=f"{self['seconds'].sum():.3f}")
        for row in self.itertuples(index=False):
            case = ET.SubElement(suite, "testcase", classname=f"hector_nb.conformance.{self.plugin}", name=row.check,
                                 time=f"{row.seconds:.3f}")
            if row.verdict == Verdict.FAIL.value:
                ET.SubElement(case, "failure", message=row.happened).text = f"{row.happened}\nfix: {row.fix}"
            elif row.verdict == Verdict.SKIP.value:
                ET.SubElement(case, "skipped", message=row.happened)
            elif row.verdict == Verdict.WARN.value:
                ET.SubElement(case, "system-out").text = f"warning: {row.happened}\nfix: {row.fix}"
        file = Path(path)
        ET.ElementTree(suite).write(file, encoding="utf-8", xml_declaration=True)
        return file
