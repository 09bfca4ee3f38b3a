"""A second, independent instance of a loaded plugin, started the same way: for work that must not touch
the user's (an evaluation sweep rebuilding an index under another config)."""

from __future__ import annotations

from .. import hector
from .clients import CLIENTS, PluginClient
from .in_kernel import InKernelTransport
from .in_process import InProcessTransport
from .instances import fresh_provider
from .subprocess_transport import SubprocessTransport
from .supervisor import Supervisor
from .transport import Transport


def start_copy(client: PluginClient, operation: str) -> PluginClient:
    """A new instance of ``client``'s plugin on the same transport, started but not initialized.

    An executable is started again (same command and environment); a provider
    object is made afresh from its class (:func:`.instances.fresh_provider`).
    The caller shuts the copy down.
    """
    process = client.process
    transport: Transport
    if process is not None:
        transport = SubprocessTransport(client.name, client.plugin_type, process.command, client.timeout,
                                        env=process.env, strict_stdout=client.fidelity == hector.HECTOR)
    else:
        assert client.provider is not None  # not a process: a provider object given in Python
        provider = fresh_provider(client.provider, client.name, operation)
        if client.transport == InProcessTransport.kind:
            transport = InProcessTransport(client.name, provider, client.timeout)
        else:
            transport = InKernelTransport(client.name, provider)
    return CLIENTS[client.plugin_type](Supervisor(transport), client.timeout, client.manifest,
                                       fidelity=client.fidelity)
