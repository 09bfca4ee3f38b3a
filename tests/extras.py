"""Tests of the real engines need their extras; outside CI a missing extra skips them, with the reason.

In CI (``CI=true``) or with ``HECTOR_NB_REQUIRE_EXTRAS=1`` (both set by .ci/run)
a missing extra fails the test instead: engine tests can never be skipped there.
"""

from __future__ import annotations

import importlib.util
import os

import pytest


def extras_required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("HECTOR_NB_REQUIRE_EXTRAS") == "1"


def missing_modules(*modules: str) -> list[str]:
    """The modules that are not installed, looked up without importing them."""
    return [m for m in modules if importlib.util.find_spec(m) is None]


def require(extra: str, *modules: str, install: str = "") -> None:
    """Skip (or fail, where extras are required) unless every module of ``extra`` is installed.

    Looks modules up without importing them, so a test decides before it pays for an import.
    ``install`` is the command that brings them, when it is not ``pip install -e ".[extra]"``.
    """
    missing = missing_modules(*modules)
    if not missing:
        return
    reason = f'needs the {extra} extra ({", ".join(missing)} missing): {install or f"pip install -e .[{extra}]"}'
    if extras_required():
        pytest.fail(f"{reason}; engine tests must run here (CI or HECTOR_NB_REQUIRE_EXTRAS=1)")
    pytest.skip(reason)
