"""The vector index: Qdrant stores the points; searches are exact and in memory where it pays.

Every point is one piece of text of one workspace: an article passage, a pain point or an
expertise line. It carries a dense vector (cosine) and a sparse BM25-style vector, and a payload
with the workspace id (indexed; every server search filters on it), the kind, the record it came
from and the hash of its text.

Qdrant's local mode evaluates payload filters in Python: ~77 ms per filtered search at 10,000
points, ~900 ms at 100,000. So with ``exact_in_memory`` (the default for local mode) the index
reads every point from Qdrant once (``load``, in one scroll, at start-up), keeps them in an
``ExactIndex`` and answers searches, hash lookups and reconciliation from it; every write goes to
both. Against a Qdrant server the searches go to the server.

Dense and keyword scores are fused the same way in both modes (``embeddings.exact.fuse``).
"""

import hashlib
import logging
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models

from embeddings.exact import DEFAULT_KEYWORD_WEIGHT, ExactIndex, Searcher, fuse
from embeddings.points import Hit, IndexPoint, Kind, Query
from embeddings.text import SparseVector

log = logging.getLogger(__name__)

DENSE = "dense"
KEYWORDS = "bm25"
COLLECTION_PREFIX = "givefirst_"
_SCROLL_PAGE = 2_000
_LOAD_PAGE = 20_000  # one scroll call per page when loading: local mode pays per call


class VectorIndex(Searcher):
    """Points in one Qdrant collection per embedding model; searches scoped to one workspace."""

    def __init__(
        self,
        client: QdrantClient,
        *,
        model_id: str,
        dimension: int,
        exact_in_memory: bool = True,
    ) -> None:
        self._client = client
        self.model_id = model_id
        self.dimension = dimension
        self.collection = COLLECTION_PREFIX + hashlib.sha256(model_id.encode()).hexdigest()[:16]
        self._exact = ExactIndex(dimension) if exact_in_memory else None
        self._loaded = False
        self._load_lock = threading.Lock()
        # Qdrant's local mode is not thread-safe (plain dicts and arrays, one SQLite connection),
        # and the server writes from many threads: one write at a time, store and memory
        # together, so the two never disagree on the order of two writes to the same point.
        self._write_lock = threading.RLock()

    # -- collection life cycle ---------------------------------------------------------------

    def ensure_collection(self) -> bool:
        """Create this model's collection if missing and drop other models' collections.

        Returns True when the collection was created now (so it is empty and must be filled).
        """
        existing = {c.name for c in self._client.get_collections().collections}
        for name in existing:
            if name.startswith(COLLECTION_PREFIX) and name != self.collection:
                self._client.delete_collection(name)  # another model's vectors: never mixed
        if self.collection in existing:
            return False
        self._client.create_collection(
            self.collection,
            vectors_config={
                DENSE: models.VectorParams(size=self.dimension, distance=models.Distance.COSINE)
            },
            sparse_vectors_config={
                KEYWORDS: models.SparseVectorParams(modifier=models.Modifier.IDF)
            },
            metadata={"model_id": self.model_id},
        )
        for name, schema in (
            ("workspace_id", models.PayloadSchemaType.INTEGER),
            ("kind", models.PayloadSchemaType.KEYWORD),
            ("owner_id", models.PayloadSchemaType.INTEGER),
        ):
            with warnings.catch_warnings():
                # Local mode says its payload indexes do nothing; a server uses them.
                warnings.simplefilter("ignore", UserWarning)
                self._client.create_payload_index(self.collection, name, field_schema=schema)
        if self._exact is not None:
            self._exact.clear()
            self._loaded = True  # a new collection is empty: nothing to read back
        return True

    def drop(self) -> None:
        """Delete the whole collection (a rebuild starts from ``ensure_collection``)."""
        if self._client.collection_exists(self.collection):
            self._client.delete_collection(self.collection)
        if self._exact is not None:
            self._exact.clear()

    def count(self, workspace_id: int | None = None, kind: Kind | None = None) -> int:
        return int(
            self._client.count(self.collection, count_filter=_filter(workspace_id, kind)).count
        )

    def load(self) -> int:
        """Read every point into memory (exact mode; once). Returns the number of points read."""
        if self._exact is None:
            return 0
        with self._load_lock:
            if self._loaded:
                return 0
            read = 0
            for page in self._scroll(None, True, with_vectors=True, page=_LOAD_PAGE):
                self._exact.add(_point(record) for record in page)
                read += len(page)
            self._loaded = True
            log.info("Read %d points into memory", read)
            return read

    def _memory(self) -> ExactIndex | None:
        """The in-memory copy, loaded on first use (None against a Qdrant server)."""
        if self._exact is not None and not self._loaded:
            self.load()
        return self._exact

    # -- writes -----------------------------------------------------------------------------

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        if not points:
            return
        memory = self._memory()
        with self._write_lock:
            self._upsert(points, memory)

    def _upsert(self, points: Sequence[IndexPoint], memory: ExactIndex | None) -> None:
        self._client.upsert(
            self.collection,
            points=[
                models.PointStruct(
                    id=p.id,
                    vector={
                        DENSE: p.dense.tolist(),
                        KEYWORDS: models.SparseVector(
                            indices=p.keywords.indices.tolist(), values=p.keywords.values.tolist()
                        ),
                    },
                    payload=p.payload(),
                )
                for p in points
            ],
        )
        if memory is not None:
            memory.add(points)

    def delete(self, workspace_id: int, kind: Kind, point_ids: Iterable[str]) -> None:
        ids = list(point_ids)
        if not ids:
            return
        memory = self._memory()
        with self._write_lock:
            self._client.delete(self.collection, points_selector=models.PointIdsList(points=ids))
            if memory is not None:
                memory.remove(workspace_id, kind, ids)

    def stored_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """The text hash stored with each of these point ids (missing ids are left out)."""
        if not ids:
            return {}
        memory = self._memory()
        if memory is not None:
            return memory.text_hashes(ids)
        hashes: dict[str, str] = {}
        for start in range(0, len(ids), _SCROLL_PAGE):
            records = self._client.retrieve(
                self.collection,
                ids=list(ids[start : start + _SCROLL_PAGE]),
                with_payload=["text_hash"],
                with_vectors=False,
            )
            hashes.update({str(r.id): str((r.payload or {}).get("text_hash")) for r in records})
        return hashes

    def all_points(self) -> Iterator[tuple[str, int, Kind]]:
        """(point id, workspace id, kind) of every point, for reconciling with the records."""
        memory = self._memory()
        if memory is not None:
            yield from memory.all_points()
            return
        for page in self._scroll(None, ["workspace_id", "kind"], with_vectors=False):
            for record in page:
                payload = record.payload or {}
                yield str(record.id), int(payload["workspace_id"]), payload["kind"]

    def _scroll(
        self,
        scroll_filter: models.Filter | None,
        payload: bool | list[str],
        *,
        with_vectors: bool,
        page: int = _SCROLL_PAGE,
    ) -> Iterator[list[models.Record]]:
        """The collection's points, a page (one scroll call) at a time."""
        offset: Any = None
        while True:
            records, offset = self._client.scroll(
                self.collection,
                scroll_filter=scroll_filter,
                limit=page,
                offset=offset,
                with_payload=payload,
                with_vectors=with_vectors,
            )
            yield records
            if offset is None:
                return

    # -- reads ------------------------------------------------------------------------------

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
        """For each query, its ``limit`` best points of ``kind`` in the workspace, best first."""
        memory = self._memory()
        if memory is not None:
            return memory.search_many(
                workspace_id,
                kind,
                queries,
                limit=limit,
                keyword_weight=keyword_weight,
                record_ids=record_ids,
            )
        return [
            self._search_server(workspace_id, kind, q, limit, keyword_weight, record_ids)
            for q in queries
        ]

    def _search_server(
        self,
        workspace_id: int,
        kind: Kind,
        query: Query,
        limit: int,
        keyword_weight: float,
        record_ids: set[int] | None,
    ) -> list[Hit]:
        # Two candidate lists from the server, fused here with the same formula as in memory.
        query_filter = _filter(workspace_id, kind, record_ids)
        depth = max(limit * 4, 50)
        dense_hits = self._client.query_points(
            self.collection,
            query=query.dense.tolist(),
            using=DENSE,
            query_filter=query_filter,
            limit=depth,
            with_payload=True,
        ).points
        keyword_hits = self._client.query_points(
            self.collection,
            query=models.SparseVector(
                indices=query.keywords.indices.tolist(), values=query.keywords.values.tolist()
            ),
            using=KEYWORDS,
            query_filter=query_filter,
            limit=depth,
            with_payload=True,
        ).points
        top_keyword = max((p.score for p in keyword_hits), default=0.0) or 1.0
        merged: dict[str, tuple[dict[str, Any], float, float]] = {}
        for p in dense_hits:
            merged[str(p.id)] = (dict(p.payload or {}), float(p.score), 0.0)
        for p in keyword_hits:
            payload, dense_score, _ = merged.get(str(p.id), (dict(p.payload or {}), 0.0, 0.0))
            merged[str(p.id)] = (payload, dense_score, float(p.score) / top_keyword)
        hits = [
            _hit(payload, float(fuse(d, k, keyword_weight)), d, k)
            for payload, d, k in merged.values()
        ]
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[:limit]


def _filter(
    workspace_id: int | None, kind: Kind | None, record_ids: set[int] | None = None
) -> models.Filter:
    must: list[models.Condition] = []
    if workspace_id is not None:
        must.append(
            models.FieldCondition(key="workspace_id", match=models.MatchValue(value=workspace_id))
        )
    if kind is not None:
        must.append(models.FieldCondition(key="kind", match=models.MatchValue(value=kind)))
    if record_ids is not None:
        must.append(
            models.FieldCondition(key="record_id", match=models.MatchAny(any=sorted(record_ids)))
        )
    return models.Filter(must=must)


def _point(record: models.Record) -> IndexPoint:
    """A stored Qdrant record back as the point that was written."""
    vector, payload = record.vector, record.payload or {}
    assert isinstance(vector, dict)
    keywords = vector[KEYWORDS]
    assert isinstance(keywords, models.SparseVector)
    return IndexPoint(
        workspace_id=int(payload["workspace_id"]),
        kind=payload["kind"],
        record_id=int(payload["record_id"]),
        owner_id=int(payload["owner_id"]),
        passage=int(payload["passage"]),
        text=str(payload["text"]),
        text_hash=str(payload["text_hash"]),
        dense=np.asarray(vector[DENSE], dtype=np.float32),
        keywords=SparseVector(
            np.asarray(keywords.indices, np.int64), np.asarray(keywords.values, np.float32)
        ),
    )


def _hit(payload: dict[str, Any], score: float, dense: float, keyword: float) -> Hit:
    return Hit(
        kind=payload["kind"],
        record_id=int(payload["record_id"]),
        owner_id=int(payload["owner_id"]),
        passage=int(payload["passage"]),
        text=str(payload["text"]),
        score=score,
        dense_score=dense,
        keyword_score=keyword,
    )
