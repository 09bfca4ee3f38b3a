"""The package's seams: what the exported runtime may import, and the wire facts it pins."""

from __future__ import annotations

import ast
from pathlib import Path

import hector_nb
from hector_nb import sdk
from hector_nb.plugin import constants
from hector_nb.plugin import sdk as plugin_sdk

PACKAGE = Path(hector_nb.__file__).resolve().parent
PLUGIN = PACKAGE / "plugin"


def _hector_nb_imports(path: Path, source: str | None = None) -> list[str]:
    """Every import of a module of hector_nb outside ``hector_nb.plugin`` in one file, as written."""
    outside = []
    for node in ast.walk(ast.parse(path.read_text() if source is None else source, str(path))):
        if isinstance(node, ast.Import):
            outside += [a.name for a in node.names if a.name.split(".")[0] == "hector_nb"
                        and not a.name.startswith("hector_nb.plugin")]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                module = node.module or ""
                if module.split(".")[0] == "hector_nb" and not module.startswith("hector_nb.plugin"):
                    outside.append(module)
                continue
            # A relative import resolved against the file's package: it must stay inside plugin/.
            package = path.parent.relative_to(PLUGIN).parts
            if node.level - 1 > len(package):
                outside.append("." * node.level + (node.module or ""))
    return outside


def test_the_plugin_subpackage_imports_nothing_else_of_hector_nb():
    files = sorted(PLUGIN.rglob("*.py"))
    assert len(files) > 5, files
    offenders = {str(f.relative_to(PACKAGE)): found for f in files if (found := _hector_nb_imports(f))}
    assert not offenders, f"hector_nb.plugin must stay self-contained (export copies it): {offenders}"


def test_the_boundary_check_sees_an_import_that_leaves_the_subpackage():
    source = ("from ...errors import PluginError\nfrom .. import sdk\nimport hector_nb.host\n"
              "from hector_nb.plugin import constants\nfrom hector_nb import sessions\n")
    assert _hector_nb_imports(PLUGIN / "_wire" / "x.py", source) == ["...errors", "hector_nb.host", "hector_nb"]


def test_export_carries_the_plugin_subpackage_whole(tmp_path):
    from hector_nb.export import export_provider
    from hector_nb.targets import load_provider_class

    module = tmp_path / "tiny.py"
    module.write_text("from hector_nb.sdk import LLMProvider\n\n\nclass Tiny(LLMProvider):\n    name = 'tiny'\n")
    result = export_provider(load_provider_class(f"{module}:Tiny"), tmp_path / "out")
    runtime = result.directory / "tiny.lib" / "_hector_runtime"
    carried = {p.relative_to(runtime) for p in runtime.rglob("*") if p.is_file()}
    expected = {p.relative_to(PLUGIN) for p in PLUGIN.rglob("*.py*") if "__pycache__" not in p.parts}
    assert carried == expected


def test_the_public_sdk_is_the_plugin_sdk():
    assert set(sdk.__all__) == set(plugin_sdk.__all__)
    for name in plugin_sdk.__all__:
        assert getattr(sdk, name) is getattr(plugin_sdk, name), name


def test_constants_are_the_wire_contract():
    # Written out here on purpose: these are CONTRACT.md's values, checked against the one module that holds them.
    assert (constants.MAGIC_COOKIE_KEY, constants.MAGIC_COOKIE_VALUE) == ("HECTOR_PLUGIN", "hector_plugin_v1")
    assert (constants.CORE_PROTOCOL_VERSION, constants.APP_PROTOCOL_VERSIONS) == (1, (1,))
    assert (constants.PROTOCOL, constants.HEALTH_SERVICE) == ("grpc", "plugin")
    assert constants.PLUGIN_TYPES == ("llm_provider", "database_provider", "embedder_provider")
    assert constants.STATUSES == ("unloaded", "loading", "ready", "error", "crashed", "shutdown", "restarting")
    assert constants.Status.READY == "ready" and f"{constants.Status.CRASHED}" == "crashed"
    assert [constants.bool_text(v) for v in (True, False)] == ["true", "false"]
