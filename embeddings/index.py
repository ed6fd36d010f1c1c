"""The vector index: Qdrant stores the points, searches are exact and in memory where it pays.

Every point is one piece of text of one workspace: an article passage, a pain point or an
expertise line. It carries a dense vector (cosine) and a sparse BM25-style vector, and a payload
with the workspace id (indexed; every search filters on it), the kind, the record it came from and
the hash of its text.

Qdrant's local mode evaluates payload filters in Python: ~77 ms per filtered search at 10,000
points, ~900 ms at 100,000. So with ``exact_in_memory`` (the default for local mode) a search reads
the workspace's points of one kind from Qdrant once, keeps them as a numpy matrix and a sparse
matrix, scores all of them exactly (a few ms at 60,000 passages) and keeps that copy in step with
every write made through this object. Against a Qdrant server the searches go to the server.

Dense and keyword scores are fused the same way in both modes (``fuse``).
"""

import hashlib
import threading
import uuid
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from qdrant_client import QdrantClient, models
from scipy import sparse as sp

from embeddings.text import BM25_K1, SparseVector

Kind = Literal["article", "pain_point", "expertise"]
KINDS: tuple[Kind, ...] = ("article", "pain_point", "expertise")
DENSE = "dense"
KEYWORDS = "bm25"
COLLECTION_PREFIX = "givefirst_"
_SCROLL_PAGE = 2_000
_NAMESPACE = uuid.UUID("5b0f7d1e-2a53-4c1f-9a47-3f4f0d6c9e21")

# hybrid = (1 - w) * cosine + w * keyword, keyword in [0, 1] (see ``keyword_scores``)
DEFAULT_KEYWORD_WEIGHT = 0.3


def point_id(kind: Kind, record_id: int, passage: int = 0) -> str:
    """A stable id: re-indexing a record overwrites its points instead of adding new ones."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{record_id}:{passage}"))


@dataclass(frozen=True)
class IndexPoint:
    workspace_id: int
    kind: Kind
    record_id: int  # the article, pain point or expertise row
    owner_id: int  # the contact (pain points, expertise) or the article (passages)
    passage: int
    text: str
    text_hash: str
    dense: npt.NDArray[np.float32]
    keywords: SparseVector

    @property
    def id(self) -> str:
        return point_id(self.kind, self.record_id, self.passage)

    def payload(self) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id,
            "kind": self.kind,
            "record_id": self.record_id,
            "owner_id": self.owner_id,
            "passage": self.passage,
            "text": self.text,
            "text_hash": self.text_hash,
        }


@dataclass(frozen=True)
class Hit:
    """One matching point, best passage per record already chosen by the caller if wanted."""

    kind: Kind
    record_id: int
    owner_id: int
    passage: int
    text: str
    score: float  # the fused score
    dense_score: float
    keyword_score: float


@dataclass
class _Slab:
    """The in-memory copy of one workspace's points of one kind."""

    rows: dict[str, tuple[npt.NDArray[np.float32], SparseVector, dict[str, Any]]] = field(
        default_factory=dict
    )
    dirty: bool = True
    payloads: list[dict[str, Any]] = field(default_factory=list)
    record_ids: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    dense: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    keywords: Any = None  # scipy CSC matrix, columns = local term numbers
    term_columns: dict[int, int] = field(default_factory=dict)
    idf: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))

    def rebuild(self, dimension: int) -> None:
        values = list(self.rows.values())
        self.payloads = [payload for _, _, payload in values]
        self.record_ids = np.array([p["record_id"] for p in self.payloads], dtype=np.int64)
        self.dense = (
            np.vstack([dense for dense, _, _ in values]).astype(np.float32)
            if values
            else np.zeros((0, dimension), np.float32)
        )
        terms = [kw.indices for _, kw, _ in values]
        all_terms = np.concatenate(terms) if terms else np.zeros(0, np.int64)
        unique, columns = np.unique(all_terms, return_inverse=True)
        self.term_columns = {int(t): i for i, t in enumerate(unique.tolist())}
        indptr = np.zeros(len(values) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(t) for t in terms])
        data = np.concatenate([kw.values for _, kw, _ in values]) if values else np.zeros(0)
        matrix = sp.csr_matrix(
            (data.astype(np.float32), columns.astype(np.int64), indptr),
            shape=(len(values), len(unique)),
        )
        self.keywords = matrix.tocsc()
        document_frequency = np.diff(self.keywords.indptr).astype(np.float32)
        n = float(len(values))
        # BM25's IDF, the same formula as Qdrant's IDF modifier.
        self.idf = np.log(1.0 + (n - document_frequency + 0.5) / (document_frequency + 0.5))
        self.dirty = False


def keyword_scores(
    matrix: Any, term_columns: dict[int, int], idf: npt.NDArray[np.float32], query: SparseVector
) -> npt.NDArray[np.float32]:
    """BM25 of every row for the query, divided by the query's best possible score, so in [0, 1]."""
    columns = [term_columns[t] for t in query.indices.tolist() if t in term_columns]
    n_rows = matrix.shape[0]
    if not columns:
        return np.zeros(n_rows, np.float32)
    weights = idf[columns]
    raw = matrix[:, columns] @ weights
    # The best a document can do is saturate every query term: tf weight -> k1 + 1.
    ceiling = float(len(query.indices)) * float(weights.max()) * (BM25_K1 + 1)
    ceiling = max(ceiling, float(np.sum(weights)) * (BM25_K1 + 1) / 2)
    return np.asarray(raw, dtype=np.float32).ravel() / ceiling


def fuse(dense: Any, keyword: Any, weight: float) -> Any:
    """The hybrid score: a convex mix of cosine similarity and the normalised keyword score."""
    return (1.0 - weight) * dense + weight * keyword


class VectorIndex:
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
        self._exact = exact_in_memory
        self._slabs: dict[tuple[int, Kind], _Slab] = {}
        self._lock = threading.RLock()

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
        self._slabs.clear()
        return True

    def drop(self) -> None:
        """Delete the whole collection (a rebuild starts from ``ensure_collection``)."""
        if self._client.collection_exists(self.collection):
            self._client.delete_collection(self.collection)
        with self._lock:
            self._slabs.clear()

    def count(self, workspace_id: int | None = None, kind: Kind | None = None) -> int:
        return int(
            self._client.count(self.collection, count_filter=_filter(workspace_id, kind)).count
        )

    # -- writes -----------------------------------------------------------------------------

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        if not points:
            return
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
        with self._lock:
            for p in points:
                slab = self._slabs.get((p.workspace_id, p.kind))
                if slab is not None:
                    slab.rows[p.id] = (p.dense, p.keywords, p.payload())
                    slab.dirty = True

    def delete(self, workspace_id: int, kind: Kind, point_ids: Iterable[str]) -> None:
        ids = list(point_ids)
        if not ids:
            return
        self._client.delete(self.collection, points_selector=models.PointIdsList(points=ids))
        with self._lock:
            slab = self._slabs.get((workspace_id, kind))
            if slab is not None:
                for pid in ids:
                    if slab.rows.pop(pid, None) is not None:
                        slab.dirty = True

    def stored_hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """The text hash stored with each of these point ids (missing ids are left out)."""
        if not ids:
            return {}
        records = self._client.retrieve(
            self.collection, ids=list(ids), with_payload=["text_hash"], with_vectors=False
        )
        return {str(r.id): str((r.payload or {}).get("text_hash")) for r in records}

    def all_points(self) -> Iterator[tuple[str, int, Kind]]:
        """(point id, workspace id, kind) of every point, for reconciling with the records."""
        for record in self._scroll(None, ["workspace_id", "kind"], with_vectors=False):
            payload = record.payload or {}
            yield str(record.id), int(payload["workspace_id"]), payload["kind"]

    def _scroll(
        self, scroll_filter: models.Filter | None, payload: bool | list[str], *, with_vectors: bool
    ) -> Iterator[models.Record]:
        offset: Any = None
        while True:
            records, offset = self._client.scroll(
                self.collection,
                scroll_filter=scroll_filter,
                limit=_SCROLL_PAGE,
                offset=offset,
                with_payload=payload,
                with_vectors=with_vectors,
            )
            yield from records
            if offset is None:
                return

    # -- reads ------------------------------------------------------------------------------

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
        """The ``limit`` best points of ``kind`` in the workspace for one query, best first.

        ``record_ids`` limits the search to the points of those records.
        """
        search = self._search_exact if self._exact else self._search_server
        return search(workspace_id, kind, dense, keywords, limit, keyword_weight, record_ids)

    def _slab(self, workspace_id: int, kind: Kind) -> _Slab:
        with self._lock:
            slab = self._slabs.get((workspace_id, kind))
            if slab is None:
                slab = _Slab()
                points = self._scroll(_filter(workspace_id, kind), True, with_vectors=True)
                for record in points:
                    vector = record.vector
                    assert isinstance(vector, dict)
                    keywords = vector[KEYWORDS]
                    assert isinstance(keywords, models.SparseVector)
                    slab.rows[str(record.id)] = (
                        np.asarray(vector[DENSE], dtype=np.float32),
                        SparseVector(
                            np.asarray(keywords.indices, np.int64),
                            np.asarray(keywords.values, np.float32),
                        ),
                        dict(record.payload or {}),
                    )
                self._slabs[(workspace_id, kind)] = slab
            if slab.dirty:
                slab.rebuild(self.dimension)
            return slab

    def _search_exact(
        self,
        workspace_id: int,
        kind: Kind,
        dense: npt.NDArray[np.float32],
        keywords: SparseVector,
        limit: int,
        keyword_weight: float,
        record_ids: set[int] | None,
    ) -> list[Hit]:
        slab = self._slab(workspace_id, kind)
        if not slab.payloads:
            return []
        dense_scores = slab.dense @ dense.astype(np.float32)
        keyword = keyword_scores(slab.keywords, slab.term_columns, slab.idf, keywords)
        fused = fuse(dense_scores, keyword, keyword_weight)
        if record_ids is not None:
            fused = np.where(np.isin(slab.record_ids, list(record_ids)), fused, -np.inf)
            limit = min(limit, int(np.isfinite(fused).sum()))
        top = _top_indices(fused, limit)
        return [
            _hit(slab.payloads[i], float(fused[i]), float(dense_scores[i]), float(keyword[i]))
            for i in top
        ]

    def _search_server(
        self,
        workspace_id: int,
        kind: Kind,
        dense: npt.NDArray[np.float32],
        keywords: SparseVector,
        limit: int,
        keyword_weight: float,
        record_ids: set[int] | None,
    ) -> list[Hit]:
        # Two candidate lists from the server, fused here with the same formula as in memory.
        query_filter = _filter(workspace_id, kind, record_ids)
        depth = max(limit * 4, 50)
        dense_hits = self._client.query_points(
            self.collection,
            query=dense.tolist(),
            using=DENSE,
            query_filter=query_filter,
            limit=depth,
            with_payload=True,
        ).points
        keyword_hits = self._client.query_points(
            self.collection,
            query=models.SparseVector(
                indices=keywords.indices.tolist(), values=keywords.values.tolist()
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


def _top_indices(scores: npt.NDArray[np.float32], limit: int) -> list[int]:
    if limit >= len(scores):
        return [int(i) for i in np.argsort(-scores, kind="stable")]
    part = np.argpartition(-scores, limit)[:limit]
    return [int(i) for i in part[np.argsort(-scores[part], kind="stable")]]


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
