"""A persistent embedding cache keyed by (model id, hash of the text), in its own SQLite file, and
``CachedEmbedder``, which puts it in front of any embedder.

Re-saving an unchanged article, restarting, rebuilding the index or re-running the nightly job
then costs a lookup, not a model call.
"""

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from embeddings.embedder import Embedder, Vectors

_LOOKUP_CHUNK = 500  # keeps each query under SQLite's bound-parameter limit


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors by (model id, text hash). Safe to share between threads and processes."""

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(self._path, check_same_thread=False, timeout=30)
        with self._lock, self._connection:
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute(
                "CREATE TABLE IF NOT EXISTS vectors ("
                " model_id TEXT NOT NULL, text_hash TEXT NOT NULL, vector BLOB NOT NULL,"
                " PRIMARY KEY (model_id, text_hash))"
            )

    def get_many(self, model_id: str, hashes: Iterable[str]) -> dict[str, npt.NDArray[np.float32]]:
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, npt.NDArray[np.float32]] = {}
        with self._lock:
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = wanted[start : start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._connection.execute(
                    f"SELECT text_hash, vector FROM vectors"
                    f" WHERE model_id = ? AND text_hash IN ({marks})",
                    [model_id, *chunk],
                )
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model_id: str, vectors: Mapping[str, npt.NDArray[np.float32]]) -> None:
        rows = [
            (model_id, key, np.asarray(v, dtype=np.float32).tobytes()) for key, v in vectors.items()
        ]
        with self._lock, self._connection:
            self._connection.executemany(
                "INSERT OR REPLACE INTO vectors (model_id, text_hash, vector) VALUES (?, ?, ?)",
                rows,
            )

    def count(self, model_id: str | None = None) -> int:
        with self._lock:
            if model_id is None:
                row = self._connection.execute("SELECT COUNT(*) FROM vectors").fetchone()
            else:
                row = self._connection.execute(
                    "SELECT COUNT(*) FROM vectors WHERE model_id = ?", (model_id,)
                ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class CachedEmbedder:
    """An embedder that looks every text up in a persistent cache before computing it."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        self._inner = inner
        self._cache = cache
        self.computed = 0  # texts actually sent to the model: what the cache tests count

    @property
    def model_id(self) -> str:
        return self._inner.model_id

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._cached(texts, "query", self._inner.embed_queries)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return self._cached(texts, "document", self._inner.embed_documents)

    def _cached(
        self, texts: Sequence[str], role: str, compute: Callable[[Sequence[str]], Vectors]
    ) -> Vectors:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        keys = [text_hash(f"{role}\x00{t}") for t in texts]
        found = self._cache.get_many(self.model_id, keys)
        missing = [i for i, key in enumerate(keys) if key not in found]
        for i, key in enumerate(keys):
            if key in found:
                out[i] = found[key]
        if missing:
            # Identical texts in one call are embedded once.
            unique = list(dict.fromkeys(texts[i] for i in missing))
            vectors = compute(unique)
            self.computed += len(unique)
            by_text = dict(zip(unique, vectors, strict=True))
            for i in missing:
                out[i] = by_text[texts[i]]
            self._cache.put_many(
                self.model_id,
                {keys[i]: by_text[texts[i]] for i in missing},
            )
        return out
