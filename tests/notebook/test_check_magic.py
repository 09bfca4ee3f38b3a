"""``%hector check`` in a real IPython shell (the checks themselves: tests/check)."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from hector_nb.conformance.report import CheckReport


@pytest.mark.timeout(300)
def test_check_a_loaded_plugin(ip, capsys):
    ip.run_line_magic("hector", "load builtin:hashing")
    report = ip.run_line_magic("hector", "check hashing --out report")
    assert isinstance(report, CheckReport) and report.ok and ip.user_ns["report"] is report
    assert report.summary.startswith("hashing: ") and len(report) > 15
    only = ip.run_line_magic("hector", "check hashing --only embed_unicode --only embedder_info")
    assert list(only.check) == ["embedder_info", "embed_unicode"]
    with pytest.raises(UsageError, match="no plugin named 'nope' is loaded"):
        ip.run_line_magic("hector", "check nope")
    with pytest.raises(UsageError, match="no check named nope for this embedder_provider"):
        ip.run_line_magic("hector", "check hashing --only nope")
    ip.run_line_magic("hector", "check --help")
    assert "Check a loaded plugin against what Hector needs" in capsys.readouterr().out
