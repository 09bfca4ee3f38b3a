"""A bounded per-plugin log of what a plugin wrote: stray stdout, stderr, GRPCStdio."""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable

import grpc
from google.protobuf import empty_pb2

from ..plugin._wire import grpc_stdio_pb2, grpc_stdio_pb2_grpc

DEFAULT_LINES = 2000
#: Characters the log keeps at most: a plugin writing without end must not grow its host.
DEFAULT_CHARACTERS = 4 * 1024 * 1024
#: A longer line is cut (a plugin may write megabytes without a newline).
MAX_LINE_CHARACTERS = 8192


def cut(line: str) -> str:
    """``line``, shortened to :data:`MAX_LINE_CHARACTERS` with a note of how much was cut."""
    if len(line) <= MAX_LINE_CHARACTERS:
        return line
    return f"{line[:MAX_LINE_CHARACTERS]} ... [{len(line) - MAX_LINE_CHARACTERS} more characters cut]"


class PluginLog:
    """The last ``max_lines`` lines a plugin produced (``max_characters`` at most), each tagged with its source."""

    def __init__(self, max_lines: int = DEFAULT_LINES, max_characters: int = DEFAULT_CHARACTERS) -> None:
        self._lines: collections.deque[str] = collections.deque()
        self._max_lines = max_lines
        self._max_characters = max_characters
        self._characters = 0
        self._lock = threading.Lock()

    def add(self, source: str, text: str) -> None:
        with self._lock:
            for line in text.splitlines():
                entry = f"[{source}] {cut(line)}"
                self._lines.append(entry)
                self._characters += len(entry)
                while len(self._lines) > self._max_lines or self._characters > self._max_characters:
                    self._characters -= len(self._lines.popleft())

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)

    def tail(self, count: int = 20, source: str | None = None) -> str:
        """The last ``count`` lines (of one ``source`` when given), joined for an error message."""
        lines = self.lines()
        if source is not None:
            lines = [line for line in lines if line.startswith(f"[{source}]")]
        return "\n".join(lines[-count:])


def read_stdio(channel: grpc.Channel, each: Callable[[grpc_stdio_pb2.StdioData], None]) -> None:
    """Pass each message of the plugin's GRPCStdio stream to ``each`` until the stream ends, as go-plugin's
    host reads it: the channel closing, or a plugin without the service, ends it quietly."""
    try:
        for data in grpc_stdio_pb2_grpc.GRPCStdioStub(channel).StreamStdio(empty_pb2.Empty()):
            each(data)
    except grpc.RpcError:
        pass
