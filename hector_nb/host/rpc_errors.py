"""The one table from a failed call's lower layer to :mod:`hector_nb.errors`.

Over a channel a call ends with a gRPC status; in-kernel the servicer aborts
with one (a provider's exception is ``UNKNOWN`` on both, as the contract says:
docs/protocol.md, "How errors travel"). Either way :func:`status_error` turns it
into the error a user catches, carrying the status as ``status_code``. What
depends on the transport's state (the host cut the call short, the plugin's
process died) is decided by the transport before it falls back on this table.
No error is ever recognised by its text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from ..errors import PluginError, PluginTimeout, ProviderError
from ..plugin.servicers import bounded_error

#: Wire methods whose operation reads otherwise in errors: hector_nb's bulk services serve ``upsert_many``
#: and ``embed_many``.
_OPERATIONS = {"UpsertBatches": "upsert_many", "EmbedBatch": "embed_many"}


def operation_name(method: str) -> str:
    """``GenerateStreaming`` -> ``generate_streaming``: how operations read in errors."""
    return _OPERATIONS.get(method) or re.sub(r"(?<!^)(?=[A-Z])", "_", method).lower()


@dataclass(frozen=True)
class FailedCall:
    """What is known of a call that ended with a status: the plugin, its type, the wire method, its deadline."""

    plugin: str
    plugin_type: str
    method: str
    timeout: float | None
    code: grpc.StatusCode
    details: str

    @property
    def operation(self) -> str:
        return operation_name(self.method)


def _timed_out(call: FailedCall) -> PluginError:
    waited = "" if call.timeout is None else f" within {call.timeout:g}s"
    return PluginTimeout(call.plugin, call.operation, f"no answer{waited}; pass a longer timeout= or check the "
                         f"plugin (session.get({call.plugin!r}).logs())", deadline=call.timeout,
                         status_code=call.code)


def _provider_failed(call: FailedCall) -> PluginError:
    # Bounded here too: a plugin not built with hector_nb's SDK may send any length.
    return ProviderError(call.plugin, call.operation, bounded_error(call.details or "the provider failed"),
                         status_code=call.code)


def _not_implemented(call: FailedCall) -> PluginError:
    return PluginError(call.plugin, call.operation, f"the plugin does not implement {call.method}; is it a "
                       f"{call.plugin_type}?", status_code=call.code)


def _other(call: FailedCall) -> PluginError:
    return PluginError(call.plugin, call.operation, f"gRPC {call.code.name}: {call.details}", status_code=call.code)


#: Each status that means something of its own; any other is a :class:`PluginError` naming the status.
STATUS_ERRORS: dict[grpc.StatusCode, Callable[[FailedCall], PluginError]] = {
    grpc.StatusCode.DEADLINE_EXCEEDED: _timed_out,
    grpc.StatusCode.UNKNOWN: _provider_failed,
    grpc.StatusCode.UNIMPLEMENTED: _not_implemented,
}

#: How a call ends when the server or the channel goes away under it.
CUT_SHORT = frozenset({grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL})


def status_error(call: FailedCall) -> PluginError:
    """The error for a call that ended with ``call.code``, by :data:`STATUS_ERRORS`."""
    return STATUS_ERRORS.get(call.code, _other)(call)


def rpc_status(error: grpc.RpcError) -> tuple[grpc.StatusCode, str]:
    """A failed gRPC call's status code and details (an error that is not a call's: ``UNKNOWN``)."""
    if isinstance(error, grpc.Call):
        return error.code(), error.details() or ""
    return grpc.StatusCode.UNKNOWN, str(error)


def closed_channel(plugin: str, method: str) -> PluginError:
    """A call on a connection the host had closed already (grpc raises ``ValueError``), in hector_nb's words."""
    return PluginError(plugin, operation_name(method), "the connection to the plugin is closed; "
                       f"session.restart({plugin!r}) to start it again")
