"""What every ``%hector`` subcommand gets, and how subcommands register themselves."""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from IPython.core.error import UsageError

from ..errors import WrongPluginType
from ..host.clients import ClientType, plugin_type_of
from ..sessions import Session


class Subcommand(Protocol):
    """A ``%hector`` subcommand: ``function(ctx, args, cell)``, with the parser ``magic_arguments`` attached."""

    parser: argparse.ArgumentParser
    __name__: str

    def __call__(self, ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> Any: ...


#: name -> (function, takes a cell body)
SUBCOMMANDS: dict[str, tuple[Subcommand, bool]] = {}
Function = TypeVar("Function", bound=Callable[..., Any])


def subcommand(name: str, cell: bool = False) -> Callable[[Function], Function]:
    """Register ``function(ctx, args, cell)`` as ``%hector NAME`` (and ``%%hector NAME`` when ``cell``)."""

    def register(function: Function) -> Function:
        SUBCOMMANDS[name] = (cast(Subcommand, function), cell)
        return function

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

    def store(self, name: str | None, value: Any) -> Any:
        if name:
            self.shell.user_ns[name] = value
        return value

    def client(self, name: str, kind: type[ClientType]) -> ClientType:
        """The plugin ``name``, checked to be of the client type ``kind`` (``LLMClient``...)."""
        client = self.session.get(name)
        plugin_type = plugin_type_of(kind)
        if not isinstance(client, kind):
            raise WrongPluginType(name, "use", f"is {article(client.plugin_type)} {client.plugin_type}, but this "
                                  f"needs {article(plugin_type)} {plugin_type}; pass another plugin (see %hector list)")
        return client


def article(word: str) -> str:
    """``an`` before a vowel sound (``an llm_provider``), else ``a``."""
    return "an" if word[:1].lower() in "aeiou" or word.lower().startswith("llm") else "a"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean --embedder?)`` when ``word`` is a near miss of one of ``choices``, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""
