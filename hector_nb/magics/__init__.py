"""``%hector`` and ``%%hector``: a thin dispatcher over :class:`hector_nb.Session` and friends.

Each subcommand is one small function in a module of this package; settings
are traitlets, e.g. ``%config HectorMagics.timeout = 60``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any, cast

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from traitlets import Enum, Float, TraitError, validate

from ..errors import HectorError, PluginTimeout, ProviderError
from ..hector import FIDELITY_MODES, HECTOR
from ..sessions import Session
from . import check, evaluate, export, generate, plugins, provider, serve, vectors  # noqa: F401 - importing registers the subcommands
from .arguments import expand_variables, split_arguments
from .base import SUBCOMMANDS, MagicContext, did_you_mean


def _unknown_options(parser: argparse.ArgumentParser, argv: list[str]) -> str:
    """Did-you-mean hints for the ``--options`` in ``argv`` that ``parser`` does not know."""
    known = [option for action in parser._actions for option in action.option_strings]
    hints = []
    for token in argv:
        flag = token.split("=", 1)[0]
        if flag.startswith("--") and not any(option.startswith(flag) for option in known):
            hints.append(f"{flag} is not an option{did_you_mean(flag, known)}")
        elif flag.startswith("-") and not flag.startswith("--") and flag not in known and not _is_number(flag):
            hints.append(f"{flag} is not an option{did_you_mean(flag, known)}")
    return "; ".join(hints)


#: The positional arguments that take free text: words left over after one of them were meant for it.
_TEXT_ARGUMENTS = {"prompt", "text", "query"}


def _quote_hint(name: str, parser: argparse.ArgumentParser, argv: list[str], error: str) -> str:
    """For words left over after the arguments (an unquoted prompt), the same line with them quoted."""
    _, found, rest = error.partition("unrecognized arguments: ")
    extra = rest.split()
    takes_text = any(not action.option_strings and action.dest in _TEXT_ARGUMENTS for action in parser._actions)
    if not found or not extra or not takes_text or any(word.startswith("-") for word in extra):
        return ""
    start = max((i for i in range(len(argv)) if argv[i:i + len(extra)] == extra), default=0)
    if not start:
        return ""
    end = start + len(extra)
    words = argv[start - 1:end]  # the word the text argument took, and those left over
    if any('"' in word for word in words):
        return ""
    line = " ".join([name, *argv[:start - 1], '"' + " ".join(words) + '"', *argv[end:]])
    return f"; text of several words goes in quotes: %hector {line}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def overview() -> str:
    lines = ["%hector SUBCOMMAND [options]   (%hector SUBCOMMAND --help for its options)", ""]
    for name, command in SUBCOMMANDS.items():
        lines.append(f"  {name:<10} {command.summary}{'  [also %%hector]' if command.takes_cell else ''}")
    return "\n".join(lines)


#: IPython's decorators and Magics.__init__, which it leaves unannotated, with the types they have here.
_Method = Callable[["HectorMagics", str, "str | None"], Any]
_line_cell_magic = cast("Callable[[_Method], _Method]", line_cell_magic)
_no_var_expand = cast("Callable[[_Method], _Method]", no_var_expand)
_magics_init = cast("Callable[[Magics, Any], None]", Magics.__init__)

#: What each numeric setting counts, for its error message.
_UNITS = {"timeout": "seconds", "stream_fps": "redraws per second"}


def _drop_refused_settings(shell: Any) -> None:
    """Drop, with a warning, the HectorMagics values in the shell's config that HectorMagics refuses.

    ``%config`` merges a value into the shell's shared config even when this class refused it
    (the refusal is only logged), and every later ``%load_ext`` / ``%reload_ext`` would meet it
    and fail. Each value is tried on a bare instance, which applies the same checks.
    """
    section = getattr(shell, "config", {}).get("HectorMagics")
    if not section:
        return
    traits = HectorMagics.class_traits(config=True)
    probe = HectorMagics.__new__(HectorMagics)
    for name in [name for name in section if name in traits]:
        try:
            setattr(probe, name, section[name])
        except TraitError as refused:
            warnings.warn(f"{refused}; it stays {traits[name].default_value!r} (its default)", UserWarning,
                          stacklevel=4)
            del section[name]


@magics_class
class HectorMagics(Magics):
    """Build, run and compare Hector plugins from a notebook."""

    timeout = Float(30.0, help="Deadline of every plugin call, in seconds; a change applies to the plugins "
                                  "already loaded (in-kernel calls have none).").tag(config=True)
    # subprocess, as Session.load and the CLI start a built-in: its launcher beside its manifest, as Hector does.
    default_transport = Enum(["in-kernel", "in-process", "subprocess"], "subprocess",
                             help="How built-in providers run unless --subprocess/--in-kernel says.").tag(config=True)
    stream_fps = Float(20.0, help="Most redraws per second of a streaming generation.").tag(config=True)
    widgets = Enum(["auto", "always", "never"], "auto",
                   help="Stream into an ipywidget (auto: when running in a Jupyter kernel).").tag(config=True)
    fidelity = Enum(list(FIDELITY_MODES), HECTOR,
                    help="hector: config, roles, handshake and hector.yaml as real Hector treats them, with a "
                         "one-line warning where it differs; lenient: hector_nb's friendlier behaviour."
                    ).tag(config=True)

    @validate("timeout", "stream_fps")
    def _positive(self, proposal: Any) -> float:
        """Seconds and redraws per second are positive and finite: 0 would fail every call, or divide by zero."""
        value = float(proposal["value"])
        if not (0 < value < math.inf):
            name = proposal["trait"].name
            raise TraitError(f"HectorMagics.{name} must be a positive finite number ({_UNITS[name]}), got {value!r}; "
                             f"e.g. %config HectorMagics.{name} = {proposal['trait'].default_value:g}")
        return value

    def __init__(self, shell: Any, session: Session) -> None:
        _drop_refused_settings(shell)
        _magics_init(self, shell)
        self.session = session
        self.session.timeout = self.timeout
        self.observe(lambda change: setattr(self.session, "timeout", change["new"]), names="timeout")
        self.session.fidelity = self.fidelity
        self.observe(lambda change: setattr(self.session, "fidelity", change["new"]), names="fidelity")

    @_no_var_expand
    @_line_cell_magic
    def hector(self, line: str, cell: str | None = None) -> Any:
        """Build, run and compare Hector plugins: %hector --help lists the subcommands."""
        name, _, rest = line.strip().partition(" ")
        if name in ("", "-h", "--help", "help"):
            print(overview())
            return None
        if name not in SUBCOMMANDS:
            raise UsageError(f"unknown subcommand {name!r}{did_you_mean(name, SUBCOMMANDS)}; "
                             "%hector --help lists them")
        command = SUBCOMMANDS[name]
        if cell is not None and not command.takes_cell:
            raise UsageError(f"%%hector {name} takes no cell body; use the line magic %hector {name}")
        if rest.split(maxsplit=1)[:1] in (["-h"], ["--help"]):  # maxsplit: the rest may be a 2 MB prompt
            print(command.parser.format_help().strip())
            return None
        assert self.shell is not None  # magics run inside an IPython shell
        rest = expand_variables(rest, self.shell.user_ns, f"%hector {name}")
        try:
            argv = split_arguments(rest)  # a trailing # comment is not an argument
        except ValueError as exc:
            raise UsageError(f"%hector {name}: {exc} (check the quotes)") from None
        try:
            args = command.parser.parse_args(argv)
        except UsageError as exc:
            hints = _unknown_options(command.parser, argv)
            raise UsageError(f"%hector {name}: {hints}; %hector {name} --help lists the options" if hints
                             else str(exc) + _quote_hint(name, command.parser, argv, str(exc))) from None
        started = time.monotonic()
        try:
            return command.run(MagicContext(self.session, self.shell, self), args, cell)
        except HectorError as exc:
            if isinstance(exc, PluginTimeout) and exc.deadline is not None:  # a call's deadline: the magic's fixes
                raise UsageError(
                    f"plugin {exc.plugin!r}, {exc.operation}: no answer within {exc.deadline:g}s; for a longer "
                    f"deadline: %config HectorMagics.timeout = {max(60.0, 4 * exc.deadline):g} (it applies to "
                    f"every loaded plugin); what the plugin wrote: %hector logs {exc.plugin}") from exc
            # Chained, so the provider's own exception (its frames in the user's cell) stays one step
            # away: remember_cause() makes it what %tb shows next.
            raise UsageError(str(exc) + self._traceback_hint(exc, started)) from exc

    def _traceback_hint(self, error: HectorError, started: float) -> str:
        """Where the provider's traceback is, for an error the provider raised; chains its exception."""
        if not isinstance(error, ProviderError) or error.plugin not in self.session:
            return ""
        client = self.session.get(error.plugin)
        cause = client.failed_since(started)  # raised during this magic: what failed it
        if cause is not None:
            innermost: HectorError = error
            while isinstance(innermost.__cause__, HectorError):
                innermost = innermost.__cause__
            if innermost.__cause__ is None:
                innermost.__cause__ = cause
            return f" (traceback: %tb, or %hector logs {error.plugin})"
        if client.transport == "subprocess":
            return f" (what the plugin wrote: %hector logs {error.plugin})"
        return ""


def remember_cause(result: object) -> None:
    """After a cell whose %hector failed, make the underlying exception the shell's last one.

    IPython shows a UsageError as one line and records it as the last error, so
    ``%tb`` would show that line again. When the failure came from a provider
    that raised in this kernel, ``%tb`` shows the provider's traceback instead.
    Registered as a ``post_run_cell`` event, which runs after the error is shown.
    """
    error = getattr(result, "error_in_exec", None)
    if not isinstance(error, UsageError) or not isinstance(error.__cause__, HectorError):
        return
    cause = root_cause(error.__cause__)
    if cause is not None:
        sys.last_type, sys.last_value, sys.last_traceback = type(cause), cause, cause.__traceback__
        if sys.version_info >= (3, 12):
            sys.last_exc = cause


def root_cause(error: HectorError) -> BaseException | None:
    """The provider's own exception behind ``error``, when it was raised in this process."""
    cause = error.__cause__
    while cause is not None and isinstance(cause, HectorError):
        cause = cause.__cause__
    return cause if cause is not None and cause.__traceback__ is not None else None
