"""HNSW built beside a serving index (real model, real Qdrant Edge, a real child process): the
searches and writes made while the copy is optimised are neither blocked nor lost, the swap waits
for a search holding the shard, and a swap cut short is undone at the next open."""

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import qdrant_edge as edge

from embeddings.embedder import Embedder
from embeddings.factory import load_model
from embeddings.hybrid import reference_scores
from embeddings.index import HNSW_BUILT, OPTIMIZING, RETIRED, EdgeIndex, ShardKey
from embeddings.points import IndexPoint, Query
from tests.fixtures.hr_library import (
    WEIGHT,
    index_points,
    library_texts,
    pain_point_queries,
)

KEY: ShardKey = (1, "article")


@pytest.fixture(scope="module")
def model() -> Embedder:
    return load_model()


def _has_hnsw(index: EdgeIndex, key: ShardKey) -> bool:
    """Whether a segment of the shard holds an HNSW graph for the dense vectors."""
    return any(index._path(key).glob("segments/*/vector_index-dense/graph.bin"))


class _WritesDuringBuild(EdgeIndex):
    """Writes (another thread's, as a request's would be) while the child optimises the copy."""

    during: list[IndexPoint]
    deleted: int

    def _optimize_in_child(self, work: Path) -> None:
        def write() -> None:
            self.upsert(self.during)
            self.delete(*KEY, [self.deleted])

        writer = threading.Thread(target=write)
        writer.start()
        writer.join()
        assert self.stored_hashes(*KEY, [p.id for p in self.during]), "not blocked meanwhile"
        super()._optimize_in_child(work)


def _small_hnsw(index: EdgeIndex) -> EdgeIndex:
    """Build HNSW for a shard of a few dozen points (Qdrant's default threshold is ~6,000)."""
    index.hnsw_min_points = 10
    index.indexing_threshold_kb = 1
    return index


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
def test_a_background_build_keeps_the_writes_made_meanwhile(
    tmp_path: Path, model: Embedder
) -> None:
    texts = library_texts()
    first, later = (
        index_points(model, 1, texts[:-6], "article"),
        index_points(model, 1, texts[-6:], "article", first=500),
    )
    index = _small_hnsw(_WritesDuringBuild(tmp_path, model_id=model.model_id, dimension=384))
    index.open()
    index.upsert(first)
    index.during, index.deleted = later, first[0].id
    assert not _has_hnsw(index, KEY)

    index.build_hnsw_beside(KEY)

    assert _has_hnsw(index, KEY), "the optimised copy is the live shard now"
    assert not (index.folder / OPTIMIZING).exists() and not (index.folder / RETIRED).exists()
    assert (index.folder / HNSW_BUILT / "1-article").is_file()
    assert index.count(1, "article") == len(first) - 1 + len(later)
    assert index.stored_hashes(*KEY, [p.id for p in later]) == {p.id: p.text_hash for p in later}
    assert index.stored_hashes(*KEY, [first[0].id]) == {}, "the delete made meanwhile holds"
    mine = first[1:] + later
    dense = np.vstack([p.dense for p in mine])
    for query in pain_point_queries(model)[:8]:
        exact = reference_scores(query, dense, [p.keywords for p in mine], keyword_weight=WEIGHT)
        best = np.argsort(-exact, kind="stable")[:5]
        hits = index.search(1, "article", query, limit=5, keyword_weight=WEIGHT)
        assert [h.record_id for h in hits] == [mine[i].record_id for i in best]
    index.close()

    reopened = EdgeIndex(tmp_path, model_id=model.model_id, dimension=384)
    reopened.open()
    assert _has_hnsw(reopened, KEY)
    assert reopened.count(1, "article") == len(mine), "the swap survives a restart"
    reopened.close()


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
def test_the_swap_waits_for_a_search_that_holds_the_shard(tmp_path: Path, model: Embedder) -> None:
    index = _small_hnsw(EdgeIndex(tmp_path, model_id=model.model_id, dimension=384))
    index.open()
    index.upsert(index_points(model, 1, library_texts(), "article"))
    build = threading.Thread(target=index.build_hnsw_beside, args=(KEY,))
    with index._using(KEY) as shard:  # a search in the middle of its two requests
        build.start()
        deadline = time.monotonic() + 120
        while KEY not in index._swapping and time.monotonic() < deadline:
            time.sleep(0.05)
        assert KEY in index._swapping, "the build reached the swap"
        time.sleep(0.3)
        assert build.is_alive(), "the swap waits while the shard is in use"
        count = edge.CountRequest(exact=True)
        assert shard.count(count) == len(library_texts()), "the held shard still answers"
    build.join(timeout=60)
    assert not build.is_alive() and _has_hnsw(index, KEY)
    query: Query = pain_point_queries(model)[0]
    assert len(index.search(1, "article", query, limit=5, keyword_weight=WEIGHT)) == 5
    index.close()


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
def test_a_swap_cut_short_is_undone_at_the_next_open(tmp_path: Path, model: Embedder) -> None:
    points = index_points(model, 1, library_texts()[:5], "article")
    index = EdgeIndex(tmp_path, model_id=model.model_id, dimension=384)
    index.open()
    index.upsert(points)
    index.close()
    # Stopped between the two renames: the live shard moved aside, the copy not yet in place.
    live = index._path(KEY)
    (index.folder / RETIRED).mkdir()
    live.rename(index.folder / RETIRED / live.name)
    (index.folder / OPTIMIZING / live.name).mkdir(parents=True)

    index = EdgeIndex(tmp_path, model_id=model.model_id, dimension=384)
    index.open()
    assert not (index.folder / OPTIMIZING).exists() and not (index.folder / RETIRED).exists()
    assert index.stored_hashes(*KEY, [p.id for p in points]) == {p.id: p.text_hash for p in points}
    index.close()


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
def test_a_serving_index_builds_hnsw_on_its_own_once_a_shard_is_large(
    tmp_path: Path, model: Embedder
) -> None:
    index = _small_hnsw(EdgeIndex(tmp_path, model_id=model.model_id, dimension=384))
    index.hnsw_min_points = 30
    index.hnsw_check_every = 10
    index.open()
    index.start_background_work()
    library = index_points(model, 1, library_texts(), "article")
    assert len(library) >= 30
    index.upsert(library[:9])  # under the check interval and the size: nothing happens
    index.upsert(index_points(model, 1, library_texts()[:3], "expertise"))
    deadline = time.monotonic() + 120
    index.upsert(library[9:])
    while not (index.folder / HNSW_BUILT / "1-article").is_file():
        assert time.monotonic() < deadline, "no background build"
        time.sleep(0.1)
    assert _has_hnsw(index, KEY)
    assert not _has_hnsw(index, (1, "expertise")), "a small shard is left as it is"
    assert index.count(1, "article") == len(library)
    index.close()  # stops the worker
    assert index._hnsw_thread is None
