"""A search hit as every built-in database returns it: its text where each of Hector's readers looks.

Hector reads a hit's text in two places (docs/protocol.md, "What real Hector
does"): an agent's ``search`` tool reads ``metadata["content"]``, the
``include_context`` prompt path reads ``SearchResult.content``. A hit carries it
in both; a chunk stored with ``text`` metadata only gets ``content`` from it.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import sdk


def search_result(id: str, score: float, metadata: Mapping[str, str]) -> sdk.SearchResult:
    """The hit ``id`` with its text in ``content`` and in ``metadata["content"]`` (from ``content`` or ``text``)."""
    text = metadata.get("content", metadata.get("text", ""))
    carried = dict(metadata) if "content" in metadata or not text else {**metadata, "content": text}
    return sdk.SearchResult(id=id, score=score, metadata=carried, content=text)
