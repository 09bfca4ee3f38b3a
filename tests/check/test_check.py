"""The conformance check of well-behaved plugins, and every way to run it: Python, session, magic, CLI, pytest."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

import hector_nb
import hector_nb.conformance as conformance
from hector_nb import Session
from hector_nb.conformance.report import CheckReport
from hector_nb.providers import BUILTINS

pytestmark = pytest.mark.timeout(300)
PLUGINS = Path(__file__).parent / "plugins"
SDK_PLUGINS = Path(__file__).parent.parent / "sdk" / "plugins"
#: The built-in providers that need nothing installed (the real engines have their own tests).
TOYS = ["echo", "memory", "hashing"]


@pytest.mark.parametrize("builtin", TOYS)
def test_builtin_plugins_pass_as_hector_runs_them(builtin, with_verdict):
    report = hector_nb.check(f"builtin:{builtin}")
    assert isinstance(report, pd.DataFrame) and isinstance(report, CheckReport)
    assert report.ok, str(report)
    assert {"handshake", "stdout_before_handshake", "health_serving", "controller_shutdown", "cookie", "manifest",
            "initialize_config", "concurrent_calls", "large_request", "short_deadline"} <= with_verdict(report, "pass")
    assert list(report.columns) == ["check", "verdict", "description", "happened", "fix", "seconds"]
    print(f"{report.summary} in {report.seconds.sum():.1f}s")


@pytest.mark.parametrize("transport", ["in-kernel", "in-process"])
@pytest.mark.parametrize("builtin", TOYS)
def test_builtin_providers_pass_in_this_process(builtin, transport, with_verdict):
    report = hector_nb.check(BUILTINS[builtin](), transport=transport)
    assert report.ok, str(report)
    process_checks = {"handshake", "stdout_before_handshake", "health_serving", "stdout_after_handshake",
                      "startup_time", "controller_shutdown", "cookie"}
    assert process_checks <= with_verdict(report, "skip")
    assert "runs as a process only" in report.set_index("check").loc["handshake", "happened"]


@pytest.mark.parametrize("script, plugin_type, args, fails", [
    ("echo_llm.py", "llm_provider", (), set()),
    ("async_llm.py", "llm_provider", (), set()),
    ("counting_embedder.py", "embedder_provider", (), set()),
    # Written before CONTRACT section 5: it needs CreateCollection and reads its text from "text" metadata.
    ("memory_db.py", "database_provider", (), {"upsert_without_create", "search_content"}),
])
def test_sdk_test_plugins(install, with_verdict, script, plugin_type, args, fails):
    report = conformance.check(install(SDK_PLUGINS / script, plugin_type, *args))
    assert with_verdict(report, "fail") == fails, str(report)


def test_a_loaded_client_is_checked_on_fresh_instances_with_its_config(install, with_verdict):
    executable = install(PLUGINS / "broken_llm.py", "llm_provider", "requires_key", name="broken-llm")
    with Session(timeout=20) as session:
        client = session.load(executable, config={"api_key": "sk-test"})
        report = session.check("broken-llm")
        assert report.ok, str(report)
        assert with_verdict(report, "warn") >= {"initialize_empty_config"}
        # The user's instance is untouched: same process, still ready, never shut down by the check.
        assert client.status == "ready" and client.pid is not None
        assert client.model_info().model_name == "broken-llm"
        assert list(session.check("broken-llm", only=["model_info"]).check) == ["model_info"]


def test_unknown_check_names_are_refused_with_the_list():
    with pytest.raises(hector_nb.errors.PluginError, match="no check named nope for this llm_provider; the checks are"):
        hector_nb.check("builtin:echo", only=["nope"])


def test_report_summary_html_and_junit(install, tmp_path):
    report = conformance.check(install(PLUGINS / "broken_llm.py", "llm_provider", "no_model_info", name="broken-llm"))
    assert report.summary.startswith("broken-llm: ") and "1 fail" in report.summary
    assert report.summary.endswith("Hector would load this plugin, but it misbehaves (model_info)")
    assert str(report).splitlines()[0] == report.summary == repr(report).splitlines()[0]
    assert report.summary not in repr(report[["check", "fix"]])  # a selection of columns is a plain table
    assert report[["check"]]._repr_html_().startswith("<div>")
    html = report._repr_html_()
    assert report.summary in html and "#f8d0d0" in html and "<table" in html
    suite = ET.parse(report.to_junit(tmp_path / "junit.xml")).getroot()
    assert suite.get("failures") == "1" and int(suite.get("tests")) == len(report)
    failure = suite.find("testcase[@name='model_info']/failure")
    assert failure is not None and "fix: implement get_model_info()" in failure.text


def test_command_line_exit_codes_and_junit(install, tmp_path):
    good = install(PLUGINS / "broken_embedder.py", "embedder_provider", "good", name="broken-embedder")
    bad = install(PLUGINS / "broken_embedder.py", "embedder_provider", "info_zero", name="broken-embedder")
    passed = subprocess.run([sys.executable, "-m", "hector_nb", "check", str(good)], capture_output=True, text=True,
                            timeout=240)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.startswith("broken-embedder: ") and "ready for Hector" in passed.stdout.splitlines()[0]
    junit = tmp_path / "report.xml"
    failed = subprocess.run([sys.executable, "-m", "hector_nb", "check", str(bad), "--junit", str(junit),
                             "--only", "embedder_info", "--only", "embed_dimension"],
                            capture_output=True, text=True, timeout=240)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "  fail  embedder_info " in failed.stdout and "\nembedder_info: fail: " in failed.stdout
    assert ET.parse(junit).getroot().get("failures") == "1"
    missing = subprocess.run([sys.executable, "-m", "hector_nb", "check", str(tmp_path / "nowhere"), "--junit",
                              str(junit)], capture_output=True, text=True, timeout=240)
    assert missing.returncode == 1 and "handshake" in missing.stdout and "cannot run" in missing.stdout
    # Every reason is printed in full (wrapped), never cut at a column: the JUnit file holds them whole.
    reasons = [case.get("message") for case in ET.parse(junit).getroot().iter() if case.get("message")]
    assert max(len(reason) for reason in reasons) > 90, reasons  # longer than the old table's column
    printed = " ".join(missing.stdout.split())
    assert all(" ".join(reason.split()) in printed for reason in reasons), missing.stdout


def test_pytest_plugin_runs_the_checks_of_each_manifest(install, tmp_path):
    project = tmp_path / "project"
    (project / "plugins").mkdir(parents=True)
    good = install(PLUGINS / "broken_db.py", "database_provider", "good", name="broken-db")
    bad = install(PLUGINS / "broken_db.py", "database_provider", "unsorted", name="broken-db")
    for executable in (good, bad):
        for file in (executable, executable.with_name(executable.name + ".plugin.yaml")):
            file.rename(project / "plugins" / file.name)
    (project / "conftest.py").write_text('pytest_plugins = ["hector_nb.conformance.pytest_plugin"]\n')
    (project / "pytest.ini").write_text("[pytest]\nhector_check_set =\n    unused=1\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "plugins", "-q", "-p", "no:cacheprovider", "-rf"],
                            cwd=project, capture_output=True, text=True, timeout=280)
    out = result.stdout
    assert result.returncode == 1, out
    assert "FAILED plugins/broken_db-unsorted.plugin.yaml::search_best_first" in out
    assert out.count("FAILED") == 1, out
    assert "fix: sort hits by score, best first" in out
    good_checks = len(conformance.applicable(conformance.Target("x", "database_provider", None)))
    # search_threshold skips on the unsorted one: its best-first search left out the exact match it looks at.
    assert f"1 failed, {2 * good_checks - 2} passed, 1 skipped" in out
