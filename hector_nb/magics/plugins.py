"""``%hector load | unload | restart | list | logs | discover``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..config import parse_settings
from ..host.clients import PluginClient
from ..manifest import discover, discovery_table
from ..options import SET, option
from ..targets import TargetKind, resolve
from .base import MagicContext, subcommand

if TYPE_CHECKING:
    import pandas


@subcommand("load", [
    option("target", nargs="?", help="plugin executable, its .plugin.yaml, or builtin:echo|memory|hashing"),
    option("--config", help="a hector.yaml: load every enabled plugin it declares"),
    option("--name", help="name to load it under (default: the manifest's name)"),
    SET,
    option("--in-kernel", dest="transport", action="store_const", const="in-kernel",
           help="built-ins: call the provider object directly"),
    option("--in-process", dest="transport", action="store_const", const="in-process",
           help="built-ins: serve it in a thread of the kernel, over real gRPC"),
    option("--subprocess", dest="transport", action="store_const", const="subprocess",
           help="run it as a plugin process, as Hector would"),
    option("--lenient", dest="fidelity", action="store_const", const="lenient",
           help="friendlier than Hector: every config value passed as text, manifest defaults applied, "
                "stdout before the handshake tolerated (default: %%config HectorMagics.fidelity)"),
])
def load(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> PluginClient | pandas.DataFrame:
    """Load a plugin, or every plugin of a hector.yaml.

    --set values are text, as Hector passes them to Initialize (0.7 is the
    text 0.7); a typed value comes from a hector.yaml (--config).
    """
    if args.config:
        ctx.session.load_config(args.config, fidelity=args.fidelity)
        return ctx.session.list()
    if not args.target:
        from IPython.core.error import UsageError

        raise UsageError("%hector load needs a plugin path, builtin:NAME or --config hector.yaml")
    target = resolve(args.target, "load")
    transport = args.transport
    if transport is None:
        transport = ctx.settings.default_transport if target.kind is TargetKind.BUILTIN else "subprocess"
    return ctx.session.load(target, name=args.name, config=parse_settings(args.set), transport=transport,
                            fidelity=args.fidelity)


@subcommand("unload", [
    option("name"),
])
def unload(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> None:
    """Shut a plugin down and forget it."""
    ctx.session.unload(args.name)


@subcommand("restart", [
    option("name"),
])
def restart(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> PluginClient:
    """Restart a plugin with its last config."""
    return ctx.session.restart(args.name)


@subcommand("list")
def list_plugins(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> pandas.DataFrame:
    """The loaded plugins as a table."""
    return ctx.session.list()


@subcommand("logs", [
    option("name"),
    option("--tail", type=int, default=50, help="how many of the last lines (default 50)"),
])
def logs(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> None:
    """What a plugin wrote: stderr, GRPCStdio, stray stdout."""
    lines = ctx.session.get(args.name).logs()[-args.tail:]
    print("\n".join(lines) if lines else f"({args.name} has written nothing)")


@subcommand("discover", [
    option("paths", nargs="*", help="directories (default: ./plugins and ~/.hector/plugins)"),
    option("--recursive", action="store_true", help="scan subdirectories too"),
])
def discover_plugins(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> pandas.DataFrame:
    """Find plugin manifests as Hector's discovery does."""
    return discovery_table(discover(args.paths or None, scan_subdirectories=args.recursive))
