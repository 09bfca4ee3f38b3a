"""Reading a request's JSON body and its fields, with a 400 naming the field for anything malformed."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from .failures import BridgeError

#: JSON types as a message names them.
_TYPE_WORDS = {str: "a string", bool: "true or false", list: "a list", dict: "an object", int: "an integer",
               float: "a number"}


def invalid(field: str, problem: str) -> BridgeError:
    """A 400 for the field ``field`` (a dotted path such as ``messages[2].role``): "field 'x' PROBLEM"."""
    return BridgeError(400, f"field {field!r} {problem}")


async def read_object(request: Request) -> dict[str, Any]:
    """The request's body as a JSON object, or a 400 saying what is wrong with it."""
    body = await request.body()
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise BridgeError(400, f"the request body is not JSON ({exc}); send a JSON object") from None
    if not isinstance(value, dict):
        raise BridgeError(400, f"the request body is JSON {type(value).__name__}, not an object")
    return value


def kind_of(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def required(body: dict[str, Any], field: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    """``body[field]``, which must be there and of type ``kind``."""
    path = f"{where}{field}"
    if field not in body or body[field] is None:
        raise invalid(path, "is required")
    return expect(body[field], kind, path)


def optional(body: dict[str, Any], field: str, kind: type | tuple[type, ...], default: Any = None,
             where: str = "") -> Any:
    """``body[field]`` when present and not null (of type ``kind``), else ``default``."""
    value = body.get(field)
    return default if value is None else expect(value, kind, f"{where}{field}")


def expect(value: Any, kind: type | tuple[type, ...], path: str) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int in Python, not in JSON; a JSON integer is a number.
    wrong_bool = isinstance(value, bool) and bool not in kinds
    number = float in kinds and isinstance(value, int) and not isinstance(value, bool)
    if (not isinstance(value, kinds) or wrong_bool) and not number:
        expected = " or ".join(_TYPE_WORDS.get(k, k.__name__) for k in kinds)
        raise invalid(path, f"must be {expected}, not {kind_of(value)}")
    return value
