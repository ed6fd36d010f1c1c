"""Exact hybrid search in memory: every point scored, no approximate index, no payload filter.

Qdrant's local mode evaluates payload filters in Python (~77 ms per filtered search at 10,000
points, ~900 ms at 100,000), so on the embedded default the searches run here instead, over a copy
of the points held as numpy arrays: a dense matrix (one row per point) and an inverted index of the
BM25 term weights. Scoring 60,000 passages exactly takes a few milliseconds.

The copy is kept in step point by point. A new point is appended (the arrays grow by doubling); a
changed or deleted point's old row becomes a tombstone, skipped by every search, and the rows are
compacted once tombstones are a quarter of them. So a write costs about what it writes, never a
rebuild of the whole copy.

Dense and keyword scores are fused as ``(1 - w) * cosine + w * keyword`` (``fuse``), the keyword
score being BM25 (Qdrant's IDF formula, computed over the live points of the table) divided by the
best score the query could reach, so it lies in [0, 1] (``keyword_ceiling``).
"""

import threading
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
from threadpoolctl import ThreadpoolController

from embeddings.points import Hit, IndexPoint, Kind, Query
from embeddings.text import BM25_K1, SparseVector

# hybrid = (1 - w) * cosine + w * keyword, keyword in [0, 1]
DEFAULT_KEYWORD_WEIGHT = 0.7
_QUERY_CHUNK = 256  # queries scored together in one matrix product (bounds the score matrix)
_SINGLE_THREAD_ROWS = 20_000  # smaller tables are scored on one BLAS thread (``_cosines``)
_SMALL_BATCH = 4  # below this many queries, one matrix-vector product each (``_cosines``)
_MIN_COMPACTION = 1_024  # tombstones tolerated before a compaction is considered


class _Entry(NamedTuple):
    """What a row keeps of its point besides the vectors (which live in the arrays)."""

    point_id: str
    kind: Kind
    record_id: int
    owner_id: int
    passage: int
    text: str
    text_hash: str
    terms: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float32]


class Searcher(Protocol):
    """What the engine needs from an index: hybrid search within one workspace and kind.

    Implementations subclass it and write ``search_many``; ``search`` comes with it.
    """

    def search_many(
        self,
        workspace_id: int,
        kind: Kind,
        queries: Sequence[Query],
        *,
        limit: int,
        keyword_weight: float = DEFAULT_KEYWORD_WEIGHT,
        record_ids: set[int] | None = None,
    ) -> list[list[Hit]]:
        """For each query, its ``limit`` best points (best first); ``record_ids`` limits the
        search to those records' points."""
        ...

    def search(
        self,
        workspace_id: int,
        kind: Kind,
        dense: npt.NDArray[np.float32],
        keywords: SparseVector,
        *,
        limit: int,
        keyword_weight: float = DEFAULT_KEYWORD_WEIGHT,
        record_ids: set[int] | None = None,
    ) -> list[Hit]:
        """One query's ``limit`` best points, best first (``search_many`` for one query)."""
        return self.search_many(
            workspace_id,
            kind,
            [Query(dense, keywords)],
            limit=limit,
            keyword_weight=keyword_weight,
            record_ids=record_ids,
        )[0]


def fuse(dense: Any, keyword: Any, weight: float) -> Any:
    """The hybrid score: a convex mix of cosine similarity and the normalised keyword score."""
    return (1.0 - weight) * dense + weight * keyword


def keyword_ceiling(query_weights: Mapping[int, float], idf: Mapping[int, float]) -> float:
    """The best BM25 a document could reach for the query: every term saturated (k1 + 1).

    ``query_weights`` are the query's terms, each with how often the query says it; ``idf``
    holds the weights of the terms the table knows. Every term counts towards the ceiling, so a
    query half of whose words are unknown cannot reach 1.
    """
    if not idf:
        return 1.0
    ceiling = sum(query_weights.values()) * max(idf.values()) * (BM25_K1 + 1)
    reachable = sum(query_weights[term] * term_idf for term, term_idf in idf.items())
    return max(ceiling, reachable * (BM25_K1 + 1) / 2)


def bm25_idf(live: int, document_frequency: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """BM25's IDF, the same formula as Qdrant's IDF modifier."""
    n = float(live)
    return np.log(1.0 + (n - document_frequency + 0.5) / (document_frequency + 0.5)).astype(
        np.float32
    )


class _Postings:
    """The rows holding one term and the term's weight in each: growable numpy arrays."""

    __slots__ = ("rows", "size", "values")

    def __init__(self) -> None:
        self.rows = np.zeros(4, np.int64)
        self.values = np.zeros(4, np.float32)
        self.size = 0

    def extend(self, rows: npt.NDArray[np.int64], values: npt.NDArray[np.float32]) -> None:
        end = self.size + len(rows)
        if end > len(self.rows):
            capacity = max(end, 2 * len(self.rows))
            self.rows = np.resize(self.rows, capacity)
            self.values = np.resize(self.values, capacity)
        self.rows[self.size : end] = rows
        self.values[self.size : end] = values
        self.size = end


class _Table:
    """The points of one workspace and one kind."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.size = 0  # rows used, live or tombstone
        self.live = 0
        self.dense = np.zeros((16, dimension), np.float32)
        self.alive = np.zeros(16, bool)
        self.record_ids = np.zeros(16, np.int64)
        self.entries: list[_Entry | None] = []
        self.row_of: dict[str, int] = {}
        self.postings: dict[int, _Postings] = {}
        self.document_frequency: dict[int, int] = {}

    def add(self, points: Sequence[IndexPoint]) -> None:
        self._append(
            [
                _Entry(
                    p.id,
                    p.kind,
                    p.record_id,
                    p.owner_id,
                    p.passage,
                    p.text,
                    p.text_hash,
                    p.keywords.indices,
                    p.keywords.values,
                )
                for p in points
            ],
            [p.dense for p in points],
        )

    def _append(
        self, entries: Sequence[_Entry], vectors: Sequence[npt.NDArray[np.float32]]
    ) -> None:
        latest = {e.point_id: i for i, e in enumerate(entries)}  # the last write of an id wins
        keep = sorted(latest.values())
        entries, vectors = [entries[i] for i in keep], [vectors[i] for i in keep]
        self.remove(latest)
        if not entries:
            return
        first, end = self.size, self.size + len(entries)
        self._reserve(end)
        self.dense[first:end] = np.vstack(vectors)
        self.alive[first:end] = True
        self.record_ids[first:end] = [e.record_id for e in entries]
        for row, entry in enumerate(entries, start=first):
            self.row_of[entry.point_id] = row
        self.entries.extend(entries)
        self.size, self.live = end, self.live + len(entries)

        lengths = [len(e.terms) for e in entries]
        if not sum(lengths):
            return
        terms = np.concatenate([e.terms for e in entries])
        weights = np.concatenate([e.weights for e in entries])
        rows = np.repeat(np.arange(first, end, dtype=np.int64), lengths)
        order = np.argsort(terms, kind="stable")
        terms, weights, rows = terms[order], weights[order], rows[order]
        unique, starts, counts = np.unique(terms, return_index=True, return_counts=True)
        for term, start, count in zip(
            unique.tolist(), starts.tolist(), counts.tolist(), strict=True
        ):
            postings = self.postings.get(term)
            if postings is None:
                postings = self.postings[term] = _Postings()
            postings.extend(rows[start : start + count], weights[start : start + count])
            self.document_frequency[term] = self.document_frequency.get(term, 0) + count

    def remove(self, point_ids: Iterable[str]) -> None:
        for pid in point_ids:
            row = self.row_of.pop(pid, None)
            if row is None:
                continue
            entry = self.entries[row]
            assert entry is not None
            for term in entry.terms.tolist():
                self.document_frequency[term] -= 1
            self.alive[row] = False
            self.entries[row] = None
            self.live -= 1
        if self.size - self.live > max(_MIN_COMPACTION, self.size // 4):
            self._compact()

    def _reserve(self, rows: int) -> None:
        if rows <= len(self.alive):
            return
        capacity = max(rows, 2 * len(self.alive))
        dense = np.zeros((capacity, self.dimension), np.float32)
        dense[: self.size] = self.dense[: self.size]
        self.dense = dense
        self.alive = np.resize(self.alive, capacity)
        self.alive[self.size :] = False
        self.record_ids = np.resize(self.record_ids, capacity)

    def _compact(self) -> None:
        """Rewrite the live rows without the tombstones."""
        rows = [row for row, e in enumerate(self.entries) if e is not None]
        entries = [self.entries[row] for row in rows]
        vectors = list(self.dense[rows])
        fresh = _Table(self.dimension)
        fresh._append([e for e in entries if e is not None], vectors)
        self.__dict__.update(fresh.__dict__)

    def idf(self, terms: Sequence[int]) -> dict[int, float]:
        """IDF of each of ``terms`` that some live point holds."""
        known = [t for t in terms if self.document_frequency.get(t, 0) > 0]
        frequency = np.array([self.document_frequency[t] for t in known], np.float32)
        return dict(zip(known, bm25_idf(self.live, frequency).tolist(), strict=True))

    def keyword_scores(self, query: SparseVector) -> npt.NDArray[np.float32]:
        """The normalised BM25 score of every row for one query (tombstones included)."""
        scores = np.zeros(self.size, np.float32)
        idf = self.idf(query.indices.tolist())
        if not idf:
            return scores
        query_weights = query.as_dict()
        for term, term_idf in idf.items():
            postings = self.postings[term]
            rows = postings.rows[: postings.size]
            # Each row holds a term once, so plain fancy-index addition is exact.
            scores[rows] += postings.values[: postings.size] * (term_idf * query_weights[term])
        return scores / np.float32(keyword_ceiling(query_weights, idf))


class ExactIndex(Searcher):
    """Points in memory, by workspace and kind; exact hybrid search over them. Thread-safe."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._tables: dict[tuple[int, Kind], _Table] = {}
        self._table_of: dict[str, tuple[int, Kind]] = {}  # point id -> its table's key
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return sum(t.live for t in self._tables.values())

    def add(self, points: Iterable[IndexPoint]) -> None:
        grouped: dict[tuple[int, Kind], list[IndexPoint]] = {}
        for p in points:
            if p.dense.shape != (self.dimension,):
                raise ValueError(f"point {p.id}: vector of shape {p.dense.shape}")
            grouped.setdefault((p.workspace_id, p.kind), []).append(p)
        with self._lock:
            for key, group in grouped.items():
                table = self._tables.get(key)
                if table is None:
                    table = self._tables[key] = _Table(self.dimension)
                table.add(group)
                self._table_of.update((p.id, key) for p in group)

    def remove(self, workspace_id: int, kind: Kind, point_ids: Iterable[str]) -> None:
        with self._lock:
            ids = [pid for pid in point_ids if self._table_of.get(pid) == (workspace_id, kind)]
            table = self._tables.get((workspace_id, kind))
            if table is not None:
                table.remove(ids)
            for pid in ids:
                del self._table_of[pid]

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()
            self._table_of.clear()

    def text_hashes(self, point_ids: Iterable[str]) -> dict[str, str]:
        """The text hash of each of these points that is held (the others are left out)."""
        with self._lock:
            found = {}
            for pid in point_ids:
                key = self._table_of.get(pid)
                if key is not None:
                    table = self._tables[key]
                    entry = table.entries[table.row_of[pid]]
                    assert entry is not None
                    found[pid] = entry.text_hash
            return found

    def all_points(self) -> list[tuple[str, int, Kind]]:
        """(point id, workspace id, kind) of every point held."""
        with self._lock:
            return [(pid, ws, kind) for pid, (ws, kind) in self._table_of.items()]

    def search_many(
        self,
        workspace_id: int,
        kind: Kind,
        queries: Sequence[Query],
        *,
        limit: int,
        keyword_weight: float = DEFAULT_KEYWORD_WEIGHT,
        record_ids: set[int] | None = None,
    ) -> list[list[Hit]]:
        with self._lock:
            table = self._tables.get((workspace_id, kind))
            if table is None or table.live == 0 or not queries:
                return [[] for _ in queries]
            size = table.size
            allowed = table.alive[:size].copy()
            if record_ids is not None:
                allowed &= np.isin(table.record_ids[:size], list(record_ids))
            limit = min(limit, int(allowed.sum()))
            results: list[list[Hit]] = []
            for start in range(0, len(queries), _QUERY_CHUNK):
                chunk = queries[start : start + _QUERY_CHUNK]
                dense = _cosines(table.dense[:size], [q.dense for q in chunk])
                keyword = np.vstack([table.keyword_scores(q.keywords) for q in chunk])
                fused = fuse(dense, keyword, keyword_weight)
                fused[:, ~allowed] = -np.inf
                for i, top in enumerate(_top_indices(fused, limit)):
                    results.append(
                        [
                            _hit(table.entries[row], fused[i, row], dense[i, row], keyword[i, row])
                            for row in top
                        ]
                    )
            return results


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def _cosines(
    rows: npt.NDArray[np.float32], queries: Sequence[npt.NDArray[np.float32]]
) -> npt.NDArray[np.float32]:
    """``queries x rows`` dot products (the vectors are unit length: cosines).

    Measured with OpenBLAS: for fewer than 4 queries one matrix-vector product per query is
    faster than a matrix product (up to 2x at 2 queries); from 4 on, one product wins. Tables
    under ``_SINGLE_THREAD_ROWS`` rows are scored on one BLAS thread: splitting them gains little
    on a quiet machine, and on a busy one the second thread waits for a core (a 7,550-row product
    took 7.5 ms on two threads against 0.47 ms on one; the limit itself costs ~7 us).
    """
    if rows.shape[0] < _SINGLE_THREAD_ROWS:
        with _blas().limit(limits=1, user_api="blas"):
            return _products(rows, queries)
    return _products(rows, queries)


def _products(
    rows: npt.NDArray[np.float32], queries: Sequence[npt.NDArray[np.float32]]
) -> npt.NDArray[np.float32]:
    if len(queries) < _SMALL_BATCH:
        return np.vstack([rows @ q.astype(np.float32, copy=False) for q in queries])
    matrix = np.vstack(queries).astype(np.float32, copy=False)
    return (rows @ matrix.T).T


def _top_indices(scores: npt.NDArray[np.float32], limit: int) -> list[list[int]]:
    """Per row of ``scores``, the column numbers of its ``limit`` best scores, best first."""
    if limit <= 0:
        return [[] for _ in range(len(scores))]
    if limit < scores.shape[1]:
        part = np.argpartition(-scores, limit - 1, axis=1)[:, :limit]
    else:
        part = np.tile(np.arange(scores.shape[1]), (len(scores), 1))
    picked = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-picked, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1).tolist()  # type: ignore[no-any-return]


def _hit(entry: _Entry | None, score: float, dense: float, keyword: float) -> Hit:
    assert entry is not None  # tombstones score -inf and are never picked
    return Hit(
        kind=entry.kind,
        record_id=entry.record_id,
        owner_id=entry.owner_id,
        passage=entry.passage,
        text=entry.text,
        score=float(score),
        dense_score=float(dense),
        keyword_score=float(keyword),
    )
