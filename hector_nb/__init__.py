"""hector_nb: build, run, compare and export Hector plugins from Jupyter.

``%load_ext hector_nb`` registers the ``%hector`` magics. A :class:`Session`
holds named plugins; :func:`session` returns the kernel's one Session, shared by
the magics and code (both live in :mod:`hector_nb.sessions`). Plugin authors
import :mod:`hector_nb.sdk`. The public API is imported lazily, so a plugin
process importing ``hector_nb.sdk`` does not pay for the notebook side (pandas,
widgets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Session", "check", "evaluate", "session", "load_ipython_extension", "unload_ipython_extension",
           "__version__"]

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable

    from .conformance import CheckReport
    from .evaluation import evaluate
    from .host.clients import PluginClient
    from .plugin.sdk import Provider
    from .sessions import Session

def __getattr__(name: str) -> Any:
    if name == "Session":
        from .sessions import Session

        return Session
    if name == "evaluate":
        from .evaluation import evaluate

        return evaluate
    raise AttributeError(f"module 'hector_nb' has no attribute {name!r}")


def check(plugin: PluginClient | Provider | str | os.PathLike[str], *, config: dict[str, Any] | None = None,
          name: str | None = None, only: Iterable[str] | None = None, timeout: float | None = None,
          transport: str = "in-kernel") -> CheckReport:
    """Check a plugin against what Hector needs: :func:`hector_nb.conformance.check`, whose docstring says more."""
    from .conformance import CALL_TIMEOUT
    from .conformance import check as run_check

    return run_check(plugin, config=config, name=name, only=only,
                     timeout=CALL_TIMEOUT if timeout is None else timeout, transport=transport)


def session() -> Session:
    """This kernel's one Session, created on first use; the magics use the same one."""
    from .sessions import kernel_session

    return kernel_session()


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext hector_nb``: register ``%hector`` / ``%%hector``."""
    from .magics import HectorMagics, remember_cause

    ipython.register_magics(HectorMagics(ipython, session()))
    ipython.events.register("post_run_cell", remember_cause)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext hector_nb``: shut every plugin down."""
    from .magics import remember_cause
    from .sessions import close_kernel_session

    if remember_cause in ipython.events.callbacks["post_run_cell"]:
        ipython.events.unregister("post_run_cell", remember_cause)
    close_kernel_session()
