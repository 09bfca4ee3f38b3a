"""``%hector export``: a provider of the notebook becomes a packaged plugin Hector loads."""

from __future__ import annotations

from IPython.core.magic_arguments import argument, magic_arguments

from .. import sdk
from ..errors import ExportError
from ..export import export_provider
from .base import MagicContext, subcommand


@subcommand("export")
@magic_arguments()
@argument("name", help="a loaded provider (by plugin name) or a provider class of the notebook")
@argument("--out", required=True, help="directory to write the plugin into")
@argument("--version", help="manifest version (default: the class's)")
@argument("--author")
@argument("--description")
@argument("--requirement", action="append", default=[], metavar="PKG", help="extra requirement (repeatable)")
@argument("--python", help="the launcher's interpreter line (default: this kernel's Python, which has the "
                           "provider's packages)")
@argument("--venv", action="store_true",
          help="create NAME.venv beside the launcher with the requirements installed, and name its Python")
def export(ctx: MagicContext, args, cell):
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
