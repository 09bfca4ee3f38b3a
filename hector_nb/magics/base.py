"""What every ``%hector`` subcommand gets, and how subcommands register themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError

from ..errors import WrongPluginType
from ..host.clients import PluginClient
from ..sessions import Session

#: name -> (function, takes a cell body)
SUBCOMMANDS: dict[str, tuple[Callable[..., Any], bool]] = {}


def subcommand(name: str, cell: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``function(ctx, args, cell)`` as ``%hector NAME`` (and ``%%hector NAME`` when ``cell``)."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        SUBCOMMANDS[name] = (function, cell)
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

    def client(self, name: str, plugin_type: str) -> PluginClient:
        """The plugin ``name``, checked to be of ``plugin_type``."""
        client = self.session.get(name)
        if client.plugin_type != plugin_type:
            raise WrongPluginType(name, "use", f"is a {client.plugin_type}, but this needs a {plugin_type}; "
                                  "pass another plugin (see %hector list)")
        return client


def parse_settings(pairs: list[str] | None) -> dict[str, str]:
    """``["key=value", ...]`` from repeated ``--set`` options."""
    config = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--set takes key=value, got {pair!r}")
        config[key.strip()] = value
    return config
