"""``%hector export``: a provider of the notebook becomes a packaged plugin Hector loads."""

from __future__ import annotations

import argparse

from .. import sdk
from ..errors import ExportError
from ..export import ExportResult, export_provider
from ..options import EXPORT, option
from .base import MagicContext, subcommand


@subcommand("export", [
    option("name", help="a loaded provider (by plugin name) or a provider class of the notebook"),
    *EXPORT,
])
def export(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> ExportResult:
    """Export a provider as a plugin: executable, .plugin.yaml and requirements.txt (no config values)."""
    if args.name in ctx.session:
        provider = ctx.session.get(args.name).provider
        if provider is None:
            raise ExportError(args.name, "export", "was loaded from an executable; only providers written in "
                              "Python here (%%hector provider, session.add) can be exported")
    else:
        provider = ctx.shell.user_ns.get(args.name)
        if not (isinstance(provider, type) and issubclass(provider, sdk.Provider)):
            raise ExportError(args.name, "export", "is neither a loaded plugin nor a provider class of the notebook")
    return export_provider(provider, args.out, name=args.name, version=args.version, author=args.author,
                           description=args.description, requirements=args.requirement, python=args.python,
                           namespace=ctx.shell.user_ns, venv=args.venv)
