"""The vector index on a Qdrant server or cluster (``GIVEFIRST_QDRANT_URL``): one collection per
(workspace, kind), the same hybrid search as Edge's (``embeddings.hybrid``) in one nested query.

Apart from ``embeddings.index`` so that qdrant-client (1.5 s to import) is imported only by a
process that uses a server.
"""

import logging
from collections.abc import Iterator, Sequence
from typing import Any

from qdrant_client import QdrantClient, models

from embeddings.hybrid import (
    DENSE,
    DENSE_SCORE,
    KEYWORD_SCORE,
    KEYWORDS,
    SCORE_DEFAULTS,
    HybridSearch,
)
from embeddings.index import (
    PAGE,
    Payload,
    Scored,
    ShardKey,
    VectorIndex,
    point_payload,
    shard_keys,
)
from embeddings.points import IndexPoint, Query

log = logging.getLogger(__name__)


class ServerIndex(VectorIndex):
    """A collection per shard on a Qdrant server: ``givefirst_<model tag>_<workspace>_<kind>``."""

    PREFIX = "givefirst_"

    def __init__(self, client: QdrantClient, *, model_id: str, dimension: int) -> None:
        super().__init__(model_id=model_id, dimension=dimension)
        self._client = client

    def _name(self, key: ShardKey) -> str:
        return f"{self.PREFIX}{self.tag}_{key[0]}_{key[1]}"

    def open(self) -> None:
        for collection in self._client.get_collections().collections:
            name = collection.name
            if name.startswith(self.PREFIX) and not name.startswith(f"{self.PREFIX}{self.tag}_"):
                log.info("Dropping the vectors of another embedding model: %s", name)
                self._client.delete_collection(name)

    def _discover_shards(self) -> set[ShardKey]:
        mine = f"{self.PREFIX}{self.tag}_"
        names = (c.name for c in self._client.get_collections().collections)
        return shard_keys(
            (name.removeprefix(mine) for name in names if name.startswith(mine)), separator="_"
        )

    def _ensure(self, key: ShardKey) -> None:
        if self.has_shard(key):
            return
        name = self._name(key)
        self._client.create_collection(
            name,
            vectors_config={
                DENSE: models.VectorParams(size=self.dimension, distance=models.Distance.COSINE)
            },
            sparse_vectors_config={
                KEYWORDS: models.SparseVectorParams(modifier=models.Modifier.IDF)
            },
            metadata={"model_id": self.model_id},
        )
        self._client.create_payload_index(
            name, "record_id", field_schema=models.PayloadSchemaType.INTEGER
        )
        self._shard_made(key)

    def _upsert(self, key: ShardKey, points: Sequence[IndexPoint]) -> None:
        self._ensure(key)
        self._client.upsert(self._name(key), points=[_server_point(p) for p in points])

    def _delete(self, key: ShardKey, ids: Sequence[int]) -> None:
        self._client.delete(self._name(key), points_selector=models.PointIdsList(points=list(ids)))

    def _payloads(self, key: ShardKey, ids: Sequence[int]) -> dict[int, Payload]:
        records = self._client.retrieve(self._name(key), ids=list(ids), with_payload=True)
        return {int(r.id): dict(r.payload or {}) for r in records}

    def _scroll(
        self, key: ShardKey, *, with_hash: bool = False
    ) -> Iterator[list[tuple[int, Payload]]]:
        offset: Any = None
        payload = ["text_hash"] if with_hash else False
        while True:
            records, offset = self._client.scroll(
                self._name(key), limit=PAGE, offset=offset, with_payload=payload
            )
            yield [(int(r.id), dict(r.payload or {})) for r in records]
            if offset is None:
                return

    def _count(self, key: ShardKey, *, with_keywords: bool = False) -> int:
        where = (
            models.Filter(must=[models.HasVectorCondition(has_vector=KEYWORDS)])
            if with_keywords
            else None
        )
        return int(self._client.count(self._name(key), count_filter=where, exact=True).count)

    def _search(
        self,
        key: ShardKey,
        searches: Sequence[HybridSearch],
        record_ids: set[int] | None,
        *,
        with_payload: bool,
    ) -> list[list[Scored]]:
        where = _server_records(record_ids)
        found = self._client.query_batch_points(
            self._name(key), requests=[_server_request(s, where, with_payload) for s in searches]
        )
        return [
            [(int(p.id), float(p.score), dict(p.payload or {})) for p in r.points] for r in found
        ]

    def drop(self) -> None:
        for key in self.shards():
            self._client.delete_collection(self._name(key))
        self._shards_dropped()


def _server_point(point: IndexPoint) -> models.PointStruct:
    vectors: dict[str, Any] = {DENSE: point.dense.tolist()}
    if point.keywords.values.size:  # as on Edge: a text with no keyword is no point of the IDF
        keywords = point.keywords
        vectors[KEYWORDS] = models.SparseVector(
            indices=keywords.indices.tolist(), values=keywords.values.tolist()
        )
    return models.PointStruct(id=point.id, vector=vectors, payload=point_payload(point))


def _server_dense(query: Query) -> tuple[list[float], str]:
    return query.dense.tolist(), DENSE


def _server_keywords(query: Query) -> tuple[models.SparseVector, str]:
    return (
        models.SparseVector(
            indices=query.keywords.indices.tolist(), values=query.keywords.values.tolist()
        ),
        KEYWORDS,
    )


def _server_request(
    search: HybridSearch, where: models.Filter | None, with_payload: bool
) -> models.QueryRequest:
    """``search`` as one nested query through qdrant-client (``embeddings.hybrid``): the hits
    and scores Edge's two requests give."""
    dense, dense_using = _server_dense(search.query)
    keywords, keywords_using = _server_keywords(search.query)
    lists = [
        models.Prefetch(
            query=dense,
            using=dense_using,
            filter=where,
            params=models.SearchParams(hnsw_ef=search.ef),
            limit=search.depth,
        ),
        models.Prefetch(query=keywords, using=keywords_using, filter=where, limit=search.depth),
    ]
    union = search.union_size
    formula = models.FormulaQuery(
        formula=models.SumExpression(
            sum=[
                models.MultExpression(mult=[search.dense_weight, DENSE_SCORE]),
                models.MultExpression(mult=[search.keyword_scale, KEYWORD_SCORE]),
            ]
        ),
        defaults=dict(SCORE_DEFAULTS),
    )
    return models.QueryRequest(
        prefetch=[
            models.Prefetch(query=dense, using=dense_using, prefetch=lists, limit=union),
            models.Prefetch(query=keywords, using=keywords_using, prefetch=lists, limit=union),
        ],
        query=formula,
        limit=search.limit,
        with_payload=with_payload,
    )


def _server_records(record_ids: set[int] | None) -> models.Filter | None:
    if record_ids is None:
        return None
    return models.Filter(
        must=[models.FieldCondition(key="record_id", match=models.MatchAny(any=sorted(record_ids)))]
    )
