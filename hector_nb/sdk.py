"""Write Hector providers in Python: the public import path for plugin authors.

Everything here lives in :mod:`hector_nb.plugin.sdk` (the runtime an exported
plugin carries) and is re-exported under this stable name::

    from hector_nb.sdk import LLMProvider, GenerateResponse, serve_llm_plugin
"""

from __future__ import annotations

from .plugin.sdk import *  # noqa: F403 - this module is the public name of plugin.sdk
from .plugin.sdk import ChunkLike, HealthResult, __all__  # noqa: F401 - the aliases are not in __all__
