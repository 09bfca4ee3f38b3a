"""YAML files (``hector.yaml``, ``.plugin.yaml``) read as Hector's Go side reads them, and bounded.

Hector parses YAML with go-yaml v3, which follows YAML 1.2's core schema: only
``true``/``True``/``TRUE`` and ``false``/``False``/``FALSE`` are booleans
(``yes``, ``no``, ``on``, ``off`` are text), ``null``/``~`` is null, and numbers
have no ``_`` separators nor sexagesimal forms. PyYAML's safe loader follows
YAML 1.1, where ``no`` is false; :class:`HectorLoader` resolves scalars as
go-yaml does instead. In ``hector.yaml``, Hector then decodes a boolean setting
(``enabled``, ``scan_subdirectories``) with mapstructure's weak typing:
:func:`setting_bool` is that rule.

Reads are bounded: only a regular file of at most :data:`MAX_FILE_BYTES` is
read (a FIFO would block the reader, ``/dev/zero`` never ends), and a document
whose aliases expand to more than :data:`MAX_NODES` nodes (a "billion laughs"
bomb), refers to itself or nests deeper than Python can walk is refused at
once, naming the file.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

#: The largest YAML file read (a real hector.yaml or manifest is a few kilobytes).
MAX_FILE_BYTES = 4 * 1024 * 1024
#: Nodes a document may expand to, aliases counted at every use (a real hector.yaml has hundreds).
MAX_NODES = 100_000

_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_NULL = re.compile(r"~|null|Null|NULL|")
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
#: strconv.ParseBool's spellings, which mapstructure applies to a text value of a boolean setting.
_PARSE_BOOL = {**dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
               **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False)}


class UnsafeYAML(yaml.YAMLError):
    """The document expands beyond :data:`MAX_NODES`, refers to itself, or nests too deeply."""


class HectorLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 core scalars (as go-yaml v3) and a bound on alias expansion."""

    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}

    def compose_document(self) -> Node | None:
        node = super().compose_document()
        if node is not None:
            _expanded_size(node, {}, set())
        return node

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = self.construct_scalar(node)
        base = {"0o": 8, "0x": 16}.get(text[:2], 10)
        return int(text[2:] if base != 10 else text, base)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        text = str(self.construct_scalar(node)).lower().lstrip("+")
        return float(text.replace(".inf", "inf").replace(".nan", "nan"))


for tag, pattern, first in (
    ("tag:yaml.org,2002:bool", _BOOL, "tTfF"),
    ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", _INT, "-+0123456789"),
    ("tag:yaml.org,2002:float", _FLOAT, "-+.0123456789"),
    ("tag:yaml.org,2002:merge", re.compile("<<"), "<"),
):
    HectorLoader.add_implicit_resolver(tag, re.compile(f"^(?:{pattern.pattern})$"), list(first))
HectorLoader.add_constructor("tag:yaml.org,2002:int", HectorLoader.construct_yaml_int)
HectorLoader.add_constructor("tag:yaml.org,2002:float", HectorLoader.construct_yaml_float)


class ManifestLoader(HectorLoader):
    """For ``.plugin.yaml``: Hector decodes its fields into Go strings, so a number keeps its text (``1.10``)."""


def _scalar_text(loader: ManifestLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]  # only scalars carry these tags


for tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
    ManifestLoader.add_constructor(tag, _scalar_text)


def _expanded_size(node: Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """Nodes ``node`` stands for once every alias is expanded; :class:`UnsafeYAML` past the bound."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise UnsafeYAML("an alias refers to the node that contains it (a recursive document)")
    open_nodes.add(key)
    size = 1
    if isinstance(node, SequenceNode):
        size += sum(_expanded_size(child, sizes, open_nodes) for child in node.value)
    elif isinstance(node, MappingNode):
        size += sum(_expanded_size(k, sizes, open_nodes) + _expanded_size(v, sizes, open_nodes)
                    for k, v in node.value)
    open_nodes.discard(key)
    if size > MAX_NODES:
        raise UnsafeYAML(f"its aliases expand to more than {MAX_NODES} nodes (a YAML alias bomb?); "
                         "write the values out, or use fewer aliases")
    sizes[key] = size
    return size


def read_bounded(file: Path, limit: int) -> bytes:
    """The bytes of ``file``, a regular file of at most ``limit`` bytes; ``OSError`` saying why otherwise.

    Opened without blocking and checked before reading: opening a FIFO for reading
    would wait for a writer, and a device such as ``/dev/zero`` never ends.
    """
    descriptor = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(descriptor, "rb") as stream:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, f"it is {_kind(mode)}, not a regular file; point to the file itself")
        data = stream.read(limit + 1)  # a file that grows while read is cut here too
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"it is larger than {limit // (1024 * 1024)} MB, far more than such a file "
                      "holds; point to the right file")
    return data


def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"


def load_yaml(file: Path, loader: type[HectorLoader] = HectorLoader) -> Any:
    """The document in ``file``, read as Hector reads it (``loader=ManifestLoader`` for a manifest).

    Raises :class:`yaml.YAMLError` (:class:`UnsafeYAML` for a bomb), ``OSError``
    (for a file that is not a regular file of at most :data:`MAX_FILE_BYTES` too)
    or ``UnicodeDecodeError``; callers turn them into their own one-line errors.
    """
    text = read_bounded(file, MAX_FILE_BYTES).decode("utf-8")
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise UnsafeYAML("it nests deeper than hector_nb reads; flatten it") from None


class NotABoolean(ValueError):
    """A boolean setting whose value Hector cannot read as a boolean."""


def setting_bool(value: Any, default: bool) -> bool:
    """A boolean setting of ``hector.yaml`` as Hector decodes it (mapstructure, weakly typed).

    A YAML boolean is itself; a number is true unless 0; text is read by Go's
    ``strconv.ParseBool`` (``1 t T TRUE true True``, ``0 f F FALSE false False``;
    empty text is false); a missing or null value is ``default``. Anything else,
    ``"no"`` and ``yes`` included, raises :class:`NotABoolean`, as Hector refuses it.
    """
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str) and (value == "" or value in _PARSE_BOOL):
        return _PARSE_BOOL.get(value, False)
    raise NotABoolean(f"{value!r} is not a boolean Hector reads; write true or false")
