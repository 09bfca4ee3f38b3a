"""The options of hector_nb's commands, each defined once: the ``%hector`` magic and ``python -m hector_nb``
build their parsers from the same :class:`Option` tables, so a shared option (``--set``, ``--only``,
``--port``...) reads and is documented the same in a notebook and in a terminal.

A command's table is a sequence of :class:`Option` and :class:`OneOf` (options that exclude each other);
:func:`add_options` adds it to an ``argparse`` parser. Nothing here imports IPython.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar


@dataclass(frozen=True)
class Option:
    """One argument, as ``argparse``'s ``add_argument(*flags, **settings)`` takes it."""

    flags: tuple[str, ...]
    settings: dict[str, Any]

    def add_to(self, parser: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup) -> None:
        parser.add_argument(*self.flags, **self.settings)


@dataclass(frozen=True)
class OneOf:
    """Options of which at most one may be given."""

    options: tuple[Option, ...]


Options = Sequence[Option | OneOf]


def option(*flags: str, **settings: Any) -> Option:
    """An :class:`Option`: ``option("--port", type=int, help=...)`` as ``add_argument`` would take it."""
    return Option(flags, settings)


Parser = TypeVar("Parser", bound=argparse.ArgumentParser)


def add_options(parser: Parser, options: Options) -> Parser:
    """``parser`` with every option of the table added, in order; returns it."""
    for item in options:
        if isinstance(item, OneOf):
            group = parser.add_mutually_exclusive_group()
            for member in item.options:
                member.add_to(group)
        else:
            item.add_to(parser)
    return parser


#: ``--set KEY=VALUE``: read by :func:`hector_nb.config.parse_settings`, values are text.
SET = option("--set", action="append", default=[], metavar="KEY=VALUE",
             help="a config value passed to Initialize, as text, as Hector passes it (repeatable)")

#: ``check``: the conformance checks to run.
ONLY = option("--only", action="append", metavar="CHECK", help="run only this check (repeatable)")

#: ``export``: where and how a provider is written as a plugin (the magic and the command line).
EXPORT = (
    option("--out", required=True, help="directory to write the plugin into"),
    option("--version", help="manifest version (default: the class's)"),
    option("--author"),
    option("--description"),
    option("--requirement", action="append", default=[], metavar="PKG",
           help="extra requirement for requirements.txt (repeatable)"),
    OneOf((option("--python", help="the launcher's interpreter line (default: the Python running hector_nb, "
                                   "which has the provider's packages; Hector's PATH may not lead to it)"),
           option("--venv", action="store_true",
                  help="create NAME.venv beside the launcher with the requirements installed, and name its "
                       "Python"))),
)

#: ``serve``: where the bridge listens, and how.
SERVE = (
    option("--port", type=int, default=0, help="the port to listen on (default: a free one)"),
    option("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1; any other needs "
                                               "--api-key)"),
    option("--api-key", help="a key every request must send as 'Authorization: Bearer KEY'"),
    option("--tls", action="store_true", help="serve HTTPS with a certificate made on the fly (Hector v1's vector "
                                              "store works only over TLS); prints the certificate's path"),
)
