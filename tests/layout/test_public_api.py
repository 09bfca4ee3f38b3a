"""The public API is what hector_nb's docstring says: ``hector_nb``'s ``__all__``, ``hector_nb.sdk`` and
``hector_nb.providers``; each name resolves, a type checker sees it, and ``__all__`` misses nothing."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import hector_nb
from hector_nb import errors, providers, sdk
from hector_nb.host import clients

INIT = Path(hector_nb.__file__)


@pytest.mark.parametrize("module", [hector_nb, sdk, providers], ids=lambda m: m.__name__)
def test_every_public_name_resolves(module):
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module.__name__}.__all__ names what it does not have: {missing}"


def test_the_error_classes_and_clients_are_all_exported():
    # Aliases kept for old names (InvalidConfig is ConfigError) are not listed twice.
    error_classes = {name for name, value in vars(errors).items() if inspect.isclass(value)
                     and issubclass(value, errors.HectorError) and value.__name__ == name}
    client_classes = {name for name, value in vars(clients).items() if inspect.isclass(value)
                      and issubclass(value, clients.PluginClient) and value.__module__ == clients.__name__}
    assert client_classes >= {"LLMClient", "DatabaseClient", "EmbedderClient"}
    assert not (error_classes | client_classes) - set(hector_nb.__all__)


def test_the_names_users_import_are_at_the_top():
    expected = {"Session", "session", "check", "evaluate", "compare_search", "Comparison", "SearchResults",
                "CheckReport", "Fidelity", "TransportKind", "LLMClient", "DatabaseClient", "EmbedderClient"}
    assert not expected - set(hector_nb.__all__)
    assert hector_nb.Fidelity("hector") is hector_nb.Fidelity.HECTOR and hector_nb.TransportKind.SUBPROCESS == \
        "subprocess"


def _type_checking_imports() -> set[str]:
    """The names ``hector_nb/__init__.py`` imports under ``if TYPE_CHECKING:`` (what mypy sees)."""
    for node in ast.parse(INIT.read_text()).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return {alias.asname or alias.name for child in node.body if isinstance(child, ast.ImportFrom)
                    for alias in child.names}
    raise AssertionError("hector_nb/__init__.py has no TYPE_CHECKING block")


def test_a_type_checker_sees_every_lazily_imported_name():
    # The lazy names come from hector_nb.__getattr__, which a type checker cannot follow: each needs its
    # TYPE_CHECKING import, or `from hector_nb import X` types X as Any; and __all__ lists exactly what is public.
    lazy = set(hector_nb._PUBLIC)
    assert not lazy - _type_checking_imports()
    defined_here = {"check", "session", "load_ipython_extension", "unload_ipython_extension", "__version__"}
    assert set(hector_nb.__all__) == lazy | defined_here and len(hector_nb.__all__) == len(set(hector_nb.__all__))


def test_a_name_missing_from_the_package_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'hector_nb' has no attribute 'sessions_'"):
        hector_nb.sessions_  # noqa: B018


def test_importing_the_package_or_the_sdk_loads_no_public_name_eagerly():
    probe = ("import sys, json, hector_nb, hector_nb.sdk\n"
             "print(json.dumps(sorted(m for m in sys.modules if m in ('pandas', 'hector_nb.sessions', "
             "'hector_nb.host.clients', 'hector_nb.compare', 'hector_nb.display'))))")
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(answer.stdout) == []
