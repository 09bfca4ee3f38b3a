"""A bounded per-plugin log of what a plugin wrote: stray stdout, stderr, GRPCStdio."""

from __future__ import annotations

import collections
import threading

DEFAULT_LINES = 2000


class PluginLog:
    """The last ``max_lines`` lines a plugin produced, each tagged with where it came from."""

    def __init__(self, max_lines: int = DEFAULT_LINES) -> None:
        self._lines: collections.deque[str] = collections.deque(maxlen=max_lines)
        self._lock = threading.Lock()

    def add(self, source: str, text: str) -> None:
        with self._lock:
            for line in text.splitlines():
                self._lines.append(f"[{source}] {line}")

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)

    def tail(self, count: int = 20, source: str | None = None) -> str:
        """The last ``count`` lines (of one ``source`` when given), joined for an error message."""
        lines = self.lines()
        if source is not None:
            lines = [line for line in lines if line.startswith(f"[{source}]")]
        return "\n".join(lines[-count:])
