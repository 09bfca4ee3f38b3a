"""Each command's options are defined once: the %hector magic and python -m hector_nb parse them alike."""

from __future__ import annotations

import argparse

import pytest
from IPython.core.error import UsageError

from hector_nb.__main__ import parser
from hector_nb.magics.base import SUBCOMMANDS
from hector_nb.options import EXPORT, ONLY, SERVE, SET, OneOf, Option


def command_line(name: str) -> argparse.ArgumentParser:
    [subparsers] = [action for action in parser()._actions if isinstance(action, argparse._SubParsersAction)]
    return subparsers.choices[name]


def flattened(options) -> list[Option]:
    return [member for item in options for member in (item.options if isinstance(item, OneOf) else (item,))]


def described(parser: argparse.ArgumentParser, flag: str) -> tuple[object, ...]:
    [action] = [action for action in parser._actions if flag in action.option_strings]
    return type(action), action.help, action.default, action.metavar, action.type, action.required


@pytest.mark.parametrize("command, shared", [("export", EXPORT), ("serve", SERVE), ("check", [ONLY])])
def test_a_command_of_both_reads_its_shared_options_alike(command, shared):
    for option in flattened(shared):
        flag = option.flags[0]
        assert described(SUBCOMMANDS[command].parser, flag) == described(command_line(command), flag), flag


def test_set_is_one_option_everywhere_it_is_taken():
    parsers = [SUBCOMMANDS["load"].parser, SUBCOMMANDS["provider"].parser, command_line("check"),
               command_line("serve")]
    assert [described(each, "--set") for each in parsers] == [described(command_line("check"), SET.flags[0])] * 4


def test_exclusive_options_are_exclusive_in_both():
    with pytest.raises(UsageError, match="argument --venv: not allowed with argument --python"):
        SUBCOMMANDS["export"].parser.parse_args(["p", "--out", "o", "--python", "/usr/bin/python3", "--venv"])
    with pytest.raises(SystemExit):
        command_line("export").parse_args(["m:C", "--out", "o", "--python", "/usr/bin/python3", "--venv"])
