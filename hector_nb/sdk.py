"""Write Hector providers in Python: the public import path for plugin authors.

Everything here lives in :mod:`hector_nb.plugin.sdk` (the runtime an exported
plugin carries) and is re-exported under this stable name::

    from hector_nb.sdk import LLMProvider, GenerateResponse, serve_llm_plugin
"""

from __future__ import annotations

from .plugin.sdk import *  # noqa: F403 - this module is the public name of plugin.sdk

# The aliases are not in __all__: named `as` themselves so a type checker sees them re-exported.
from .plugin.sdk import ChunkLike as ChunkLike
from .plugin.sdk import HealthResult as HealthResult
from .plugin.sdk import VectorLike as VectorLike
from .plugin.sdk import __all__ as __all__
