"""``python -m hector_nb serve TARGET ...``: load providers, serve them until interrupted, then unload them."""

from __future__ import annotations

import signal
import threading
from collections.abc import Mapping, Sequence

from ..errors import PluginError
from ..sessions import Session


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
        # Each as a plugin process, as Session.load starts any target (hector_nb.targets says why).
        clients = [session.load(target, name=name, config=dict(config or {})) for target in targets]
        bridge = session.serve([client.name for client in clients], port=port, host=host, api_key=api_key, tls=tls)
        print(bridge.describe(), flush=True)
        print("Ctrl-C stops the bridge and unloads the plugins.", flush=True)
        stop.wait()
        print("Stopping: the bridge, then every plugin.", flush=True)
    return 0
