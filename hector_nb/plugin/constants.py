"""What both ends of a Hector plugin connection must agree on, in one place (docs/protocol.md).

The plugin side (:mod:`.serve`) and the host side (``hector_nb.host``) read
these names; so do the tests. A value here that differs from Hector's breaks
loading in Hector, so every one of them is a fact of the wire contract, not a
setting.
"""

from __future__ import annotations

import enum

# go-plugin's handshake configuration as Hector sets it (docs/protocol.md, "Start-up: the handshake").
MAGIC_COOKIE_KEY = "HECTOR_PLUGIN"
MAGIC_COOKIE_VALUE = "hector_plugin_v1"
CORE_PROTOCOL_VERSION = 1
APP_PROTOCOL_VERSION = 1
#: The app protocol versions a host offers (Hector: only 1).
APP_PROTOCOL_VERSIONS = (APP_PROTOCOL_VERSION,)
#: The only protocol Hector's plugins speak, in the handshake line and in manifests.
PROTOCOL = "grpc"
#: The name under which go-plugin's host pings ``grpc.health.v1.Health``.
HEALTH_SERVICE = "plugin"

# What go-plugin's host puts in its child's environment.
PROTOCOL_VERSIONS_ENV = "PLUGIN_PROTOCOL_VERSIONS"
MIN_PORT_ENV = "PLUGIN_MIN_PORT"
MAX_PORT_ENV = "PLUGIN_MAX_PORT"
UNIX_SOCKET_DIR_ENV = "PLUGIN_UNIX_SOCKET_DIR"
UNIX_SOCKET_GROUP_ENV = "PLUGIN_UNIX_SOCKET_GROUP"
CLIENT_CERT_ENV = "PLUGIN_CLIENT_CERT"
MULTIPLEX_GRPC_ENV = "PLUGIN_MULTIPLEX_GRPC"
#: The TCP port range a host offers, and a plugin assumes when none is given (go-plugin's defaults).
MIN_PORT, MAX_PORT = 10000, 25000

# The plugin set keys (dispense names), also the manifest's ``type``.
PLUGIN_TYPE_LLM = "llm_provider"
PLUGIN_TYPE_DATABASE = "database_provider"
PLUGIN_TYPE_EMBEDDER = "embedder_provider"
PLUGIN_TYPES = (PLUGIN_TYPE_LLM, PLUGIN_TYPE_DATABASE, PLUGIN_TYPE_EMBEDDER)


class TextEnum(str, enum.Enum):
    """An enum whose members are their text: each compares equal to it and prints as it."""

    def __str__(self) -> str:
        return str.__str__(self)  # the member's own text (a str subclass), typed as such


class Status(TextEnum):
    """A plugin's status, as Hector names it (``StatusResponse.status`` carries the value).

    A ``str`` subclass, so a status compares equal to its text: ``Status.READY == "ready"``.
    """

    UNLOADED = "unloaded"
    LOADING = "loading"
    READY = "ready"
    ERROR = "error"
    CRASHED = "crashed"
    SHUTDOWN = "shutdown"
    RESTARTING = "restarting"


#: Plugin statuses, as Hector names them.
STATUSES = tuple(status.value for status in Status)

#: How a boolean reads as text on the wire (config values, metadata, capabilities): as YAML and Go write it.
TRUE_TEXT, FALSE_TEXT = "true", "false"


def bool_text(value: object) -> str:
    """A boolean as the text Hector reads: ``true`` or ``false``."""
    return TRUE_TEXT if value else FALSE_TEXT
