"""The conformance check: will Hector load this plugin, and will it behave there?

::

    import hector_nb
    report = hector_nb.check(client)          # a loaded plugin, any transport
    report = hector_nb.check("./plugins/my-llm", config={"model": "small"})
    report.summary                            # "my-llm: 14 pass, 2 warn, 1 fail: Hector would not load this plugin"
    report                                    # a DataFrame: check, verdict, description, happened, fix, seconds

Also ``session.check(name)``, ``%hector check NAME``, ``python -m hector_nb check
PATH [--junit FILE]`` and a pytest plugin (:mod:`hector_nb.conformance.pytest_plugin`).
The checks live one module per concern: :mod:`.process`, :mod:`.lifecycle`,
:mod:`.llm`, :mod:`.database`, :mod:`.embedder`, :mod:`.robustness`; each is
a small function registered with :func:`.base.check`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..host.clients import PluginClient
    from ..plugin import sdk
    from .base import CHECKS, Check, Outcome, Verdict
    from .context import CALL_TIMEOUT
    from .report import CheckReport
    from .runner import applicable
    from .target import Target

__all__ = ["CALL_TIMEOUT", "check", "CheckReport", "Check", "Outcome", "Verdict", "Target", "CHECKS", "applicable"]

#: Name -> the module defining it, imported on first use: pytest loads the pytest plugin of this package in every
#: run where hector_nb is installed (its pytest11 entry point), and must not pay for the checks' machinery there.
_LAZY = {"CHECKS": "base", "Check": "base", "Outcome": "base", "Verdict": "base", "CALL_TIMEOUT": "context",
         "CheckReport": "report", "applicable": "runner", "Target": "target"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


def check(plugin: PluginClient | sdk.Provider | str | os.PathLike[str], *, config: dict[str, Any] | None = None,
          name: str | None = None, only: Iterable[str] | None = None, timeout: float | None = None,
          transport: str = "in-kernel") -> CheckReport:
    """Check a plugin against what Hector needs; returns a :class:`CheckReport` (a DataFrame).

    ``plugin`` is a loaded client (checked on fresh instances started the same
    way, with the config it was loaded with; a provider run in-kernel is checked
    in-process, over real gRPC), a provider object (``transport`` names how it
    would run, for the report), or the path of a plugin
    executable, its ``.plugin.yaml`` or ``builtin:NAME`` (started as Hector
    starts it, with ``config``: only string values reach it, as in Hector).
    ``only`` limits the run to the named checks; ``timeout`` bounds each call (default
    :data:`CALL_TIMEOUT`).
    """
    from ..host.clients import PluginClient
    from ..plugin import sdk
    from .context import CALL_TIMEOUT
    from .runner import run
    from .target import target_of_client, target_of_path, target_of_provider

    if isinstance(plugin, PluginClient):
        target = target_of_client(plugin)
    elif isinstance(plugin, sdk.Provider):
        target = target_of_provider(plugin, name, config, transport)
    else:
        target = target_of_path(plugin, config, name)
    return run(target, only, CALL_TIMEOUT if timeout is None else timeout)
