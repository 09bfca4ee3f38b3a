"""The host side: load plugins as Hector does, and call them through one client interface."""

from .clients import CLIENTS, DatabaseClient, EmbedderClient, LLMClient, PluginClient
from .transport import InKernelTransport, InProcessTransport, SubprocessTransport, Transport

__all__ = [
    "CLIENTS",
    "DatabaseClient",
    "EmbedderClient",
    "InKernelTransport",
    "InProcessTransport",
    "LLMClient",
    "PluginClient",
    "SubprocessTransport",
    "Transport",
]
