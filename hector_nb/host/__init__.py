"""The host side: load plugins as Hector does, and call them through one client interface.

One module per concern, as go-plugin splits its host: :mod:`.process` (a plugin
executable and its handshake, :mod:`.handshake`), one module per transport
(:mod:`.in_kernel`, :mod:`.in_process`, :mod:`.subprocess_transport`, over the
interface in :mod:`.transport` and the gRPC calls in :mod:`.grpc_client`), each
offering the same typed stubs (:mod:`.rpc`) whose failures one table maps to
hector_nb's errors (:mod:`.rpc_errors`),
:mod:`.supervisor` (status, last config, restarts) and :mod:`.clients` (the
Pythonic clients the user holds).
"""

from .clients import CLIENTS, DatabaseClient, EmbedderClient, LLMClient, PluginClient
from .in_kernel import InKernelTransport
from .in_process import InProcessTransport
from .subprocess_transport import SubprocessTransport
from .supervisor import RestartPolicy, Supervisor
from .transport import Transport

__all__ = [
    "CLIENTS",
    "DatabaseClient",
    "EmbedderClient",
    "InKernelTransport",
    "InProcessTransport",
    "LLMClient",
    "PluginClient",
    "RestartPolicy",
    "SubprocessTransport",
    "Supervisor",
    "Transport",
]
