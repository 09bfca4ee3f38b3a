"""What the bridge was asked: one row per HTTP request, kept for ``bridge.log`` and ``%hector serve --log``."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas

#: The columns of :meth:`RequestLog.frame`, in order.
COLUMNS = ("time", "api", "model", "operation", "roles", "messages", "tools", "stream", "latency_ms", "status",
           "detail")


@dataclass(frozen=True)
class RequestRecord:
    """One answered request.

    ``api`` is ``ollama``, ``openai`` or another dialect's name; ``operation`` what
    was asked (``chat``, ``responses``, ``embed``, ``upsert``...); ``roles`` the
    roles of the messages as the API named them, in order; ``detail`` the error
    message of a failed request, or what else is worth reading (e.g. a collection).
    """

    api: str
    model: str
    operation: str
    status: int
    latency_ms: float
    roles: tuple[str, ...] = ()
    messages: int = 0
    tools: int = 0
    stream: bool = False
    detail: str = ""
    time: float = field(default_factory=time.time)


class RequestLog:
    """The bridge's requests, newest last; safe to record from any thread."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def record(self, api: str, model: str, operation: str, status: int, latency_ms: float, *,
               roles: Sequence[str] = (), messages: int = 0, tools: int = 0, stream: bool = False,
               detail: str = "") -> RequestRecord:
        """Add one request; the oldest are dropped past ``limit`` rows."""
        entry = RequestRecord(api, model, operation, status, latency_ms, tuple(roles), messages, tools, stream,
                              detail)
        with self._lock:
            self._records.append(entry)
            del self._records[:-self.limit]
        return entry

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def frame(self) -> pandas.DataFrame:
        """The requests as a DataFrame (columns :data:`COLUMNS`); ``time`` is a UTC timestamp."""
        import pandas

        rows = [asdict(entry) for entry in self.records()]
        frame = pandas.DataFrame(rows, columns=list(COLUMNS))
        frame["time"] = pandas.to_datetime(frame["time"], unit="s", utc=True)
        frame["roles"] = frame["roles"].map(lambda roles: ",".join(roles))
        return frame.astype({"messages": "int64", "tools": "int64", "stream": "bool", "status": "int64",
                             "latency_ms": "float64"})
