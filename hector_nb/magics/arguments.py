"""A magic's text made into arguments: ``{var}`` filled in from the notebook, then split as a shell would.

Both run in one pass over the text, so a 2 MB prompt costs milliseconds. IPython's own
tools are quadratic here: its ``DollarFormatter`` looks ahead to the end of the text at
every ``$``, and ``shlex`` builds each argument a character at a time (minutes for a 2 MB
quoted prompt on this machine).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError

#: ``{{``, ``}}``, a ``{field}`` or a lone brace (an error); each alternative starts with its brace, so the
#: regex engine skips straight from brace to brace.
_BRACES = r"\{(?:\{|([^{}]*)\})?|\}\}?"
_BRACES_ONLY = re.compile(_BRACES)
#: ... and ``$$name``, ``$name.attr``, a ``$`` alone (kept), and single quotes (``$name`` is not filled in
#: between them, as in IPython). Without a ``$`` in the text, quotes need no tracking.
_PLACEHOLDERS = re.compile(_BRACES + r"|\$(?:\$(?=[\w.])|([A-Za-z_][\w.]*))?|'")
_CONVERSIONS: dict[str, Callable[[Any], str]] = {"r": repr, "s": str, "a": ascii}


def expand_variables(text: str, namespace: dict[str, Any], where: str) -> str:
    """``{expression}`` and ``$name`` replaced from the notebook's variables, as IPython does, but strictly.

    ``{expression}`` is evaluated in the notebook's namespace (``{name}``, ``{df.shape}``,
    ``{items[0]}``; ``!r`` at its end shows the ``repr``); ``$name`` and ``$name.attr`` outside
    single quotes take a variable, ``$$name`` is ``$name``. IPython leaves ``{name}`` as it is when
    ``name`` is undefined, so a typo would be sent to the plugin as text; here it is an error
    naming the variable. ``{{`` and ``}}`` stand for literal braces. One pass: linear in the text.
    """
    if "{" not in text and "}" not in text and "$" not in text:
        return text
    pieces: list[str] = []
    start = 0
    quoted = False
    for match in (_PLACEHOLDERS if "$" in text else _BRACES_ONLY).finditer(text):
        token = match.group()
        if token == "'":
            quoted = not quoted
            continue
        if token == "$" or token.startswith("$") and quoted:
            continue
        pieces.append(text[start:match.start()])
        start = match.end()
        if token in ("{{", "}}", "$$"):
            pieces.append(token[0])
        elif match.lastindex:  # a {field} (group 1) or a $name (group 2)
            pieces.append(_evaluate(match.group(match.lastindex), namespace, where))
        else:
            raise UsageError(f"{where}: a single {token!r} in the text; write {token * 2} for a literal brace, "
                             "or {name} to fill in a variable")
    pieces.append(text[start:])
    return "".join(pieces)


def _evaluate(field: str, namespace: dict[str, Any], where: str) -> str:
    expression, convert = field, _CONVERSIONS["s"]
    if len(field) > 2 and field[-2] == "!" and field[-1] in _CONVERSIONS:
        expression, convert = field[:-2], _CONVERSIONS[field[-1]]
    try:
        return convert(eval(expression, namespace))  # noqa: S307 - the user's own notebook expression, as IPython does
    except NameError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        raise UsageError(f"{where} uses {{{missing}}}, but no variable {missing!r} is defined in the notebook; "
                         f"define it in a cell first, or write {{{{{missing}}}}} for literal braces") from None
    except Exception as exc:  # noqa: BLE001 - any expression that does not evaluate: say which text and why
        raise UsageError(f"{where}: cannot fill in {{{field}}} ({type(exc).__name__}: {exc}); write {{{{ and }}}} "
                         "for literal braces") from None


#: One piece of an argument, as a POSIX shell (and ``shlex.split(text, comments=True)``) reads it.
_PIECE = re.compile(r"""(?P<space>[ \t\r\n]+)|(?P<comment>\#[^\n]*)|'(?P<single>[^']*)'
                        |"(?P<double>[^"\\]*(?:\\.[^"\\]*)*)"|\\(?P<escaped>.)|(?P<word>[^ \t\r\n'"\\\#]+)
                        |(?P<open>["'])|(?P<dangling>\\)""", re.S | re.X)
_DOUBLE_QUOTED_ESCAPE = re.compile(r'\\(["\\])')


def split_arguments(text: str) -> list[str]:
    """``text`` split into arguments exactly as ``shlex.split(text, comments=True)`` does, in one pass.

    Raises ValueError as shlex does: "No closing quotation", "No escaped character".
    """
    arguments: list[str] = []
    current: list[str] | None = None  # None between arguments; [] after an empty pair of quotes
    for match in _PIECE.finditer(text):
        kind = match.lastgroup or ""
        if kind in ("space", "comment"):
            if current is not None:
                arguments.append("".join(current))
                current = None
            continue
        if kind == "open":
            raise ValueError("No closing quotation")
        if kind == "dangling":
            raise ValueError("No escaped character")
        piece = match.group(kind)
        if kind == "double":
            piece = _DOUBLE_QUOTED_ESCAPE.sub(r"\1", piece)
        if current is None:
            current = []
        current.append(piece)
    if current is not None:
        arguments.append("".join(current))
    return arguments
