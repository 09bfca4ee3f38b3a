"""``%hector check``: will Hector load this plugin, and will it behave there?"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..options import ONLY, option
from .base import MagicContext, subcommand

if TYPE_CHECKING:
    import pandas


@subcommand("check", [
    option("name", help="a loaded plugin (any transport)"),
    ONLY,
    option("--out", help="store the report (a DataFrame) in this variable too"),
])
def check(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> pandas.DataFrame:
    """Check a loaded plugin against what Hector needs: one row per check, verdict, what happened, the fix."""
    return ctx.store(args.out, ctx.session.check(args.name, only=args.only))
