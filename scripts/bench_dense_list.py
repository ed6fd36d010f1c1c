r"""What the dense candidate list of a suggestion would cost on other Qdrant Edge settings.

A suggestion's article search asks each pain point for 80 passages: two candidate lists of 240
(dense and BM25), then the scores still missing (``embeddings.hybrid``). Below
``HNSW_MIN_POINTS`` the dense list is a full scan of the shard's vectors, the largest part of a
suggestion (docs/benchmarks.md §8). This script takes workspace 1's article shard from a store
built by ``scripts/bench_engine.py --keep`` and measures, on copies of it, each setting against
the shard as it is served:

* **dense pair**: the two dense lists of a contact with two pain points (one ``query_batch``,
  ``limit`` 240), median milliseconds, and their recall@240 against the exact lists (ids; tied
  duplicate passages make the exact list itself reach 0.999, not 1);
* **search pair** (settings a served shard could have as they are): the whole search of the two
  pain points through ``EdgeIndex.search_many`` (what the engine calls), median milliseconds, and
  recall@80 of its passages against the same search on the served shard.

Settings: HNSW with Qdrant's default graph (m 16, ef_construct 100) and a denser one (m 32,
ef_construct 256), each at a beam (``hnsw_ef``) of 240, 400 and 700; int8 scalar quantisation on
a full scan, without rescoring (scores off by up to ~7e-3) and rescored with oversampling 2
(exact scores; not a setting a served shard has: the search does not ask for it); 2 search
threads. Edge builds HNSW and quantisation only in ``optimize()`` (an appendable segment has
neither).

    .venv/bin/python scripts/bench_engine.py --points 20000 --cached-passages \
        --store-dir /tmp/store20k --keep
    .venv/bin/python scripts/bench_dense_list.py --store /tmp/store20k
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import qdrant_edge as edge  # noqa: E402

import embeddings.hybrid  # noqa: E402
from app.suggestions.config import EngineConfig  # noqa: E402
from embeddings.hybrid import DENSE, KEYWORDS, candidate_depth  # noqa: E402
from embeddings.index import EdgeIndex, model_tag  # noqa: E402
from embeddings.lexicon import spell_out  # noqa: E402
from embeddings.points import Query  # noqa: E402
from embeddings.text import sparse_query  # noqa: E402
from scripts.bench_engine import BIG, open_embedder, read_pain_points  # noqa: E402

ENGINE = EngineConfig()
PASSAGES = ENGINE.articles_per_query * 4  # a suggestion's passages per pain point
DEPTH = candidate_depth(PASSAGES)
SHARD = f"{BIG}-article"
HNSW = {"default graph (m 16, ef_construct 100)": (16, 100), "denser graph (m 32, 256)": (32, 256)}
BEAMS = (240, 400, 700)
RESCORED = edge.SearchParams(
    quantization=edge.QuantizationSearchParams(rescore=True, oversampling=2.0)
)


def pairs(queries: Sequence[Query]) -> Iterator[Sequence[Query]]:
    for start in range(0, len(queries) - 1, 2):
        yield queries[start : start + 2]


def dense_lists(
    shard: edge.EdgeShard, pair: Sequence[Query], params: edge.SearchParams | None
) -> list[list[int]]:
    requests = [
        edge.QueryRequest(
            limit=DEPTH, query=edge.Query.Nearest(q.dense.tolist(), using=DENSE), params=params
        )
        for q in pair
    ]
    found = shard.query_batch(edge.QueryBatchRequest(requests))
    return [[int(point.id) for point in points] for points in found]


Passage = tuple[int, int]  # (article, passage): a hit's identity


def overlap(found: Sequence[object], wanted: Sequence[object]) -> float:
    return len(set(found) & set(wanted)) / max(len(wanted), 1)


class Bench:
    def __init__(self, store: Path, queries: Sequence[Query], model_id: str, dimension: int):
        self.store, self.queries = store, queries
        self.model_id, self.dimension = model_id, dimension
        shard = edge.EdgeShard.load(self.shard_path(store / "index"))
        exact = edge.SearchParams(exact=True)
        self.exact = [lists for pair in pairs(queries) for lists in dense_lists(shard, pair, exact)]
        self.points = shard.count(edge.CountRequest(exact=True))
        shard.close()
        self.served = self._searches(store / "index")[1]

    def shard_path(self, index: Path) -> str:
        """The article shard of workspace ``BIG`` in the index folder ``index``."""
        return str(index / model_tag(self.model_id) / SHARD)

    def config(self, **settings: Any) -> edge.EdgeConfig:
        """``settings`` over the vectors as ``EdgeIndex`` stores an article shard's (Edge wants
        them named when it loads a shard with a configuration)."""
        dense = edge.EdgeVectorParams(
            size=self.dimension, distance=edge.Distance.Cosine, on_disk=True
        )
        keywords = edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf)
        return edge.EdgeConfig(
            vectors={DENSE: dense}, sparse_vectors={KEYWORDS: keywords}, **settings
        )

    @contextmanager
    def copy(self, config: edge.EdgeConfig, *, optimise: bool = True) -> Iterator[Path]:
        """A copy of the store's index whose article shard has ``config`` applied: loaded with
        it (Edge keeps it), and optimised (HNSW and quantisation are built there)."""
        with tempfile.TemporaryDirectory(dir=self.store) as folder:
            index = Path(folder) / "index"
            shutil.copytree(self.store / "index", index)
            shard = edge.EdgeShard.load(self.shard_path(index), config)
            if optimise:
                shard.optimize()
            shard.close()
            yield index

    def dense_pair(
        self, index: Path, params: edge.SearchParams | None = None
    ) -> tuple[float, float]:
        shard = edge.EdgeShard.load(self.shard_path(index))
        times: list[float] = []
        recall: list[float] = []
        for n, pair in enumerate(pairs(self.queries)):
            started = time.perf_counter()
            lists = dense_lists(shard, pair, params)
            times.append((time.perf_counter() - started) * 1000)
            recall += [overlap(found, self.exact[2 * n + i]) for i, found in enumerate(lists)]
        shard.close()
        return statistics.median(times[5:]), float(np.mean(recall))

    def search_pair(self, index: Path) -> tuple[float, float, float]:
        times, found = self._searches(index)
        recall = [overlap(ids, wanted) for ids, wanted in zip(found, self.served, strict=True)]
        return statistics.median(times[5:]), float(np.mean(recall)), min(recall)

    def _searches(self, folder: Path) -> tuple[list[float], list[list[Passage]]]:
        """Each pair's search time (ms) through ``EdgeIndex.search_many``, and every pain
        point's passages, in order."""
        index = EdgeIndex(folder, model_id=self.model_id, dimension=self.dimension)
        index.open()
        times: list[float] = []
        found: list[list[Passage]] = []
        try:
            for pair in pairs(self.queries):
                started = time.perf_counter()
                hits = index.search_many(
                    BIG, "article", pair, limit=PASSAGES, keyword_weight=ENGINE.keyword_weight
                )
                times.append((time.perf_counter() - started) * 1000)
                found += [[(hit.record_id, hit.passage) for hit in each] for each in hits]
            return times, found
        finally:
            index.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="bench_engine --store-dir")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".bench-cache")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    embedder = open_embedder(args.cache_dir)
    pains = read_pain_points(args.data)
    rng = np.random.default_rng(args.seed)
    # As the engine searches a pain point: shorthand spelled out, for the model and the keywords.
    texts = [
        spell_out(pains[int(i)].text) for i in rng.choice(len(pains), args.queries, replace=False)
    ]
    vectors = embedder.embed_queries(texts)
    queries = [Query(v, sparse_query(t)) for v, t in zip(vectors, texts, strict=True)]
    print(f"load average at the start: {os.getloadavg()[0]:.2f}", flush=True)
    bench = Bench(args.store, queries, embedder.model_id, embedder.dimension)
    print(f"{bench.points:,} passages, {args.queries} pain points in pairs\n")
    print("| setting | dense pair ms | recall@240 | search pair ms | recall@80 (min) |")
    print("| --- | --- | --- | --- | --- |")

    def row(
        name: str, dense: tuple[float, float], search: tuple[float, float, float] | None
    ) -> None:
        whole = f"{search[0]:.2f} | {search[1]:.4f} ({search[2]:.3f})" if search else "— | —"
        print(f"| {name} | {dense[0]:.2f} | {dense[1]:.4f} | {whole} |", flush=True)

    row(
        "full scan (as served)",
        bench.dense_pair(args.store / "index"),
        bench.search_pair(args.store / "index"),
    )
    served_beam = embeddings.hybrid.MIN_HNSW_EF
    for name, (m, ef_construct) in HNSW.items():
        graph = edge.HnswIndexConfig(m=m, ef_construct=ef_construct, full_scan_threshold=10_000)
        with bench.copy(bench.config(hnsw_config=graph)) as index:
            for beam in BEAMS:
                embeddings.hybrid.MIN_HNSW_EF = beam  # hnsw_ef(240) is then this beam
                params = edge.SearchParams(hnsw_ef=beam)
                row(
                    f"HNSW, {name}, ef {beam}",
                    bench.dense_pair(index, params),
                    bench.search_pair(index),
                )
    embeddings.hybrid.MIN_HNSW_EF = served_beam
    no_graph = edge.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000)
    int8 = edge.ScalarQuantizationConfig(edge.ScalarType.Int8, quantile=0.99, always_ram=True)
    with bench.copy(bench.config(hnsw_config=no_graph, quantization_config=int8)) as index:
        row("int8 full scan, not rescored", bench.dense_pair(index), None)
        row("int8 full scan, rescored (oversampling 2)", bench.dense_pair(index, RESCORED), None)
    with bench.copy(bench.config(max_search_threads=2), optimise=False) as index:
        row("full scan, 2 search threads", bench.dense_pair(index), None)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
