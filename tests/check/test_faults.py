"""Each deliberately broken plugin fails exactly the check that names its fault, with a fix.

The plugins run as Hector runs them: executables beside their manifests, started
with go-plugin's handshake. ``tests/check/plugins`` holds the Python ones (one
script per plugin type, the fault chosen by argument); the Go ones come from the
interop build.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import hector_nb.conformance as conformance
from hector_nb.manifest import PluginManifest, write_manifest

pytestmark = pytest.mark.timeout(300)
PLUGINS = Path(__file__).parent / "plugins"

FUNCTION_CALLING = {"capabilities": {"function_calling": True}}
# script -> (its plugin type, the name its provider gives itself, which its manifest repeats)
SCRIPTS = {"broken_llm.py": ("llm_provider", "broken-llm"), "broken_db.py": ("database_provider", "broken-db"),
           "broken_embedder.py": ("embedder_provider", "broken-embedder"),
           "broken_process.py": ("embedder_provider", "letters")}

# (script, fault, manifest extras, checks that must fail, checks that must warn)
CASES = [
    ("broken_llm.py", "good", FUNCTION_CALLING, set(), set()),
    ("broken_llm.py", "openai_roles", {}, {"agent_request"}, set()),
    ("broken_llm.py", "text_after_done", {}, {"stream_done"}, set()),
    ("broken_llm.py", "error_then_done", {}, {"stream_error"}, set()),
    ("broken_llm.py", "ignores_cancel", {}, {"stream_cancel"}, set()),
    ("broken_llm.py", "bad_tool_call", FUNCTION_CALLING, {"tool_calls", "agent_loop"}, set()),
    ("broken_llm.py", "missing_required_argument", FUNCTION_CALLING, {"tool_calls", "agent_loop"}, set()),
    ("broken_llm.py", "calls_tools_forever", FUNCTION_CALLING, {"agent_loop"}, set()),
    ("broken_llm.py", "no_model_info", {}, {"model_info"}, set()),
    ("broken_llm.py", "dies_after_deadline", {}, {"short_deadline"}, set()),
    ("broken_llm.py", "crashes_on_large", {}, {"large_request"}, set()),
    ("broken_llm.py", "requires_key", {}, {"initialize_config"}, set()),
    # Hector never calls Health, GetStatus or GetManifest: their faults are warnings.
    ("broken_llm.py", "bad_status", {}, set(), {"get_status"}),
    ("broken_llm.py", "no_manifest_rpc", {}, set(), {"get_manifest"}),
    ("broken_llm.py", "unhealthy", {}, set(), {"health"}),
    ("broken_llm.py", "health_aborts", {}, set(), {"health"}),
    ("broken_llm.py", "shutdown_no_response", {}, {"shutdown"}, set()),
    ("broken_llm.py", "slow_shutdown", {}, set(), {"shutdown"}),
    ("broken_llm.py", "shutdown_hangs", {}, {"shutdown"}, set()),
    ("broken_db.py", "good", {}, set(), set()),
    ("broken_db.py", "needs_create", {}, {"upsert_without_create"}, set()),
    ("broken_db.py", "unsorted", {}, {"search_best_first"}, set()),
    ("broken_db.py", "no_content", {}, {"search_content"}, set()),
    ("broken_db.py", "drops_metadata", {}, {"search_metadata"}, set()),
    ("broken_db.py", "no_content_metadata", {}, {"search_metadata"}, set()),
    ("broken_db.py", "drops_path", {}, set(), {"search_metadata"}),
    ("broken_db.py", "negated_distance", {}, {"search_threshold"}, set()),
    ("broken_db.py", "unbounded_scores", {}, set(), {"search_threshold"}),
    ("broken_db.py", "appends_same_id", {}, {"upsert_same_id"}, set()),
    ("broken_db.py", "pads_top_k", {}, {"top_k_larger"}, set()),
    ("broken_db.py", "any_dimension", {}, set(), {"wrong_dimension"}),  # Hector never checks lengths
    ("broken_db.py", "empty_is_error", {}, {"empty_collection"}, set()),
    ("broken_db.py", "not_thread_safe", {}, {"concurrent_calls"}, set()),
    ("broken_db.py", "delete_missing_fails", {}, set(), {"delete_missing_id"}),
    ("broken_db.py", "delete_missing_removes_another", {}, {"delete_missing_id"}, set()),
    ("broken_embedder.py", "good", {}, set(), set()),
    ("broken_embedder.py", "random_noise", {}, {"embed_deterministic"}, set()),
    ("broken_embedder.py", "info_mismatch", {}, {"embed_dimension"}, set()),
    ("broken_embedder.py", "empty_aborts", {}, {"embed_empty_text"}, set()),
    ("broken_embedder.py", "ascii_only", {}, {"embed_unicode"}, set()),
    ("broken_embedder.py", "info_zero", {}, {"embedder_info"}, set()),
    ("broken_embedder.py", "mixes_answers", {}, {"concurrent_calls"}, set()),
    ("broken_process.py", "good", {}, set(), set()),
    ("broken_process.py", "no_health", {}, {"health_serving"}, set()),
    ("broken_process.py", "no_controller", {}, {"controller_shutdown"}, set()),
    ("broken_process.py", "bad_version", {}, {"handshake"}, set()),
    ("broken_process.py", "raw_stdout", {}, set(), {"stdout_after_handshake"}),
    ("broken_process.py", "ignores_cookie", {}, set(), {"cookie"}),
    ("broken_process.py", "unterminated_handshake", {}, {"stdout_after_handshake"}, set()),
]


@pytest.mark.parametrize("script, fault, manifest, fails, warns", CASES,
                         ids=[f"{case[0][:-3]}-{case[1]}" for case in CASES])
def test_broken_plugin_fails_the_check_naming_its_fault(install, with_verdict, script, fault, manifest, fails, warns):
    plugin_type, name = SCRIPTS[script]
    report = conformance.check(install(PLUGINS / script, plugin_type, fault, name=name, **manifest))
    assert with_verdict(report, "fail") == fails, str(report)
    assert warns <= with_verdict(report, "warn"), str(report)
    for row in report[report.verdict == "fail"].itertuples():
        assert row.happened and row.fix, row
    assert report.ok == (not fails)
    if not fails and not with_verdict(report, "warn"):
        assert report.summary == f"{name}: {(report.verdict == 'pass').sum()} pass, " \
                                 f"{(report.verdict == 'skip').sum()} skip: ready for Hector"


def test_a_provider_that_needs_a_key_warns_without_it_and_passes_with_it(install, with_verdict):
    report = conformance.check(install(PLUGINS / "broken_llm.py", "llm_provider", "requires_key"),
                               config={"api_key": "sk-test"})
    assert with_verdict(report, "fail") == set(), str(report)
    row = report.set_index("check").loc["initialize_empty_config"]
    assert row.verdict == "warn" and "KeyError: 'api_key'" in row.happened


def test_a_provider_that_refuses_an_empty_config_without_saying_why(install, with_verdict):
    report = conformance.check(install(PLUGINS / "broken_llm.py", "llm_provider", "silent_without_config",
                                       name="broken-llm"), config={"api_key": "sk-test"})
    assert with_verdict(report, "fail") == {"initialize_empty_config"}, str(report)
    assert "which key is missing" in report.set_index("check").loc["initialize_empty_config", "fix"]


def test_a_slow_start_is_a_warning(install):
    report = conformance.check(install(PLUGINS / "broken_process.py", "embedder_provider", "slow_start"),
                               only=["startup_time"])
    row = report.set_index("check").loc["startup_time"]
    assert row.verdict == "warn" and "Initialize" in row.fix, str(report)


def test_a_manifest_hector_rejects(install, with_verdict):
    executable = install(PLUGINS / "broken_llm.py", "llm_provider", "good")
    executable.with_name(executable.name + ".plugin.yaml").write_text(
        "plugin:\n  name: broken-llm\n  type: llm_provider\n  protocol: grpc\n")  # no version
    report = conformance.check(executable)
    assert with_verdict(report, "fail") == {"manifest"}, str(report)
    row = report.set_index("check").loc["manifest"]
    assert "plugin.version" in row.happened and "version" in row.fix
    assert report.summary.endswith("Hector would not load this plugin")


@pytest.fixture
def install_go(go_bin, tmp_path):
    def install(binary: str, plugin_type: str) -> str:
        executable = tmp_path / binary
        shutil.copy(go_bin / binary, executable)
        write_manifest(PluginManifest(name=binary, version="1.0.0", type=plugin_type), executable)
        return str(executable)

    return install


@pytest.fixture(scope="module")
def go_bin():
    from go_binaries import go_binaries

    return go_binaries()


@pytest.mark.parametrize("binary, plugin_type, fails", [
    ("noisyembedder", "embedder_provider", {"stdout_before_handshake"}),
    ("echollm", "llm_provider", {"stdout_before_handshake"}),
    # It needs CreateCollection, reads a hit's text from "text" metadata, and takes any vector length.
    ("memdb", "database_provider", {"upsert_without_create", "search_content"}),
])
def test_go_plugins(install_go, with_verdict, binary, plugin_type, fails):
    report = conformance.check(install_go(binary, plugin_type))
    assert with_verdict(report, "fail") == fails, str(report)
    if "stdout_before_handshake" in fails:
        row = report.set_index("check").loc["stdout_before_handshake"]
        assert "Unrecognized remote plugin message" in row.happened and "stderr" in row.fix
        assert report.summary.endswith("Hector would not load this plugin")
