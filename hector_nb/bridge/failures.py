"""How the bridge answers a failure: an HTTP status and a message, whatever went wrong underneath."""

from __future__ import annotations

from ..errors import CallCancelled, InvalidInput, PluginError, PluginNotFound, PluginTimeout, WrongPluginType


class BridgeError(Exception):
    """A request the bridge answers with an HTTP error: ``status`` and a ``message`` saying what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def http_failure(error: BaseException) -> BridgeError:
    """The HTTP status and message of a failed call into a plugin.

    A deadline is 504; a plugin unloaded under the call (its cell run again) is
    503, which Hector retries; what the caller sent that the plugin cannot take
    is 400; anything else the provider or its process did is 500.
    """
    if isinstance(error, BridgeError):
        return error
    if isinstance(error, PluginTimeout):
        return BridgeError(504, str(error))
    if isinstance(error, (CallCancelled, PluginNotFound)):
        return BridgeError(503, str(error))
    if isinstance(error, (InvalidInput, WrongPluginType)):
        return BridgeError(400, str(error))
    if isinstance(error, PluginError):
        return BridgeError(500, str(error))
    return BridgeError(500, f"the bridge failed: {type(error).__name__}: {error}")
