"""What every ``%hector`` subcommand gets, and how subcommands register themselves."""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from inspect import cleandoc
from typing import Any, NoReturn, TypeVar, cast

from IPython.core.display import Image as IPythonImage
from IPython.core.display_functions import display as ipython_display
from IPython.core.error import UsageError

from ..host.clients import ClientType, expect
from ..options import Options, add_options
from ..sessions import Session

#: IPython's display() and Image, which it leaves unannotated, with the types they are called with here.
display = cast("Callable[[object], None]", ipython_display)
Image = cast("Callable[..., object]", IPythonImage)
Stored = TypeVar("Stored")

#: A subcommand's function: ``run(ctx, args, cell)``, its result shown as the cell's output.
Run = Callable[["MagicContext", argparse.Namespace, "str | None"], Any]


class MagicParser(argparse.ArgumentParser):
    """A subcommand's parser: a mistake is a UsageError (one line in the notebook), never a SystemExit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


class _UsageFirst(argparse.RawDescriptionHelpFormatter):
    """Help that starts with the usage line itself (``%hector search [--embedder EMBEDDER] ...``)."""

    def add_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                  groups: Iterable[argparse._MutuallyExclusiveGroup], prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix="")


@dataclass(frozen=True)
class Subcommand:
    """A ``%hector NAME`` subcommand: its function, its parser, and whether ``%%hector NAME`` takes a cell."""

    run: Run
    parser: MagicParser
    takes_cell: bool

    @property
    def summary(self) -> str:
        """The first line of its description."""
        return (self.parser.description or "").strip().splitlines()[0]


#: name -> subcommand, in the order they registered (the order of ``%hector --help``)
SUBCOMMANDS: dict[str, Subcommand] = {}


def subcommand(name: str, options: Options = (), cell: bool = False) -> Callable[[Run], Run]:
    """Register ``run(ctx, args, cell)`` as ``%hector NAME`` (and ``%%hector NAME`` when ``cell``), its arguments
    parsed by ``options`` (a table of :mod:`hector_nb.options`) and its help the function's docstring."""

    def register(run: Run) -> Run:
        parser = MagicParser(prog=f"%hector {name}", description=cleandoc(run.__doc__ or ""),
                             formatter_class=_UsageFirst, add_help=False)
        SUBCOMMANDS[name] = Subcommand(run, add_options(parser, options), cell)
        return run

    return register


@dataclass
class MagicContext:
    """The session, the user's namespace and the magic's settings, for one subcommand call."""

    session: Session
    shell: Any
    settings: Any

    def variable(self, name: str, what: str) -> Any:
        """A variable of the user's namespace, or a public attribute of one (``ds.corpus``); else a UsageError."""
        head, *attributes = name.split(".")
        try:
            value = self.shell.user_ns[head]
        except KeyError:
            raise UsageError(f"no variable {head!r} in the notebook; define {what} in a cell first") from None
        for attribute in attributes:  # attribute look-ups only: the name is never evaluated as code
            if attribute.startswith("_") or not hasattr(value, attribute):
                raise UsageError(f"{name}: {type(value).__name__} {head!r} has no attribute {attribute!r}")
            value = getattr(value, attribute)
        return value

    def store(self, name: str | None, value: Stored) -> Stored:
        """``value``, also put in the notebook's variable ``name`` when one is given."""
        if name:
            self.shell.user_ns[name] = value
        return value

    def client(self, name: str, kind: type[ClientType]) -> ClientType:
        """The plugin ``name``, checked to be of the client type ``kind`` (``LLMClient``...)."""
        return expect(self.session.get(name), kind, "use")


def comma_separated(text: str) -> list[str]:
    """``"a, b,,c"`` as ``["a", "b", "c"]``: the magics' way to write several names in one argument."""
    return [item.strip() for item in text.split(",") if item.strip()]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean --embedder?)`` when ``word`` is a near miss of one of ``choices``, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""
