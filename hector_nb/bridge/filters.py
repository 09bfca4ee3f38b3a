"""The ``expr`` of Hector's vector-store requests: ``key == "value"`` terms joined by ``and``.

Hector's milvus client writes a filter map as ``key == "value"`` terms, at most two,
joined by ``and`` (``(a == "x" && b == "y")`` in some of its source versions); its
document store means string equality on metadata, as it applies to a plugin's hits
itself (:func:`hector_nb.hector.select_hits`). Both spellings are read here; ``id``
names the row's id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_VALUE = r'"(?P<double>(?:[^"\\]|\\.)*)"|\'(?P<single>(?:[^\'\\]|\\.)*)\''
_TERM = re.compile(rf"\s*(?P<key>[A-Za-z_][\w.]*)\s*==\s*(?:{_VALUE})\s*")
_JOIN = re.compile(r"(?:and|AND|&&)(?=[\s(\"']|$)")
_ESCAPE = re.compile(r"\\(.)")


class FilterError(ValueError):
    """An ``expr`` that is not ``key == "value"`` terms joined by ``and``."""


def parse(expr: str) -> dict[str, str]:
    """``expr`` as the metadata filter it means: ``{key: value}``.

    >>> parse('collection == "docs" and store_name == "docs"')
    {'collection': 'docs', 'store_name': 'docs'}
    """
    text = expr.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    wanted: dict[str, str] = {}
    position = 0
    while True:
        term = _TERM.match(text, position)
        if term is None:
            raise FilterError(f"cannot read the filter {expr!r} at {text[position:position + 30]!r}: Hector's "
                              'vector store filters are key == "value" terms joined by and')
        value = term["double"] if term["double"] is not None else term["single"]
        key = term["key"]
        if key in wanted and wanted[key] != _ESCAPE.sub(r"\1", value):
            raise FilterError(f"the filter {expr!r} asks {key} to equal two values; no row can match")
        wanted[key] = _ESCAPE.sub(r"\1", value)
        position = term.end()
        if position == len(text):
            return wanted
        join = _JOIN.match(text, position)
        if join is None:
            raise FilterError(f"cannot read the filter {expr!r} at {text[position:position + 30]!r}: terms are "
                              "joined by and (or &&)")
        position = join.end()


def matches(wanted: Mapping[str, str], id: str, metadata: Mapping[str, str]) -> bool:
    """Whether a row passes the filter: each key's metadata text equals the value (``id``: the row's id)."""
    return all((id if key == "id" else metadata.get(key)) == value for key, value in wanted.items())
