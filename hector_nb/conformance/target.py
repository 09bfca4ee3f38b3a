"""What is being checked: a plugin executable, or a provider object, with its manifest and config.

The check never touches the instance a user has loaded: it starts its own
instances of the same plugin, the same way (:meth:`Target.start`), so a check
that shuts a plugin down or fills a collection changes nothing in the session.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import hector
from ..errors import PluginError
from ..host import InProcessTransport, SubprocessTransport, Transport
from ..host.clients import PluginClient
from ..host.instances import fresh_provider
from ..manifest import PluginManifest, manifest_from_provider
from ..plugin import sdk
from ..targets import LaunchSpec, resolve


@dataclass
class Target:
    """One plugin to check.

    ``command`` is set when the plugin runs as a process (as Hector runs every
    plugin); ``provider`` when it is a Python object run in this process.
    ``config`` is what Hector would pass to ``Initialize``: string values only.
    """

    name: str
    plugin_type: str | None
    manifest: PluginManifest | None
    config: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None
    env: dict[str, str] | None = None
    provider: sdk.Provider | None = None
    #: ``in-kernel`` or ``in-process`` for provider objects, ``subprocess`` for executables.
    transport: str = "subprocess"
    #: Why the manifest could not be read, when it could not.
    manifest_error: str = ""
    #: The ``.plugin.yaml`` Hector's discovery would read, when the plugin is an executable.
    manifest_file: Path | None = None

    def capability(self, name: str) -> bool:
        """Whether the manifest declares ``name`` as true (YAML ``true`` or the text ``"true"``)."""
        value = (self.manifest.capabilities if self.manifest else {}).get(name)
        return value is True or str(value).strip().lower() == "true"

    def start(self, timeout: float) -> Transport:
        """A new instance of the plugin, started but not initialized."""
        if self.plugin_type is None:
            raise PluginError(self.name, "start", f"its type is unknown ({self.manifest_error}); "
                              "fix the .plugin.yaml so that it names the type")
        if self.command is not None:
            return _lenient_subprocess(self.name, self.plugin_type, self.command, timeout, self.env)
        assert self.provider is not None
        # In-process even for a provider run in-kernel: over real gRPC every call has a deadline (the
        # robustness checks need them, and a hung provider must not hang the check) and crosses the wire
        # as Hector's would.
        return InProcessTransport(self.name, fresh_provider(self.provider, self.name, "check"), timeout)


def _lenient_subprocess(name: str, plugin_type: str, command: list[str], timeout: float,
                        env: dict[str, str] | None) -> Transport:
    # Lenient: a plugin that prints before its handshake still starts here, so that every other
    # check can run; the process checks report the fault itself. No supervisor, so no restarts: a crash
    # is a finding.
    return SubprocessTransport(name, plugin_type, command, timeout, env=env, strict_stdout=False)


def target_of_client(client: PluginClient) -> Target:
    """The plugin behind a loaded client, with the config it was initialized with."""
    config = client.config
    manifest = client.manifest
    process = client.process  # the check starts its own instances the same way
    if process is not None:
        return Target(client.name, client.plugin_type, manifest, config, command=list(process.command),
                      env=process.env, manifest_file=manifest.path)
    return Target(client.name, client.plugin_type, manifest, config, provider=client.provider,
                  transport=client.transport)


def target_of_provider(provider: sdk.Provider, name: str | None = None, config: dict[str, Any] | None = None,
                       transport: str = "in-kernel") -> Target:
    """A provider object (not yet loaded), run ``in-kernel`` or ``in-process``."""
    manifest = manifest_from_provider(provider)
    kept, _ = hector.string_config(config)
    return Target(name or manifest.name, provider.plugin_type, manifest, kept, provider=provider,
                  transport=transport)


def target_of_path(target: str | os.PathLike[str] | LaunchSpec, config: dict[str, Any] | None = None,
                   name: str | None = None) -> Target:
    """A plugin executable (or its ``.plugin.yaml``), ``builtin:NAME`` or ``MODULE:CLASS``, run as a process
    as Hector runs it (:func:`hector_nb.targets.resolve`).

    A manifest Hector would reject does not stop the check: the manifest check
    reports it, and the rest runs when the plugin's type can still be read.
    """
    spec = target if isinstance(target, LaunchSpec) else resolve(target, "check", lenient=True)
    kept, _ = hector.string_config(config)
    return Target(name or spec.name, spec.plugin_type, spec.manifest, kept, command=list(spec.command),
                  env=spec.env, manifest_error=spec.manifest_error, manifest_file=spec.manifest_file)
