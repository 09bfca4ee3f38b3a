"""``%hector`` and ``%%hector``: a thin dispatcher over :class:`hector_nb.Session` and friends.

Each subcommand is one small function in a module of this package; settings
are traitlets, e.g. ``%config HectorMagics.timeout = 60``.
"""

from __future__ import annotations

import shlex

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.utils.text import dedent
from traitlets import Enum, Float

from ..errors import HectorError
from . import check, evaluate, export, generate, plugins, provider, vectors  # noqa: F401 - importing registers the subcommands
from .base import SUBCOMMANDS, MagicContext


def _help(name: str) -> str:
    function, _ = SUBCOMMANDS[name]
    return dedent(function.__doc__ or "").replace(f"%{function.__name__}", f"%hector {name}", 1).strip()


def overview() -> str:
    lines = ["%hector SUBCOMMAND [options]   (%hector SUBCOMMAND --help for its options)", ""]
    for name, (function, cell) in SUBCOMMANDS.items():
        summary = (function.parser.description or "").strip().splitlines()[0]
        lines.append(f"  {name:<10} {summary}{'  [also %%hector]' if cell else ''}")
    return "\n".join(lines)


@magics_class
class HectorMagics(Magics):
    """Build, run and compare Hector plugins from a notebook."""

    timeout = Float(30.0, help="Default deadline of every plugin call, in seconds.").tag(config=True)
    default_transport = Enum(["in-kernel", "in-process", "subprocess"], "in-kernel",
                             help="How built-in providers run unless --subprocess/--in-kernel says.").tag(config=True)
    stream_fps = Float(20.0, help="Most redraws per second of a streaming generation.").tag(config=True)
    widgets = Enum(["auto", "always", "never"], "auto",
                   help="Stream into an ipywidget (auto: when running in a Jupyter kernel).").tag(config=True)

    def __init__(self, shell, session) -> None:
        super().__init__(shell)
        self.session = session
        self.session.timeout = self.timeout
        self.observe(lambda change: setattr(self.session, "timeout", change["new"]), names="timeout")

    @line_cell_magic
    def hector(self, line: str, cell: str | None = None):
        """Build, run and compare Hector plugins: %hector --help lists the subcommands."""
        name, _, rest = line.strip().partition(" ")
        if name in ("", "-h", "--help", "help"):
            print(overview())
            return None
        if name not in SUBCOMMANDS:
            raise UsageError(f"unknown subcommand {name!r}; %hector --help lists them")
        function, takes_cell = SUBCOMMANDS[name]
        if cell is not None and not takes_cell:
            raise UsageError(f"%%hector {name} takes no cell body; use the line magic %hector {name}")
        if rest.split() and rest.split()[0] in ("-h", "--help"):
            print(_help(name))
            return None
        try:
            argv = shlex.split(rest)
        except ValueError as exc:
            raise UsageError(f"%hector {name}: {exc} (check the quotes)") from None
        args = function.parser.parse_args(argv)
        try:
            return function(MagicContext(self.session, self.shell, self), args, cell)
        except HectorError as exc:
            raise UsageError(str(exc)) from None
