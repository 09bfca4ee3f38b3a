"""One exception hierarchy for everything hector_nb reports to its user.

Every error names the plugin and the operation, and its message says what to do.
"""

from __future__ import annotations


class HectorError(Exception):
    """Base of every hector_nb error."""


class DatasetError(HectorError, ValueError):
    """A dataset file is malformed, or an evaluation cannot use it; names the file and line."""


class PluginError(HectorError):
    """An operation on a plugin failed.

    ``plugin`` is the plugin's name (or its path before it has one), ``operation``
    what was being done (``"generate"``, ``"start"``, ``"upsert"``...), ``message``
    what went wrong and what to do about it.
    """

    def __init__(self, plugin: str, operation: str, message: str) -> None:
        self.plugin = plugin
        self.operation = operation
        self.message = message
        super().__init__(f"plugin {plugin!r}, {operation}: {message}")


class ProviderError(PluginError):
    """The provider itself reported an error (it raised, or answered success=false)."""


class PluginCrashed(PluginError):
    """The plugin process died; the message carries its exit code and stderr tail."""

    def __init__(
        self,
        plugin: str,
        operation: str,
        message: str,
        exit_code: int | None = None,
        stderr_tail: str = "",
    ) -> None:
        self.exit_code = exit_code
        self.stderr_tail = stderr_tail
        super().__init__(plugin, operation, message)


class PluginGaveUp(PluginCrashed):
    """The plugin crashed and failed to restart as many times in a row as its restart policy allows."""


class PluginNotAnswering(PluginError):
    """The plugin completed its handshake but does not answer on the connection it named."""


class PluginTimeout(PluginError):
    """The plugin did not answer within its deadline."""


class PluginNotFound(PluginError):
    """No plugin of that name is loaded, or no executable at that path."""


class WrongPluginType(PluginError):
    """The plugin is of another type than the operation needs."""


class InvalidManifest(PluginError):
    """A ``.plugin.yaml`` is missing a field or has a wrong one; names the file and field."""


class InvalidConfig(PluginError):
    """A ``hector.yaml`` or a plugin's config is wrong; names the file, plugin and key."""


class HandshakeError(PluginError):
    """The plugin started but did not speak the go-plugin handshake correctly."""


class ExportError(PluginError):
    """A provider cannot be exported as a plugin; says why and what to change."""


class InvalidInput(PluginError):
    """What the caller passed cannot be sent (a NaN vector, text that is not UTF-8, top_k out of range)."""
