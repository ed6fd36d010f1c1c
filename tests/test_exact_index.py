"""The in-memory exact index: incremental writes give the same answers as a fresh build, and the
scores are the documented hybrid formula.

The vectors here are random unit vectors (the component under test is the arithmetic and the
bookkeeping, not the model); the keyword vectors are the real ``sparse_document`` of real words.
"""

import math
import random

import numpy as np
import pytest
from qdrant_client import QdrantClient

from embeddings.exact import ExactIndex, bm25_idf
from embeddings.index import VectorIndex
from embeddings.points import Hit, IndexPoint, Kind, Query
from embeddings.text import BM25_K1, sparse_document, sparse_query, term_id, tokenize

DIMENSION = 16
WORDS = [
    "engagement",
    "survey",
    "vendor",
    "onboarding",
    "retention",
    "hiring",
    "pipeline",
    "burnout",
    "manager",
    "coaching",
    "payroll",
    "benefits",
    "compensation",
    "culture",
    "remote",
    "hybrid",
    "feedback",
    "promotion",
    "diversity",
]


def make_point(
    rng: random.Random, record_id: int, *, workspace_id: int = 1, kind: Kind = "article"
) -> IndexPoint:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 30)))
    vector = np.array([rng.gauss(0, 1) for _ in range(DIMENSION)], np.float32)
    return IndexPoint(
        workspace_id=workspace_id,
        kind=kind,
        record_id=record_id,
        owner_id=record_id,
        passage=0,
        text=text,
        text_hash=str(hash(text)),
        dense=vector / np.linalg.norm(vector),
        keywords=sparse_document(text),
    )


def make_query(rng: random.Random) -> Query:
    text = " ".join(rng.sample(WORDS, 3))
    vector = np.array([rng.gauss(0, 1) for _ in range(DIMENSION)], np.float32)
    return Query(vector / np.linalg.norm(vector), sparse_query(text))


def ranking(index: ExactIndex, queries: list[Query], limit: int = 10) -> list[list[int]]:
    return [
        [h.record_id for h in hits]
        for hits in index.search_many(1, "article", queries, limit=limit)
    ]


def scores(index: ExactIndex, queries: list[Query], limit: int = 10) -> list[list[float]]:
    return [
        [h.score for h in hits] for hits in index.search_many(1, "article", queries, limit=limit)
    ]


def test_incremental_writes_match_a_fresh_build() -> None:
    rng = random.Random(7)
    index = ExactIndex(DIMENSION)
    current: dict[int, IndexPoint] = {}
    for step in range(60):  # adds, re-writes and deletes; enough deletes to force compactions
        added = [make_point(rng, rng.randint(1, 400)) for _ in range(rng.randint(1, 80))]
        index.add(added)
        current.update({p.record_id: p for p in added})
        if step % 3 == 2:
            gone = rng.sample(sorted(current), k=len(current) // 3)
            index.remove(1, "article", [current[r].id for r in gone])
            for record_id in gone:
                del current[record_id]

    fresh = ExactIndex(DIMENSION)
    fresh.add(current.values())
    queries = [make_query(rng) for _ in range(25)]
    assert len(index) == len(current) == len(fresh)
    assert ranking(index, queries) == ranking(fresh, queries)
    assert np.allclose(scores(index, queries), scores(fresh, queries), atol=1e-6)
    deleted_ids = set(range(1, 401)) - set(current)
    found = {record_id for hits in ranking(index, queries, limit=500) for record_id in hits}
    assert found == set(current) and not found & deleted_ids


def test_scores_follow_the_documented_formula() -> None:
    rng = random.Random(11)
    points = [make_point(rng, n) for n in range(1, 120)]
    index = ExactIndex(DIMENSION)
    index.add(points)
    # A repeated word counts as often as the query says it; a word no point holds still counts
    # towards the ceiling.
    words = [*rng.sample(WORDS, 3), "zeppelin"]
    text = " ".join([*words, words[0], words[0], words[1]])
    query = Query(make_query(rng).dense, sparse_query(text))
    said = {term_id(tokenize(w)[0]): text.split().count(w) for w in words}
    assert query.keywords.as_dict() == pytest.approx(said)
    weight = 0.3
    hits = index.search_many(1, "article", [query], limit=len(points), keyword_weight=weight)[0]

    # Reference: BM25 with Qdrant's IDF over the points, each term times how often the query
    # says it, divided by the query's ceiling.
    frequency = {t: sum(t in p.keywords.as_dict() for p in points) for t in said}
    known = {t: f for t, f in frequency.items() if f}
    assert len(known) == 3
    idf = {t: math.log(1 + (len(points) - f + 0.5) / (f + 0.5)) for t, f in known.items()}
    ceiling = max(
        sum(said.values()) * max(idf.values()) * (BM25_K1 + 1),
        sum(said[t] * idf[t] for t in idf) * (BM25_K1 + 1) / 2,
    )
    for hit in hits:
        point = points[hit.record_id - 1]
        weights = point.keywords.as_dict()
        keyword = sum(weights.get(t, 0.0) * idf[t] * said[t] for t in idf) / ceiling
        cosine = float(point.dense @ query.dense)
        assert hit.dense_score == pytest.approx(cosine, abs=1e-5)
        assert hit.keyword_score == pytest.approx(keyword, abs=1e-5)
        assert hit.score == pytest.approx(0.7 * cosine + 0.3 * keyword, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert bm25_idf(10, np.array([10.0], np.float32))[0] > 0  # a term in every row still counts


def test_search_many_equals_one_search_per_query_and_filters_hold() -> None:
    rng = random.Random(3)
    index = ExactIndex(DIMENSION)
    index.add(make_point(rng, n) for n in range(1, 300))
    index.add(make_point(rng, n, workspace_id=2) for n in range(1000, 1100))
    index.add(make_point(rng, n, kind="expertise") for n in range(2000, 2050))
    queries = [make_query(rng) for _ in range(300)]  # more than one matrix-product chunk
    batched = index.search_many(1, "article", queries, limit=7)
    single = [index.search(1, "article", q.dense, q.keywords, limit=7) for q in queries]
    # A matrix product and a vector product round apart in the last bits.
    assert [[h.record_id for h in hits] for hits in batched] == [
        [h.record_id for h in hits] for hits in single
    ]
    assert np.allclose(
        [[h.score for h in hits] for hits in batched],
        [[h.score for h in hits] for hits in single],
        atol=1e-6,
    )
    assert all(1 <= h.record_id < 300 for hits in batched for h in hits)  # workspace and kind

    wanted = {5, 17, 250}
    only = index.search_many(1, "article", queries[:5], limit=10, record_ids=wanted)
    assert all({h.record_id for h in hits} == wanted for hits in only)
    assert index.search_many(3, "article", queries[:2], limit=5) == [[], []]


def test_text_hashes_and_points_follow_writes() -> None:
    rng = random.Random(5)
    index = ExactIndex(DIMENSION)
    first, second = make_point(rng, 1), make_point(rng, 2)
    index.add([first, second])
    assert index.text_hashes([first.id, second.id, "nope"]) == {
        first.id: first.text_hash,
        second.id: second.text_hash,
    }
    index.remove(1, "article", [first.id])
    index.remove(2, "article", [second.id])  # the wrong workspace: nothing happens
    assert index.all_points() == [(second.id, 1, "article")]


def _canonical(results: list[list[Hit]]) -> list[dict[int, float]]:
    return [{h.record_id: round(h.score, 5) for h in hits} for hits in results]


def test_the_store_is_read_back_into_memory_after_a_restart(tmp_path) -> None:
    rng = random.Random(9)
    points = [make_point(rng, n) for n in range(1, 200)]
    queries = [make_query(rng) for _ in range(10)]
    client = QdrantClient(path=str(tmp_path))
    index = VectorIndex(client, model_id="test-model", dimension=DIMENSION)
    index.ensure_collection()
    index.upsert(points)
    index.delete(1, "article", [points[0].id])
    # Every point with its score: with many equal keyword scores, points that tie (to the last
    # bits of a float32 sum) may come back in another order after a reload (rows move).
    before = _canonical(index.search_many(1, "article", queries, limit=len(points)))
    client.close()

    reopened = VectorIndex(
        QdrantClient(path=str(tmp_path)), model_id="test-model", dimension=DIMENSION
    )
    assert not reopened.ensure_collection()
    assert reopened.load() == len(points) - 1
    assert _canonical(reopened.search_many(1, "article", queries, limit=len(points))) == before
    assert reopened.load() == 0  # read once
