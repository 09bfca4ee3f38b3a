"""``%hector serve``: the session's providers over the Ollama and OpenAI APIs, for stock Hector."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from ..options import SERVE, option
from .base import MagicContext, comma_separated, subcommand

if TYPE_CHECKING:
    import pandas


@subcommand("serve", [
    option("names", nargs="?", help="comma-separated plugin names, e.g. shout,minilm (default: every plugin, "
                                    "as they are loaded)"),
    *SERVE,
    option("--log", action="store_true", help="show the requests the running bridge answered, as a DataFrame"),
    option("--stop", action="store_true", help="stop the running bridges"),
])
def serve(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> pandas.DataFrame | None:
    """Serve providers over the Ollama and OpenAI APIs (databases as Hector's vector store), so stock Hector
    (v1 or v2) uses them.

    Prints the lines to put in Hector's config. Each request looks its model up
    by name, so running a provider's cell again changes the next answer. Serving
    on a port that a bridge of this kernel already uses replaces that bridge.
    """
    if args.stop or args.log:
        running = ctx.session.bridges
        if not running:
            raise UsageError("no bridge is running; start one with %hector serve NAMES")
        if args.log:
            return running[-1].log
        for bridge in running:
            bridge.stop()
        print("Stopped " + ", ".join(bridge.url for bridge in running))
        return None
    for bridge in ctx.session.bridges:
        if args.port and bridge.url.endswith(f":{args.port}"):
            bridge.stop()
    names = comma_separated(args.names) if args.names else None
    bridge = ctx.session.serve(names, port=args.port, host=args.host, api_key=args.api_key, tls=args.tls)
    print(bridge.describe())
    return None
