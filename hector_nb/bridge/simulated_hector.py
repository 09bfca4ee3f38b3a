"""Hector's document store and ``milvus`` vector-store client, reproduced in Python (Hector cannot run here).

What goes over the wire is what real Hector v1.9.9 and v2.0.2 sent (CONTRACT section 7):
one ``POST /api/v1/entities`` per chunk, ids ``{absolute path}:chunk:{n}`` (v2) or the
UUID version 3 of ``{store}:{relative path}:chunk:{n}`` (v1), every metadata key as a
top-level field (v1 adds ``collection`` and ``store_name``), a search asking twice the
hits it needs with ``metric_type: COSINE`` and a filter of ``key == "value"`` terms
joined by ``and`` (v1 always filters on ``collection``), deletes by ids or by filter.
What Hector keeps of a search is reproduced too: ranked by score, hits under the
threshold dropped. Its chunking is not: one chunk per paragraph here, which changes
no shape. It serves the tests and the store-bridge notebook; it is no Hector.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import hector


class VectorStoreError(Exception):
    """A non-2xx answer, worded as Hector's milvus client words it: ``status N, body: ...``."""

    def __init__(self, operation: str, status: int, body: str) -> None:
        super().__init__(f"failed to {operation}: status {status}, body: {body}")
        self.status = status
        self.body = body


def chunk_id(version: int, store: str, folder: Path, path: Path, index: int) -> str:
    """The id Hector gives chunk ``index`` of ``path`` (v1: a name-based UUID; v2: the path and index)."""
    if version >= 2:
        return f"{path.resolve()}:chunk:{index}"
    # Go: uuid.NewMD5(uuid.Nil, md5.Sum([]byte(text))): MD5 of the nil namespace and the text's digest.
    digest = hashlib.md5(f"{store}:{path.relative_to(folder).as_posix()}:chunk:{index}".encode()).digest()
    return str(uuid.UUID(bytes=hashlib.md5(uuid.UUID(int=0).bytes + digest).digest()[:16], version=3))


def filter_expr(wanted: Mapping[str, str]) -> str:
    """A filter as Hector's milvus client writes it: ``key == "value"`` terms joined by ``and``."""
    return " and ".join(f'{key} == "{value}"' for key, value in wanted.items())


class HectorVectorStore:
    """Hector's ``type: milvus`` vector-store client: one HTTP request per call, shaped as Hector shapes it."""

    def __init__(self, url: str, ca_certificate: str | None = None, api_key: str | None = None,
                 timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self._tls = ssl.create_default_context(cafile=ca_certificate) if ca_certificate else None

    def _send(self, operation: str, method: str, path: str, body: Mapping[str, Any]) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", data=json.dumps(body).encode(), method=method,
                                         headers={"Content-Type": "application/json"})
        if self.api_key:
            request.add_header("Authorization", f"Bearer {self.api_key}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=self._tls) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise VectorStoreError(operation, exc.code, exc.read().decode(errors="replace")) from None

    def upsert(self, collection: str, id: str, vector: list[float], metadata: Mapping[str, Any]) -> None:
        row = {"id": id, "vector": [float(v) for v in vector], **metadata}
        self._send("upsert", "POST", "/api/v1/entities", {"collection_name": collection, "data": [row]})

    def search(self, collection: str, vector: list[float], top_k: int,
               wanted: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """The answer's results as Hector reads them: ``distance`` turned into ``1 - distance``, best first."""
        body: dict[str, Any] = {"collection_name": collection, "vector": [float(v) for v in vector],
                                "top_k": top_k, "metric_type": "COSINE"}
        if wanted:
            body["expr"] = filter_expr(wanted)
        results = self._send("search", "POST", "/api/v1/search", body).get("results") or []
        for result in results:
            if "distance" in result:
                result["score"] = 1.0 - result.pop("distance")
        return sorted(results, key=lambda result: -result.get("score", 0.0))

    def delete(self, collection: str, ids: list[str]) -> None:
        self._send("delete", "DELETE", "/api/v1/entities", {"collection_name": collection, "ids": ids})

    def delete_by_filter(self, collection: str, wanted: Mapping[str, str]) -> None:
        self._send("delete by filter", "DELETE", "/api/v1/entities",
                   {"collection_name": collection, "expr": filter_expr(wanted)})


@dataclass
class HectorDocumentStore:
    """Hector's document store over a folder of text files: index, search as an agent's search tool, remove.

    ``embed`` turns one text into a vector (Hector asks its embedder one text per
    request). ``version`` 1 or 2 chooses the id form, the metadata and the filter.
    ``errors`` counts failed upserts, which v2 itself does not report.
    """

    name: str
    folder: Path
    store: HectorVectorStore
    embed: Callable[[str], list[float]]
    version: int = 2
    collection: str = ""
    threshold: float = hector.SEARCH_THRESHOLD
    errors: int = 0

    def __post_init__(self) -> None:
        self.folder = Path(self.folder).resolve()
        self.collection = self.collection or self.name

    def chunks(self, path: Path) -> list[tuple[str, dict[str, Any]]]:
        """``(id, metadata)`` of each chunk of ``path``: a paragraph, with the metadata keys Hector writes."""
        text = path.read_text()
        paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
        relative, stat, now = path.relative_to(self.folder).as_posix(), path.stat(), int(time.time())
        rows, line = [], 1
        for index, paragraph in enumerate(paragraphs):
            lines = paragraph.count("\n") + 1
            metadata: dict[str, Any] = {
                "content": paragraph, "path": relative if self.version < 2 else str(path), "rel_path": relative,
                "absolute_path": str(path), "source_path": str(path), "source_type": "directory",
                "name": path.name, "title": path.name, "type": "text", "language": "text",
                "extractor": "TextExtractor", "chunk_index": index, "chunk_total": len(paragraphs),
                "start_line": line, "end_line": line + lines - 1, "size": stat.st_size,
                "last_modified": int(stat.st_mtime), "indexed_at": now, "ingested_at": now,
            }
            if self.version < 2:
                metadata.update(collection=self.collection, store_name=self.name)
            rows.append((chunk_id(self.version, self.name, self.folder, path, index), metadata))
            line += lines + 1
        return rows

    def index(self) -> int:
        """Upsert every chunk of every ``.txt`` and ``.md`` file, one request each; returns how many arrived."""
        written = 0
        for path in sorted(p for p in self.folder.rglob("*") if p.suffix in (".txt", ".md")):
            for id, metadata in self.chunks(path):
                try:
                    self.store.upsert(self.collection, id, self.embed(metadata["content"]), metadata)
                    written += 1
                except VectorStoreError:
                    self.errors += 1  # v2 logs nothing and reports the file as indexed
        return written

    def search(self, query: str, limit: int = 10) -> list[dict[str, Any]]:
        """What an agent's ``search`` tool shows: twice ``limit`` asked, filtered, thresholded, ``limit`` kept."""
        wanted = {"collection": self.collection} if self.version < 2 else None
        try:
            results = self.store.search(self.collection, self.embed(query), 2 * limit, wanted)
        except VectorStoreError:
            return []  # Hector logs a failed search as a warning and shows no hits
        if self.version < 2:
            results = [r for r in results if r.get("store_name") == self.name]
        return [r for r in results if r.get("score", 0.0) >= self.threshold][:limit]

    def remove(self, path: Path) -> None:
        """Forget a file: its chunks deleted by filter on ``source_path``."""
        self.store.delete_by_filter(self.collection, {"source_path": str(Path(path).resolve())})
