"""The bridge: a session's providers served over the Ollama and OpenAI HTTP APIs, for stock Hector (v1 and v2)
and any other client of those APIs (docs/bridge.md).

::

    with session.serve(["shout", "minilm"], port=11500) as bridge:
        ...                      # Hector's llms: {x: {type: ollama, host: bridge.url, model: shout}}
        bridge.log               # a DataFrame of the requests answered
"""

from __future__ import annotations

from .context import BridgeContext, BridgeError
from .server import Bridge, start_bridge

__all__ = ["Bridge", "BridgeContext", "BridgeError", "start_bridge"]
