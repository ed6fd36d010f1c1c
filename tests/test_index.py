"""The vector index: one scorer on both backends, checked against an exact computation.

``EdgeIndex`` runs Qdrant Edge, the embedded default. ``ServerIndex`` runs the same queries
through qdrant-client; no Qdrant server can run on the machines these tests run on, so it is
exercised against qdrant-client's local mode, which implements the same Query API (prefetch,
formula): the only part of the server path these tests do not reach is the network.
"""

import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from embeddings.cache import text_hash
from embeddings.embedder import Embedder
from embeddings.factory import load_model
from embeddings.hybrid import Candidates, HybridSearch, keyword_ceiling, reference_scores
from embeddings.index import EdgeIndex, StoreHeldError, VectorIndex
from embeddings.points import IndexPoint, Kind, Query, point_id
from embeddings.server import ServerIndex
from embeddings.text import BM25_K1, SparseVector, sparse_document, sparse_query
from tests.fixtures.hr_library import (
    WEIGHT,
    index_points,
    library_texts,
    pain_point_queries,
)
from tests.fixtures.hr_network import CONTACTS


@pytest.fixture(scope="module")
def model() -> Embedder:
    return load_model()


def _clustered_points(
    rng: np.random.Generator,
    kind: Kind,
    count: int,
    *,
    words: int,
    topics: int,
    spread: float,
    length: int,
) -> list[IndexPoint]:
    """Synthetic points of workspace 1: texts of ``length`` words drawn from ``words`` terms,
    vectors clustered around ``topics`` centres (as texts are), ``spread`` around them."""
    vocabulary = [f"term{i}" for i in range(words)]
    centres = rng.standard_normal((topics, 384)).astype(np.float32)
    points = []
    for n in range(1, count + 1):
        text = " ".join(rng.choice(vocabulary, size=length).tolist())
        dense = centres[n % topics] + spread * rng.standard_normal(384).astype(np.float32)
        points.append(
            IndexPoint(
                workspace_id=1,
                kind=kind,
                record_id=n,
                owner_id=1000 + n,
                passage=0,
                text=text,
                text_hash=text_hash(text),
                dense=dense,
                keywords=sparse_document(text),
            )
        )
    return points


@pytest.fixture(params=["edge", "server"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorIndex]:
    built: VectorIndex
    if request.param == "edge":
        built = EdgeIndex(tmp_path / "vectors", model_id="test-model", dimension=384)
    else:
        built = ServerIndex(QdrantClient(":memory:"), model_id="test-model", dimension=384)
    built.open()
    yield built
    built.close()


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
def test_both_backends_give_the_exact_hybrid_scores(index: VectorIndex, model: Embedder) -> None:
    """Every query of the HR fixture ranks the library as the formula computed exactly does,
    with the same scores, and another workspace's points never appear."""
    mine = index_points(model, 1, library_texts(), "article")
    index.upsert(mine)
    index.upsert(index_points(model, 2, library_texts()[:10], "article", first=100))
    queries = pain_point_queries(model)
    found = index.search_many(1, "article", queries, limit=10, keyword_weight=WEIGHT)
    dense = np.vstack([p.dense for p in mine])
    for query, hits in zip(queries, found, strict=True):
        exact = reference_scores(query, dense, [p.keywords for p in mine], keyword_weight=WEIGHT)
        best = np.argsort(-exact, kind="stable")[:10]
        assert [h.record_id for h in hits] == [mine[i].record_id for i in best]
        assert [h.score for h in hits] == pytest.approx([exact[i] for i in best], abs=1e-5)
        # An article hit is its point id alone: no payload read, the text is the record's.
        assert all(h.owner_id == h.record_id and h.text is None for h in hits)
    lines = index_points(model, 1, library_texts()[:5], "expertise", first=7)
    index.upsert(lines)
    found = index.search_many(1, "expertise", queries[:3], limit=5, keyword_weight=WEIGHT)
    texts = {p.record_id: p.text for p in lines}
    for hits in found:
        assert len(hits) == 5
        assert all(h.owner_id == 1000 + h.record_id and h.text == texts[h.record_id] for h in hits)


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
def test_the_two_backends_agree(tmp_path: Path, model: Embedder) -> None:
    """The contract: the same points and queries give the same hits and scores on Qdrant Edge
    and through qdrant-client (what runs against a server)."""
    edge = EdgeIndex(tmp_path / "vectors", model_id="m", dimension=384)
    server = ServerIndex(QdrantClient(":memory:"), model_id="m", dimension=384)
    queries = pain_point_queries(model)
    answers = []
    for index in (edge, server):
        index.open()
        index.upsert(index_points(model, 7, library_texts(), "article"))
        index.upsert(
            index_points(model, 7, [e for c in CONTACTS for e in c.expertise], "expertise")
        )
        answers.append(
            [
                [(h.record_id, h.score) for h in hits]
                for kind in ("article", "expertise")
                for hits in index.search_many(7, kind, queries, limit=8, keyword_weight=WEIGHT)
            ]
            + [
                [(h.record_id, h.score) for h in hits]
                for hits in index.search_many(
                    7, "article", queries[:5], limit=3, keyword_weight=0.0, record_ids={2, 5, 9}
                )
            ]
        )
    for on_edge, on_server in zip(*answers, strict=True):
        assert [r for r, _ in on_edge] == [r for r, _ in on_server]
        assert [s for _, s in on_edge] == pytest.approx([s for _, s in on_server], abs=1e-5)
    edge.close()


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
def test_writes_deletes_counts_and_record_filters(index: VectorIndex, model: Embedder) -> None:
    points = index_points(model, 1, library_texts()[:6], "article")
    index.upsert(points)
    index.upsert(index_points(model, 2, library_texts()[:2], "article", first=100))
    assert index.count() == 8 and index.count(1) == 6 and index.count(2, "article") == 2
    assert index.count(kind="expertise") == 0
    assert index.stored_hashes(1, "article", [points[0].id, point_id(999)]) == {
        points[0].id: points[0].text_hash
    }
    query = Query(points[3].dense, sparse_query(points[3].text))
    assert index.search(1, "article", query, limit=1, keyword_weight=WEIGHT)[0].record_id == 4
    index.delete(1, "article", [points[3].id])
    assert index.count(1) == 5
    assert 4 not in {
        h.record_id for h in index.search(1, "article", query, limit=9, keyword_weight=WEIGHT)
    }
    only = index.search(1, "article", query, limit=9, keyword_weight=WEIGHT, record_ids={1, 2})
    assert sorted(h.record_id for h in only) == [1, 2]
    assert index.search(3, "article", query, limit=5, keyword_weight=WEIGHT) == []
    assert index.search(1, "article", query, limit=5, keyword_weight=WEIGHT, record_ids=set()) == []
    assert index.search(1, "article", query, limit=5, keyword_weight=WEIGHT, record_ids={999}) == []
    assert (
        sorted((w, k) for w, k, _ in index.all_points())
        == [(1, "article")] * 5 + [(2, "article")] * 2
    )
    assert len(index.all_hashes()) == 7


def test_the_keyword_score_lies_between_0_and_1(model: Embedder, tmp_path: Path) -> None:
    """The ceiling is reached by a point that holds every query term saturated, and that term
    held by no other point; any other point stays below it."""
    words = ["onboarding", "turnover", "retention"]
    rng = random.Random(5)
    filler = ["payroll", "benefits", "leave", "review", "hiring", "culture"]
    texts = [" ".join(rng.choice(filler) for _ in range(12)) for _ in range(40)]
    texts.append(" ".join(words * 30))  # every term, very often: close to saturation
    index = EdgeIndex(tmp_path / "vectors", model_id="m", dimension=384)
    index.open()
    points = index_points(model, 1, texts, "article")
    index.upsert(points)
    query = Query(model.embed_queries([" ".join(words)])[0], sparse_query(" ".join(words)))
    hits = index.search(1, "article", query, limit=41, keyword_weight=1.0)
    assert hits[0].record_id == len(texts)
    assert 0.9 < hits[0].score <= 1.0
    assert all(0.0 <= h.score < 0.05 for h in hits[1:])
    assert keyword_ceiling(query.keywords, 41) == pytest.approx(
        3 * np.log(1 + (41 - 1 + 0.5) / 1.5) * (BM25_K1 + 1)
    )
    index.close()


def test_a_shard_survives_a_reopen_and_refuses_a_second_process(
    tmp_path: Path, model: Embedder
) -> None:
    root = tmp_path / "vectors"
    index = EdgeIndex(root, model_id="m", dimension=384)
    index.open()
    points = index_points(model, 1, library_texts()[:5], "article")
    index.upsert(points)
    query = Query(points[0].dense, sparse_query(points[0].text))
    before = index.search(1, "article", query, limit=5, keyword_weight=WEIGHT)
    with pytest.raises(StoreHeldError):
        EdgeIndex.check_free(root)  # the store is held, as a server holds it
    with pytest.raises(StoreHeldError):
        EdgeIndex(root, model_id="m", dimension=384).open()
    index.close()
    EdgeIndex.check_free(root)
    reopened = EdgeIndex(root, model_id="m", dimension=384)
    reopened.open()
    assert reopened.search(1, "article", query, limit=5, keyword_weight=WEIGHT) == before
    reopened.close()


def test_the_embedded_default_never_imports_the_server_client() -> None:
    """qdrant-client takes 1.5 s to import: the server, the CLI and the nightly batch on the
    embedded default start without it (``embeddings.server`` is imported where a server is
    configured)."""
    entry_points = "app.main, app.cli, app.runtime, app.daily.nightly, app.indexing"
    code = f"import sys, {entry_points}; print('qdrant_client' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_an_optimised_shard_gives_the_same_answers(tmp_path: Path) -> None:
    """``optimize`` builds HNSW over a shard past Qdrant's indexing threshold; the searches give
    the same hits and scores after it (and after a reopen) as the full scan gave before."""
    rng = np.random.default_rng(3)
    points = _clustered_points(rng, "article", 7_200, words=400, topics=60, spread=0.6, length=12)
    queries = [
        Query(p.dense + 0.3 * rng.standard_normal(384).astype(np.float32), sparse_query(p.text))
        for p in points[:: len(points) // 8]
    ]
    root = tmp_path / "vectors"
    index = EdgeIndex(root, model_id="m", dimension=384)
    index.open()
    index.upsert(points)

    def answers(on: EdgeIndex) -> list[list[tuple[int, float]]]:
        found = on.search_many(1, "article", queries, limit=10, keyword_weight=WEIGHT)
        return [[(h.record_id, h.score) for h in hits] for hits in found]

    before = answers(index)
    assert not index.optimize(1, "article")  # below the default minimum: left as it is
    assert index.optimize(1, "article", min_points=5_000)
    assert not index.optimize(1, "article", min_points=5_000)  # nothing left to do
    after = [answers(index)]
    index.close()
    reopened = EdgeIndex(root, model_id="m", dimension=384)
    reopened.open()
    after.append(answers(reopened))
    reopened.close()
    for found in after:
        for old, new in zip(before, found, strict=True):
            assert [r for r, _ in new] == [r for r, _ in old]
            assert [s for _, s in new] == pytest.approx([s for _, s in old], abs=1e-5)


def test_step_two_scores_only_the_candidates_that_can_still_make_the_top() -> None:
    """From full lists, a point known by one list is bounded by the other list's last score:
    those that cannot reach the ``limit``-th guaranteed score are not scored again."""
    query = Query(np.ones(384, np.float32), SparseVector.empty())
    search = HybridSearch(query, limit=2, depth=3, ef=3, dense_weight=0.5, keyword_scale=0.5)
    found = Candidates(search, ([1, 2, 3], [0.9, 0.8, 0.5]), ([1, 4, 5], [0.9, 0.85, 0.1]))
    # 1 is known (0.9); 2 is at least 0.4 and at most 0.45; 3 at most 0.3; 4 at most 0.675
    # (a cosine of at most 0.5); 5 at most 0.3: only 2 and 4 are scored again.
    assert sorted(found.contenders) == [1, 2, 4]
    assert (found.missing_dense, found.missing_keywords) == ([4], [2])
    assert found.top(([4], [0.7]), ([2], [0.05])) == [
        (1, pytest.approx(0.9)),
        (4, pytest.approx(0.775)),
    ]
    # 2 shares no term with the query (no BM25 match: 0), and 4 is gone since step 1.
    assert found.top(([], []), ([], [])) == [(1, pytest.approx(0.9)), (2, pytest.approx(0.4))]
    # A keyword list that is not full holds every point sharing a term: the others have 0.
    short = Candidates(search, ([1, 2, 3], [0.9, 0.8, 0.5]), ([4, 1], [0.85, 0.1]))
    assert short.missing_keywords == []
    assert short.top(([4], [0.1]), ([], [])) == [
        (1, pytest.approx(0.5)),
        (4, pytest.approx(0.475)),
    ]


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
def test_edge_ranks_as_the_formula_over_every_candidate(tmp_path: Path) -> None:
    """On a shard large enough that both candidate lists are full, Edge's two requests (which
    score only the candidates that can still make the top) give the hits and scores of the
    nested Qdrant query through qdrant-client (which scores every candidate): for a suggestion's
    depth and for a short list, a query without keywords and a search among a few records."""
    rng = np.random.default_rng(11)
    points = _clustered_points(rng, "expertise", 600, words=60, topics=20, spread=0.8, length=10)
    queries = [
        Query(p.dense + 0.5 * rng.standard_normal(384).astype(np.float32), sparse_query(p.text))
        for p in points[::60]
    ]
    queries.append(Query(points[7].dense, SparseVector.empty()))
    few = set(range(1, 600, 2))
    answers = []
    for index in (
        EdgeIndex(tmp_path / "vectors", model_id="m", dimension=384),
        ServerIndex(QdrantClient(":memory:"), model_id="m", dimension=384),
    ):
        index.open()
        index.upsert(points)
        answers.append(
            [
                [(h.record_id, h.owner_id, h.text, h.score) for h in hits]
                for limit, among in ((80, None), (5, None), (20, few))
                for hits in index.search_many(
                    1, "expertise", queries, limit=limit, keyword_weight=0.5, record_ids=among
                )
            ]
        )
        index.close()
    for on_edge, on_server in zip(*answers, strict=True):
        assert len(on_edge) == len(on_server) > 0
        assert [h[:3] for h in on_edge] == [h[:3] for h in on_server]
        assert [h[3] for h in on_edge] == pytest.approx([h[3] for h in on_server], abs=1e-5)
