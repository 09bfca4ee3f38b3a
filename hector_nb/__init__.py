"""hector_nb: build, run, compare and export Hector plugins from Jupyter.

The public API is imported lazily, so that a plugin process importing
``hector_nb.sdk`` does not pay for the notebook side (pandas, widgets).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Session", "__version__"]

if TYPE_CHECKING:
    from .session import Session


def __getattr__(name: str) -> Any:
    if name == "Session":
        from .session import Session

        return Session
    raise AttributeError(f"module 'hector_nb' has no attribute {name!r}")
