"""One exception hierarchy for everything hector_nb reports to its user.

Every error's message says what went wrong and what to do about it::

    HectorError                              anything hector_nb reports (catch this one)
    ├── OperationError(plugin, operation)    one operation failed; names the plugin when there is one
    │   ├── PluginError                      a call to a plugin, or its start, restart or stop
    │   │   ├── ProviderError                the provider itself reported an error
    │   │   ├── PluginCrashed                its process died (exit code, stderr tail)
    │   │   │   └── PluginGaveUp             ... and did not come back within its restart policy
    │   │   ├── PluginNotAnswering           handshake done, but nothing answers on its socket
    │   │   ├── HandshakeError               it did not speak the go-plugin handshake
    │   │   ├── PluginTimeout                no answer within the deadline
    │   │   ├── PluginNotFound               no such plugin loaded, no executable there
    │   │   ├── WrongPluginType              a plugin of another type than the operation needs
    │   │   ├── InvalidInput                 what the caller passed cannot be sent
    │   │   └── PartialLoad                  some plugins of a hector.yaml failed; the others are loaded
    │   ├── SettingsError(file, field)       something written for hector_nb to read is wrong
    │   │   ├── ConfigError                  a hector.yaml, or the config given to a plugin
    │   │   └── ManifestError                a .plugin.yaml
    │   └── ExportError                      a provider cannot be exported as a plugin
    └── DatasetError                         a dataset file is malformed

``InvalidConfig`` and ``InvalidManifest`` are the earlier names of
:class:`ConfigError` and :class:`ManifestError`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import grpc


class HectorError(Exception):
    """Base of every hector_nb error."""


class OperationError(HectorError):
    """What the errors below share: ``plugin`` (empty when none is concerned), ``operation``, ``message``.

    They read ``plugin 'NAME', OPERATION: MESSAGE`` (or ``OPERATION: MESSAGE``).
    """

    def __init__(self, plugin: str, operation: str, message: str) -> None:
        self.plugin = plugin
        self.operation = operation
        self.message = message
        super().__init__(f"plugin {plugin!r}, {operation}: {message}" if plugin else f"{operation}: {message}")


class PluginError(OperationError):
    """An operation on a plugin failed.

    ``plugin`` is the plugin's name (or its path before it has one), ``operation``
    what was being done (``"generate"``, ``"start"``, ``"upsert"``...), ``message``
    what went wrong and what to do about it. ``status_code`` is the gRPC status the
    call ended with (the provider's own exception is ``UNKNOWN`` on every transport),
    None when the failure was not a call's status (a closed connection, a start).
    """

    def __init__(self, plugin: str, operation: str, message: str, *,
                 status_code: grpc.StatusCode | None = None) -> None:
        self.status_code = status_code
        super().__init__(plugin, operation, message)


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
        *,
        status_code: grpc.StatusCode | None = None,
    ) -> None:
        self.exit_code = exit_code
        self.stderr_tail = stderr_tail
        super().__init__(plugin, operation, message, status_code=status_code)


class PluginGaveUp(PluginCrashed):
    """The plugin crashed and failed to restart as many times in a row as its restart policy allows."""


class PluginNotAnswering(PluginError):
    """The plugin completed its handshake but does not answer on the connection it named."""


class PluginTimeout(PluginError):
    """The plugin did not answer within its deadline: ``deadline`` seconds (None for a start)."""

    def __init__(self, plugin: str, operation: str, message: str, deadline: float | None = None, *,
                 status_code: grpc.StatusCode | None = None) -> None:
        self.deadline = deadline
        super().__init__(plugin, operation, message, status_code=status_code)


class PluginNotFound(PluginError):
    """No plugin of that name is loaded, or no executable at that path."""


class WrongPluginType(PluginError):
    """The plugin is of another type than the operation needs."""

    @classmethod
    def mismatch(cls, plugin: str, operation: str, actual: str, wanted: str) -> WrongPluginType:
        """The one message for every such case: what the plugin is, what ``operation`` needs, what to do."""
        return cls(plugin, operation, f"is {_article(actual)} {actual}, but this needs {_article(wanted)} {wanted}; "
                   "name another plugin (session.list() or %hector list shows each one's type)")


def _article(word: str) -> str:
    """``an`` before a vowel sound (``an llm_provider``), else ``a``."""
    return "an" if word[:1].lower() in "aeiou" or word.lower().startswith("llm") else "a"


class HandshakeError(PluginError):
    """The plugin started but did not speak the go-plugin handshake correctly."""


class InvalidInput(PluginError):
    """What the caller passed cannot be sent (a NaN vector, text that is not UTF-8, top_k out of range)."""


class PartialLoad(PluginError):
    """Some plugins of a ``hector.yaml`` failed to load; every other one is loaded, as in Hector.

    ``loaded`` are the clients of the plugins that are loaded; ``failures`` maps
    each plugin that failed to its error. Fix them and run ``load_config`` again:
    the plugins already loaded are kept.
    """

    def __init__(self, operation: str, message: str, loaded: list[Any], failures: dict[str, HectorError]) -> None:
        self.loaded = loaded
        self.failures = failures
        super().__init__("", operation, message)


class SettingsError(OperationError):
    """Something written for hector_nb to read is wrong: a ``hector.yaml``, a manifest, a plugin's config.

    ``file`` is the file it came from (None for values given in code), ``field``
    the entry at fault as a dotted path (``plugin.protocol``; empty when the file
    as a whole is wrong), ``plugin`` the plugin concerned (empty when none is),
    ``operation`` what was being done (``"read config"``, ``"configure"``...).
    """

    def __init__(self, plugin: str, operation: str, message: str, *,
                 file: str | os.PathLike[str] | None = None, field: str = "") -> None:
        self.file = None if file is None else os.fspath(file)
        self.field = field
        super().__init__(plugin, operation, message)


class ConfigError(SettingsError):
    """A ``hector.yaml`` or a plugin's config is wrong; names the file, plugin and key."""


class ManifestError(SettingsError):
    """A ``.plugin.yaml`` is missing a field or has a wrong one; names the file and field."""


#: Earlier names, kept for code written against them.
InvalidConfig = ConfigError
InvalidManifest = ManifestError


class ExportError(OperationError):
    """A provider cannot be exported as a plugin; says why and what to change.

    ``plugin`` is the name the plugin would have (or the class's name), ``operation`` ``"export"``.
    """


class DatasetError(HectorError, ValueError):
    """A dataset file is malformed, or an evaluation cannot use it; names the file and line."""


class CallCancelled(PluginError):
    """The call was cut short because the host stopped the plugin (unload, session close, restart)."""

    @classmethod
    def by_stop(cls, plugin: str, operation: str, status_code: grpc.StatusCode | None = None) -> CallCancelled:
        """The same words on every transport; ``status_code`` is how the call ended, if it was a gRPC call."""
        return cls(plugin, operation, "cancelled: the plugin was stopped (unloaded, its session closed, or "
                   "restarted) while this call ran", status_code=status_code)
