"""``%hector check``: will Hector load this plugin, and will it behave there?"""

from __future__ import annotations

from IPython.core.magic_arguments import argument, magic_arguments

from .base import MagicContext, subcommand


@subcommand("check")
@magic_arguments()
@argument("name", help="a loaded plugin (any transport)")
@argument("--only", action="append", metavar="CHECK", help="run only this check (repeatable)")
@argument("--out", help="store the report (a DataFrame) in this variable too")
def check(ctx: MagicContext, args, cell):
    """Check a loaded plugin against what Hector needs: one row per check, verdict, what happened, the fix."""
    return ctx.store(args.out, ctx.session.check(args.name, only=args.only))
