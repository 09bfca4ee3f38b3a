"""``python -m hector_nb serve TARGET ...``: load providers, serve them until interrupted, then unload them."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Mapping, Sequence

from ..errors import PluginError
from ..host.clients import PluginClient
from ..sessions import Session

BUILTIN_PREFIX = "builtin:"


def load_target(session: Session, target: str, name: str | None, config: dict[str, str]) -> PluginClient:
    """``builtin:NAME`` or ``MODULE:CLASS`` (``FILE.py:CLASS``) in this process; a plugin executable or its
    ``.plugin.yaml`` as Hector loads it, as a subprocess (Go or Python)."""
    if target.startswith(BUILTIN_PREFIX):
        return session.load(target, name=name, config=config, transport="in-kernel")
    if os.path.exists(target):
        return session.load(target, name=name, config=config)
    if ":" not in target:
        raise PluginError(target, "serve", "no plugin executable or .plugin.yaml there; name a file, "
                          "builtin:NAME or MODULE:CLASS")
    from ..export import load_provider_class
    from ..sdk import plugin_name

    cls = load_provider_class(target)
    return session.add(name or plugin_name(cls), cls(), config=config)


def serve_until_stopped(targets: Sequence[str], port: int = 0, host: str = "127.0.0.1", api_key: str | None = None,
                        config: Mapping[str, str] | None = None, name: str | None = None,
                        stop: threading.Event | None = None, tls: bool = False) -> int:
    """Load ``targets``, serve them, print the config lines, and wait for SIGINT or SIGTERM (or ``stop``)."""
    if name is not None and len(targets) != 1:
        raise PluginError(name, "serve", "--name renames one target; serve one target with it, or none")
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    with Session() as session:
        clients = [load_target(session, target, name, dict(config or {})) for target in targets]
        bridge = session.serve([client.name for client in clients], port=port, host=host, api_key=api_key, tls=tls)
        print(bridge.describe(), flush=True)
        print("Ctrl-C stops the bridge and unloads the plugins.", flush=True)
        stop.wait()
        print("Stopping: the bridge, then every plugin.", flush=True)
    return 0
