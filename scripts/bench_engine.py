r"""Benchmark of the search core on Qdrant Edge (``EdgeIndex``): speed, memory, recall at N points.

The points are real: the BEIR-layout corpora under ``--data`` (SciFact, ArguAna, FiQA pool,
CounselChat; read in place, never copied), embedded with the packaged model through a persistent
embedding cache in ``--cache-dir`` (so a second run embeds nothing):

* every document becomes an article, split into passages (``split_passages(title, None, text)``);
  a document without a title (most of ArguAna's) loses its empty passage 0: the API refuses an
  article without a title, so real use never indexes an empty passage;
* the corpora's queries become pain points (the queries of the searches below), interleaved
  corpus by corpus;
* SciFact's training claims (short sentences) become expertise lines.

Layout of ``--points N``: workspace 1 holds most points, as in real use: its article shard takes
whole documents, corpus by corpus, up to ``0.75 * N`` passages or as many as the real text has
(``--real-passages`` caps it; ``--cached-passages`` takes only what the cache holds), plus N/20
pain points and N/25 expertise lines (at least 100, at most what exists). The rest of N are
article points of other workspaces (``--other-workspaces``, at least enough that none holds more
than 50,000): first the real passages workspace 1 did not take, then
FILLER: copies of real points (vector, keywords and text) under new record ids. Each
(workspace, kind) is its own shard, so other workspaces never enter workspace 1's searches; they
count for the restart and the memory. The output says how many points are real and how many filler.

Measured, in one run:

* **build**: ``EdgeIndex.upsert`` of every point, 256 per call (as ``app.indexing`` writes), then
  ``close`` (flush);
* **restart**: ``--restarts`` fresh subprocesses, each doing what a service start does to the
  index: open ``EdgeIndex`` on the built folder, run the start-up reconcile as ``app.runtime``
  does (``RecordIndexer.reconcile`` on a session of the records database), then the first search
  (one workspace-1 pain point against its articles); seconds from before ``EdgeIndex(...)`` to
  after the first search, and the subprocess's VmRSS (``/proc/self/status``) after it, next to
  its VmRSS before opening (interpreter + imports) so the index's own share shows. The points are
  written straight to the index, so the records database (SQLite, migrated, in the store folder)
  holds no records: the build marks the index in step with it, as a clean stop of the service
  leaves its index, and the reconcile reads no shard. The model is not loaded (the service loads
  it too, but it is not the index's cost; nothing here embeds). A start after a crash, which
  also reads the shards written since the last clean stop, is not measured;
* **suggest for one contact** (warm, ``--contacts`` contacts of 1-3 pain points): what the engine
  searches for a contact, ``SuggestionEngine.search_pain_points`` (the searches of ``suggest``:
  query vectors from the embedding cache, as in production, once; the articles deepened until 20
  distinct, then the expertise lines), with ``EngineConfig()`` defaults; p50 / p99, and the time
  in ``search_many`` per kind. (Until 2026-12-01 it timed ``rank_articles`` and then embedded
  the texts again for the expertise search: the cache lookups counted twice.);
* **recall@20 against exact**, over ``--recall-queries`` pain points: the top 20 of
  ``search_many(1, "article", [q], limit=20, keyword_weight=w)`` (w: the engine's default)
  against the top 20 of the exact formula over every article point of workspace 1. The exact
  top 20 is computed with the vectorised numpy/scipy version of the formula (below); for the
  first ``--reference-queries`` queries it is also computed with
  ``embeddings.hybrid.reference_scores`` (pure Python, ~seconds per query at this size) and the
  two are compared (largest score difference, identical top 20).
  Recall counts the returned ids in the exact top 20 ("ids"), and also, since duplicate passages
  score alike, the returned points whose exact score reaches the exact 20th score ("ties");
* **numpy baseline, same run**: the exact formula per query over the same article points: a
  dense matrix product plus BM25 as a scipy CSC product over the query's term columns, IDF from
  the shard's document frequencies (computed once, like an index), top 20 by argpartition; per
  query, against the Edge search of the same query (p50 ratio Edge / numpy). The baseline runs on
  one BLAS thread (``threadpoolctl``): on 2 busy cores OpenBLAS's threads make the matrix-vector
  product up to ten times slower, not faster; the default-threads figure is printed too.

``--optimize`` builds HNSW for workspace 1's shards after the upserts (``EdgeIndex.optimize``, timed
apart from the build), so the searches run on HNSW instead of a full scan.

The index is built in ``--store-dir`` (default: a fresh folder under the cache dir, removed at the
end unless ``--keep``). ``--restart-only`` builds and measures the build and the restarts only
(for 1,000,000 points, where the rest would measure workspace 1 again: its shard does not grow).

    .venv/bin/python scripts/bench_engine.py --points 20000
    .venv/bin/python scripts/bench_engine.py --points 100000 --json
    .venv/bin/python scripts/bench_engine.py --points 1000000 --restart-only   # mostly filler
    .venv/bin/python scripts/bench_engine.py --points 100000 --optimize --json   # HNSW on
    .venv/bin/python scripts/bench_engine.py --embed-only     # fill the embedding cache first
"""

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from app.suggestions.config import EngineConfig  # noqa: E402
from scripts.benchkit.measure import pct, proc_status_kib  # noqa: E402

MEMORY_KEYS = ("VmRSS", "VmHWM", "RssAnon", "RssFile")

if TYPE_CHECKING:
    from scipy.sparse import csc_matrix

    from embeddings.cache import CachedEmbedder
    from embeddings.points import IndexPoint, Kind, Query
    from embeddings.text import SparseVector

CORPORA = ("scifact", "arguana", "fiqa-pool", "counselchat")
EMBED_CHUNK = 512
UPSERT_BATCH = 256  # what app.indexing writes per upsert call
MAX_OTHER_SHARD = 50_000
BIG = 1  # the big workspace's id
KEYWORD_WEIGHT = (
    EngineConfig().keyword_weight
)  # the top 20 as the engine ranks (0.7 until 2026-12-01)
TOP = 20
FILLER_RECORDS = 10_000_000  # record ids of filler articles start here
Vectors = npt.NDArray[np.float32]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the real text --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    corpus: str
    record: int  # the article (passages) or the query's row
    passage: int
    text: str


def _jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_passages(data: Path) -> list[Text]:
    """Every document of every corpus, split into article passages, corpus by corpus."""
    from embeddings.text import split_passages

    out: list[Text] = []
    record = 0
    for corpus in CORPORA:
        for row in _jsonl(data / corpus / "corpus.jsonl"):
            record += 1
            title, body = str(row.get("title") or ""), str(row.get("text") or "")
            for p in split_passages(title, None, body):
                if p.text.strip():  # a document without a title (ArguAna's) has no passage 0
                    out.append(Text(corpus, record, p.index, p.text))
    return out


def read_pain_points(data: Path) -> list[Text]:
    """The queries of every corpus's search, interleaved corpus by corpus."""
    per_corpus = [
        [str(row["text"]) for row in _jsonl(data / corpus / "queries.jsonl")] for corpus in CORPORA
    ]
    out: list[Text] = []
    for i in range(max(len(q) for q in per_corpus)):
        for corpus, queries in zip(CORPORA, per_corpus, strict=True):
            if i < len(queries):
                out.append(Text(corpus, len(out) + 1, 0, queries[i]))
    return out


def read_expertise(data: Path) -> list[Text]:
    """Short texts of another query set: SciFact's training claims."""
    rows = _jsonl(data / "scifact" / "queries_train.jsonl")
    return [Text("scifact-train", i + 1, 0, str(r["text"])) for i, r in enumerate(rows)]


def open_embedder(cache_dir: Path) -> "CachedEmbedder":
    from embeddings.cache import CachedEmbedder, EmbeddingCache
    from embeddings.factory import load_model

    cache_dir.mkdir(parents=True, exist_ok=True)
    return CachedEmbedder(load_model(), EmbeddingCache(cache_dir / "embeddings.sqlite3"))


def embed(embedder: "CachedEmbedder", texts: Sequence[Text], role: str) -> Vectors:
    """Vectors of ``texts``, chunk by chunk (the cache answers what it holds), with progress."""
    out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    started = time.perf_counter()
    for start in range(0, len(texts), EMBED_CHUNK):
        chunk = [t.text for t in texts[start : start + EMBED_CHUNK]]
        before = embedder.computed
        call = embedder.embed_queries if role == "query" else embedder.embed_documents
        out[start : start + len(chunk)] = call(chunk)
        if embedder.computed > before:
            log(
                f"embedded {role}s {start + len(chunk)}/{len(texts)}: "
                f"{embedder.computed - before} by the model ({time.perf_counter() - started:.0f} s)"
            )
    return out


def cached_prefix(cache_dir: Path, model_id: str, texts: Sequence[Text]) -> int:
    """How many of ``texts``, from the first, the embedding cache holds (as ``CachedEmbedder``
    keys documents)."""
    from embeddings.cache import EmbeddingCache, text_hash

    keys = [text_hash(f"document\x00{t.text}") for t in texts]
    cache = EmbeddingCache(cache_dir / "embeddings.sqlite3")
    held = cache.get_many(model_id, keys)
    cache.close()
    return next((i for i, key in enumerate(keys) if key not in held), len(keys))


def embed_all(args: argparse.Namespace) -> None:
    """Fill the cache: pain points, expertise, then passages in the order workspace 1 takes them."""
    embedder = open_embedder(args.cache_dir)
    embed(embedder, read_pain_points(args.data), "query")
    embed(embedder, read_expertise(args.data), "document")
    passages = read_passages(args.data)
    if args.real_passages is not None:
        passages = passages[: args.real_passages]
    embed(embedder, passages, "document")
    log(f"done: {embedder.computed} texts embedded by the model")


# -- the layout -----------------------------------------------------------------------------------


@dataclass
class Shard:
    """The points of one (workspace, kind): rows of the real texts' vectors, some as filler."""

    workspace_id: int
    kind: "Kind"
    rows: list[int]  # into the kind's real texts (passages, pain points or expertise)
    filler: int = 0  # how many of ``rows`` are copies


@dataclass
class Layout:
    shards: list[Shard]
    big_articles: int  # documents in workspace 1
    real: int
    filler: int

    @property
    def points(self) -> int:
        return self.real + self.filler


def plan_layout(
    points: int, passages: Sequence[Text], pains: int, expertise: int, others: int | None
) -> Layout:
    """Workspace 1: whole documents up to 0.75 * points passages, pain points, expertise; the
    rest: other workspaces' articles, real passages first, then filler copies."""
    n_pain = min(pains, max(100, points // 20))
    n_expertise = min(expertise, max(100, points // 25))
    target = int(points * 0.75)
    cut = 0
    while cut < len(passages):  # whole documents only
        end = cut
        while end < len(passages) and passages[end].record == passages[cut].record:
            end += 1
        if end > target:
            break
        cut = end
    big = Shard(BIG, "article", list(range(cut)))
    shards = [
        big,
        Shard(BIG, "pain_point", list(range(n_pain))),
        Shard(BIG, "expertise", list(range(n_expertise))),
    ]
    rest = max(points - cut - n_pain - n_expertise, 0)
    count = others or max(5, math.ceil(rest / MAX_OTHER_SHARD))
    leftover = list(range(cut, len(passages)))
    filler_source = 0
    for w in range(count):
        size = rest // count + (1 if w < rest % count else 0)
        real_rows, leftover = leftover[:size], leftover[size:]
        copies = size - len(real_rows)
        rows = real_rows + [(filler_source + i) % len(passages) for i in range(copies)]
        filler_source += copies
        shards.append(Shard(BIG + 1 + w, "article", rows, copies))
    filler = sum(s.filler for s in shards)
    return Layout(
        shards,
        big_articles=len({passages[i].record for i in big.rows}),
        real=sum(len(s.rows) for s in shards) - filler,
        filler=filler,
    )


def shard_points(
    shard: Shard,
    texts: Sequence[Text],
    vectors: Vectors,
    keywords: Sequence["SparseVector"],
) -> Iterator[list["IndexPoint"]]:
    """The shard's points, ``UPSERT_BATCH`` at a time (filler: new record ids, same content)."""
    from embeddings.cache import text_hash
    from embeddings.points import IndexPoint

    real = len(shard.rows) - shard.filler
    batch: list[IndexPoint] = []
    for i, row in enumerate(shard.rows):
        t = texts[row]
        if shard.kind == "article":
            record = t.record if i < real else FILLER_RECORDS + i
            owner, passage = record, t.passage
        else:
            record, owner, passage = t.record, 1 + t.record // 2, 0  # two texts per contact
        batch.append(
            IndexPoint(
                workspace_id=shard.workspace_id,
                kind=shard.kind,
                record_id=record,
                owner_id=owner,
                passage=passage,
                text=t.text,
                text_hash=text_hash(t.text),
                dense=vectors[row],
                keywords=keywords[row],
            )
        )
        if len(batch) == UPSERT_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


# -- measurements ---------------------------------------------------------------------------------


def query_to_json(query: "Query") -> dict[str, Any]:
    return {
        "dense": query.dense.tolist(),
        "indices": query.keywords.indices.tolist(),
        "values": query.keywords.values.tolist(),
    }


class _ModelNotLoaded:
    """The embedder of the restart probe: a start-up reconcile of an index in step embeds
    nothing, so the model is not loaded (its memory is not the index's)."""

    def __init__(self, model_id: str, dimension: int) -> None:
        self.model_id = model_id
        self.dimension = dimension

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        raise RuntimeError("the restart probe embeds nothing")

    embed_documents = embed_queries


def records_database(store: Path) -> str:
    """The URL of the benchmark's (empty) records database."""
    return f"sqlite:///{store / 'records.sqlite3'}"


def mark_built_index_in_step(folder: Path, model_id: str, dimension: int, url: str) -> None:
    """Create the records database and mark the index in step with it (what a clean stop of the
    service leaves behind)."""
    from app.db import create_db_engine, create_session_factory, migrate, session_scope
    from app.indexing import database_fingerprint
    from embeddings.index import EdgeIndex

    engine = create_db_engine(url)
    migrate(engine)
    index = EdgeIndex(folder, model_id=model_id, dimension=dimension)
    index.open()
    with session_scope(create_session_factory(engine)) as session:
        index.mark_in_step(database_fingerprint(session))
    index.close()
    engine.dispose()


def restart_probe(
    folder: Path, model_id: str, dimension: int, query_file: Path, database_url: str
) -> None:
    """Run in a fresh subprocess: open the index, the start-up reconcile, the first search; print
    one JSON line."""
    from app.db import create_db_engine, create_session_factory, session_scope
    from app.indexing import RecordIndexer
    from embeddings.index import EdgeIndex
    from embeddings.points import Query
    from embeddings.text import SparseVector

    raw = json.loads(query_file.read_text())
    query = Query(
        np.asarray(raw["dense"], dtype=np.float32),
        SparseVector(
            np.asarray(raw["indices"], dtype=np.int64), np.asarray(raw["values"], dtype=np.float32)
        ),
    )
    before = proc_status_kib(MEMORY_KEYS)
    started = time.perf_counter()
    index = EdgeIndex(folder, model_id=model_id, dimension=dimension)
    index.open()
    opened = time.perf_counter()
    engine = create_db_engine(database_url)
    with session_scope(create_session_factory(engine)) as session:
        repaired = RecordIndexer(_ModelNotLoaded(model_id, dimension), index).reconcile(session)
    reconciled = time.perf_counter()
    hits = index.search_many(BIG, "article", [query], limit=TOP, keyword_weight=KEYWORD_WEIGHT)[0]
    done = time.perf_counter()
    after = proc_status_kib(MEMORY_KEYS)
    opened_shards = sorted(f"{w}-{k}" for w, k in index.open_shards())
    second = time.perf_counter()
    index.search_many(BIG, "article", [query], limit=TOP, keyword_weight=KEYWORD_WEIGHT)
    second = time.perf_counter() - second
    index.close()
    engine.dispose()
    print(
        json.dumps(
            {
                "seconds": done - started,
                "open_s": opened - started,
                "reconcile_s": reconciled - opened,
                "repaired": list(repaired),
                "first_search_s": done - reconciled,
                "second_search_s": second,
                "shards_on_disk": len(index.shards()),
                "shards_opened": opened_shards,
                "hits": len(hits),
                "rss_before_mib": before["VmRSS"] / 1024,
                "rss_after_mib": after["VmRSS"] / 1024,
                "hwm_after_mib": after["VmHWM"] / 1024,
                "anon_after_mib": after["RssAnon"] / 1024,
                "file_after_mib": after["RssFile"] / 1024,
            }
        )
    )


def measure_restarts(
    folder: Path, model_id: str, dimension: int, query: "Query", runs: int, database_url: str
) -> list[dict[str, Any]]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(query_to_json(query), handle)
    out = []
    try:
        for _ in range(runs):
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--restart-probe",
                str(folder),
                "--model-id",
                model_id,
                "--dimension",
                str(dimension),
                "--probe-query",
                handle.name,
                "--database-url",
                database_url,
            ]
            started = time.perf_counter()
            result = subprocess.run(command, capture_output=True, text=True, check=True)
            row = json.loads(result.stdout.strip().splitlines()[-1])
            row["process_wall_s"] = time.perf_counter() - started
            out.append(row)
            log(
                f"restart: {row['seconds']:.3f} s, RSS {row['rss_after_mib']:.0f} MiB "
                f"({len(row['shards_opened'])} of {row['shards_on_disk']} shards opened)"
            )
    finally:
        os.unlink(handle.name)
    return out


@dataclass
class ExactHybrid:
    """The hybrid formula over a fixed set of points, exactly, vectorised: the numpy baseline."""

    dense: Vectors
    norms: npt.NDArray[np.float32]
    matrix: "csc_matrix"  # points x terms, BM25 document weights; columns for fast slicing
    columns: dict[int, int]  # term id -> column
    frequency: npt.NDArray[np.float32]  # points holding each column's term

    @classmethod
    def build(cls, dense: Vectors, keywords: Sequence["SparseVector"]) -> "ExactHybrid":
        from scipy.sparse import csr_matrix

        columns: dict[int, int] = {}
        rows, cols, values = [], [], []
        for r, vector in enumerate(keywords):
            for term, weight in zip(vector.indices.tolist(), vector.values.tolist(), strict=True):
                rows.append(r)
                cols.append(columns.setdefault(term, len(columns)))
                values.append(weight)
        matrix = csr_matrix(
            (np.asarray(values, np.float32), (rows, cols)), shape=(len(keywords), len(columns))
        ).tocsc()
        frequency = np.diff(matrix.indptr).astype(np.float32)
        norms = np.linalg.norm(dense, axis=1).astype(np.float32)
        return cls(dense, norms, matrix, columns, frequency)

    def scores(self, query: "Query", keyword_weight: float) -> npt.NDArray[np.float64]:
        from embeddings.hybrid import fuse

        cosine, keyword = self.parts(query)
        return np.asarray(fuse(cosine, keyword, keyword_weight))

    def parts(self, query: "Query") -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Every point's cosine and normalised BM25 (BM25 / ceiling)."""
        from embeddings.hybrid import idf_many, keyword_ceiling

        points = self.dense.shape[0]
        cosine = (self.dense @ query.dense) / np.maximum(
            self.norms * float(np.linalg.norm(query.dense)), 1e-12
        )
        found = [
            (self.columns[t], q)
            for t, q in zip(
                query.keywords.indices.tolist(), query.keywords.values.tolist(), strict=True
            )
            if t in self.columns
        ]
        if found:
            cols = np.fromiter((c for c, _ in found), np.int64, len(found))
            counts = np.fromiter((q for _, q in found), np.float32, len(found))
            weights = counts * idf_many(points, self.frequency[cols])
            bm25 = self.matrix[:, cols] @ weights
        else:
            bm25 = np.zeros(points, np.float32)
        ceiling = keyword_ceiling(query.keywords, points)
        return cosine.astype(np.float64), np.asarray(bm25, dtype=np.float64) / ceiling


def recall_of(
    index: Any,
    kind: "Kind",
    exact: ExactHybrid,
    keys: Sequence[tuple[int, int]],
    queries: Sequence["Query"],
    limit: int,
    keyword_weight: float,
) -> dict[str, float]:
    """Recall of ``limit`` results of ``index.search(1, kind, ...)`` against the exact formula
    over the shard's points (``keys``: each row's (record, passage)); by ids, and counting a
    returned point whose exact score reaches the exact last one's (ties)."""
    where = {key: row for row, key in enumerate(keys)}
    by_ids: list[float] = []
    ties: list[float] = []
    for query in queries:
        hits = index.search(BIG, kind, query, limit=limit, keyword_weight=keyword_weight)
        got = [where[(h.record_id, h.passage)] for h in hits]
        scores = exact.scores(query, keyword_weight)
        best = top(scores, limit)
        floor = scores[best[-1]] - 1e-6
        by_ids.append(len(set(best.tolist()).intersection(got)) / len(best))
        ties.append(min(sum(1 for g in got if scores[g] >= floor), len(best)) / len(best))
    return {
        "queries": len(queries),
        "limit": limit,
        "ids": statistics.mean(by_ids),
        "ties": statistics.mean(ties),
        "queries_below_1": sum(1 for r in ties if r < 1.0),
    }


def top(scores: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.int64]:
    """The rows of the ``k`` best scores, best first."""
    k = min(k, scores.size)
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


class SearchTimer:
    """Adds up the seconds ``index.search_many`` takes per kind (wraps the instance's method)."""

    def __init__(self, index: Any) -> None:
        self.index = index
        self.spent: dict[str, float] = {}
        inner = index.search_many

        def search_many(workspace_id: int, kind: str, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(workspace_id, kind, *args, **kwargs)
            finally:
                self.spent[kind] = self.spent.get(kind, 0.0) + time.perf_counter() - started

        index.search_many = search_many

    def remove(self) -> None:
        del self.index.search_many


@dataclass
class Figures:
    values: dict[str, Any] = field(default_factory=dict)

    def __setitem__(self, key: str, value: Any) -> None:
        self.values[key] = value

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run(args: argparse.Namespace) -> Figures:
    from threadpoolctl import threadpool_limits

    from app.suggestions.engine import SuggestionEngine
    from embeddings.hybrid import candidate_depth, reference_scores
    from embeddings.index import EdgeIndex
    from embeddings.points import Query
    from embeddings.text import SparseVector, sparse_document, sparse_query

    fig = Figures()
    fig["points_asked"] = args.points
    fig["date_utc"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    fig["nproc"] = os.cpu_count()
    fig["cpu"] = cpu_name()
    fig["loadavg_start"] = [round(x, 2) for x in os.getloadavg()]

    # The texts and their vectors (the cache answers; the model embeds what it lacks).
    started = time.perf_counter()
    passages, pains, expertise = (
        read_passages(args.data),
        read_pain_points(args.data),
        read_expertise(args.data),
    )
    if args.real_passages is not None:
        passages = passages[: args.real_passages]
    embedder = open_embedder(args.cache_dir)
    if args.cached_passages:
        passages = passages[: cached_prefix(args.cache_dir, embedder.model_id, passages)]
        log(f"real passages: the {len(passages):,} the cache holds (in order)")
    layout = plan_layout(args.points, passages, len(pains), len(expertise), args.other_workspaces)
    used = max(max(s.rows, default=-1) for s in layout.shards if s.kind == "article") + 1
    pain_vectors = embed(embedder, pains, "query")
    expertise_vectors = embed(embedder, expertise, "document")
    passage_vectors = embed(embedder, passages[:used], "document")
    fig["embedded_by_model"] = embedder.computed
    fig["model_id"] = embedder.model_id
    log(f"vectors ready ({time.perf_counter() - started:.1f} s, {embedder.computed} by the model)")
    passage_keywords = [sparse_document(t.text) for t in passages[:used]]
    pain_keywords = [sparse_document(t.text) for t in pains]
    expertise_keywords = [sparse_document(t.text) for t in expertise]
    sources = {
        "article": (passages, passage_vectors, passage_keywords),
        "pain_point": (pains, pain_vectors, pain_keywords),
        "expertise": (expertise, expertise_vectors, expertise_keywords),
    }
    big = layout.shards[0]
    fig["layout"] = {
        "points": layout.points,
        "real": layout.real,
        "filler": layout.filler,
        "big_workspace": {
            "articles": layout.big_articles,
            "article_points": len(big.rows),
            "pain_points": len(layout.shards[1].rows),
            "expertise": len(layout.shards[2].rows),
            "corpora": sorted({passages[i].corpus for i in big.rows}),
            "without_keywords": sum(1 for i in big.rows if passage_keywords[i].indices.size == 0),
        },
        "other_workspaces": [
            {"workspace": s.workspace_id, "article_points": len(s.rows), "filler": s.filler}
            for s in layout.shards[3:]
        ],
    }
    log(
        f"layout: {layout.points:,} points ({layout.real:,} real, {layout.filler:,} filler); "
        f"workspace 1: {len(big.rows):,} passages of {layout.big_articles:,} articles"
    )

    # Build.
    store = args.store_dir or Path(tempfile.mkdtemp(prefix="edge-", dir=args.cache_dir))
    store.mkdir(parents=True, exist_ok=True)
    folder = store / "index"
    if folder.exists():
        shutil.rmtree(folder)
    index = EdgeIndex(folder, model_id=embedder.model_id, dimension=embedder.dimension)
    index.open()
    build: dict[str, float] = {}
    started = time.perf_counter()
    for shard in layout.shards:
        shard_started = time.perf_counter()
        texts, vectors, keywords = sources[shard.kind]
        for batch in shard_points(shard, texts, vectors, keywords):
            index.upsert(batch)
        build[f"{shard.workspace_id}-{shard.kind}"] = time.perf_counter() - shard_started
    upserted = time.perf_counter()
    optimized: dict[str, float] = {}
    if args.optimize:  # HNSW for workspace 1's shards, as an offline step would build it
        for shard in layout.shards[:3]:
            name, shard_started = f"{shard.workspace_id}-{shard.kind}", time.perf_counter()
            index.optimize(shard.workspace_id, shard.kind)
            optimized[name] = time.perf_counter() - shard_started
            log(f"optimised {name} in {optimized[name]:.1f} s")
    optimize_s = time.perf_counter() - upserted
    index.close()
    build_total = time.perf_counter() - started - optimize_s
    database_url = records_database(store)
    mark_built_index_in_step(folder, embedder.model_id, embedder.dimension, database_url)
    fig["build"] = {
        "seconds": build_total,
        "upsert_s": upserted - started,
        "close_flush_s": build_total - (upserted - started),
        "optimize_s": optimized,
        "points_per_s": layout.points / build_total,
        "big_articles_s": build[f"{BIG}-article"],
        "disk_mib": sum(f.stat().st_blocks * 512 for f in folder.rglob("*") if f.is_file()) / 2**20,
        "apparent_mib": sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 2**20,
    }
    log(f"built in {build_total:.1f} s ({layout.points / build_total:,.0f} points/s)")

    # Restart, in fresh processes.
    probe = Query(pain_vectors[0], sparse_query(pains[0].text))
    restarts = measure_restarts(
        folder, embedder.model_id, embedder.dimension, probe, args.restarts, database_url
    )
    fig["restart"] = {
        "runs": restarts,
        "median_s": statistics.median(r["seconds"] for r in restarts),
        "median_rss_mib": statistics.median(r["rss_after_mib"] for r in restarts),
        "median_rss_before_mib": statistics.median(r["rss_before_mib"] for r in restarts),
        "median_process_wall_s": statistics.median(r["process_wall_s"] for r in restarts),
    }
    if args.restart_only:
        finish(fig, args, store)
        return fig

    # Suggest for one contact, warm.
    index = EdgeIndex(folder, model_id=embedder.model_id, dimension=embedder.dimension)
    index.open()
    config = EngineConfig()
    engine = SuggestionEngine(embedder, index, config)
    rng = np.random.default_rng(args.seed)
    n_pain = len(layout.shards[1].rows)
    contacts = [
        [
            pains[int(i)].text
            for i in rng.choice(n_pain, size=int(rng.integers(1, 4)), replace=False)
        ]
        for _ in range(args.contacts + args.warmup)
    ]
    per_contact: list[float] = []
    articles_ms: list[float] = []
    expertise_ms: list[float] = []
    found_articles: list[int] = []
    timed = SearchTimer(index)
    for n, contact_texts in enumerate(contacts):
        timed.spent.clear()
        t0 = time.perf_counter()
        ranked, _ = engine.search_pain_points(workspace_id=BIG, texts=contact_texts)
        t1 = time.perf_counter()
        if n >= args.warmup:
            per_contact.append((t1 - t0) * 1000)
            articles_ms.append(timed.spent.get("article", 0.0) * 1000)
            expertise_ms.append(timed.spent.get("expertise", 0.0) * 1000)
            found_articles += [len(r) for r in ranked]
    timed.remove()
    fig["suggest"] = {
        "contacts": args.contacts,
        "pain_points_per_contact": statistics.mean(len(c) for c in contacts[args.warmup :]),
        "p50_ms": pct(per_contact, 50),
        "p99_ms": pct(per_contact, 99),
        "articles_p50_ms": pct(articles_ms, 50),
        "expertise_p50_ms": pct(expertise_ms, 50),
        "articles_found_mean": statistics.mean(found_articles),
    }
    log(f"suggest: p50 {fig['suggest']['p50_ms']:.2f} ms, p99 {fig['suggest']['p99_ms']:.2f} ms")

    # Recall@20 against exact, and the numpy baseline, on the same queries.
    rows = big.rows
    dense = passage_vectors[rows]
    keywords = [passage_keywords[i] for i in rows]
    started = time.perf_counter()
    exact = ExactHybrid.build(dense, keywords)
    fig["numpy_build_s"] = time.perf_counter() - started
    where = {(passages[i].record, passages[i].passage): r for r, i in enumerate(rows)}
    picks = rng.choice(n_pain, size=min(args.recall_queries, n_pain), replace=False)
    edge_ms: list[float] = []
    numpy_ms: list[float] = []
    recall_ids: list[float] = []
    recall_ties: list[float] = []
    agreement: list[dict[str, float]] = []
    misses: list[dict[str, int]] = []
    queries = [Query(pain_vectors[p], sparse_query(pains[p].text)) for p in picks.tolist()]
    # Timed in separate passes, so that neither runs while the other's threads wind down.
    found: list[list[int]] = []
    edge_scores: list[list[float]] = []
    for query in queries:
        t0 = time.perf_counter()
        hits = index.search(BIG, "article", query, limit=TOP, keyword_weight=KEYWORD_WEIGHT)
        edge_ms.append((time.perf_counter() - t0) * 1000)
        found.append([where[(h.record_id, h.passage)] for h in hits])
        edge_scores.append([h.score for h in hits])
    numpy_threads_ms: list[float] = []
    with threadpool_limits(1):  # one BLAS thread: see the docstring
        for query in queries:
            t0 = time.perf_counter()
            top(exact.scores(query, KEYWORD_WEIGHT), TOP)
            numpy_ms.append((time.perf_counter() - t0) * 1000)
    for query in queries:
        t0 = time.perf_counter()
        top(exact.scores(query, KEYWORD_WEIGHT), TOP)
        numpy_threads_ms.append((time.perf_counter() - t0) * 1000)
    score_diffs: list[float] = []
    for n, (query, got) in enumerate(zip(queries, found, strict=True)):
        scores = exact.scores(query, KEYWORD_WEIGHT)
        score_diffs += [abs(e - scores[g]) for e, g in zip(edge_scores[n], got, strict=True)]
        best = top(scores, TOP)
        want = set(best.tolist())
        floor = scores[best[-1]] - 1e-6
        recall_ids.append(len(want.intersection(got)) / len(want))
        recall_ties.append(min(sum(1 for g in got if scores[g] >= floor), len(want)) / len(want))
        if scores[got].min(initial=np.inf) < floor or len(got) < len(want):
            # A real miss: where the missed points rank by each vector alone (the candidate
            # lists hold the best ``candidate_depth(20)`` of each).
            cosine, keyword = exact.parts(query)
            for m in want.difference(got):
                misses.append(
                    {
                        "exact_rank": int((scores > scores[m]).sum()) + 1,
                        "dense_rank": int((cosine > cosine[m]).sum()) + 1,
                        "keyword_rank": int((keyword > keyword[m]).sum()) + 1,
                        "gap": float(scores[m] - scores[got].min(initial=np.inf)),
                    }
                )
        if n < args.reference_queries:
            reference = reference_scores(query, dense, keywords, keyword_weight=KEYWORD_WEIGHT)
            agreement.append(
                {
                    "max_abs_diff": float(np.max(np.abs(reference - scores))),
                    "same_top": float(set(top(reference, TOP).tolist()) == want),
                }
            )
    # The other searches the engine issues, each against the exact formula over its shard.
    expertise_rows = layout.shards[2].rows
    kinds_recall = {
        f"article, limit {config.articles_per_query * 4} (a suggestion's passages)": recall_of(
            index,
            "article",
            exact,
            [(passages[i].record, passages[i].passage) for i in rows],
            queries,
            config.articles_per_query * 4,
            config.keyword_weight,
        ),
        f"expertise, limit {config.expertise_per_query}": recall_of(
            index,
            "expertise",
            ExactHybrid.build(
                expertise_vectors[expertise_rows], [expertise_keywords[i] for i in expertise_rows]
            ),
            [(expertise[i].record, 0) for i in expertise_rows],
            queries,
            config.expertise_per_query,
            config.keyword_weight,
        ),
        "pain points, limit 50, dense only (who needs an article)": recall_of(
            index,
            "pain_point",
            ExactHybrid.build(
                pain_vectors[layout.shards[1].rows],
                [pain_keywords[i] for i in layout.shards[1].rows],
            ),
            [(pains[i].record, 0) for i in layout.shards[1].rows],
            [Query(passage_vectors[i], SparseVector.empty()) for i in rows[: len(queries)]],
            50,
            0.0,
        ),
    }
    index.close()
    fig["recall_by_kind"] = kinds_recall
    fig["recall"] = {
        "queries": len(picks),
        "recall_at_20_ids": statistics.mean(recall_ids),
        "recall_at_20_ties": statistics.mean(recall_ties),
        "min_recall_ids": min(recall_ids),
        "queries_below_1": sum(1 for r in recall_ties if r < 1.0),
        "reference_checked": len(agreement),
        "reference_max_abs_diff": max((a["max_abs_diff"] for a in agreement), default=0.0),
        "reference_same_top": sum(a["same_top"] for a in agreement),
        "candidate_depth": candidate_depth(TOP),
        "edge_vs_exact_score_p50": pct(score_diffs, 50),
        "edge_vs_exact_score_max": max(score_diffs),
        "misses": misses,
    }
    fig["per_query"] = {
        "edge_p50_ms": pct(edge_ms, 50),
        "edge_p99_ms": pct(edge_ms, 99),
        "numpy_p50_ms": pct(numpy_ms, 50),
        "numpy_p99_ms": pct(numpy_ms, 99),
        "edge_over_numpy_p50": pct(edge_ms, 50) / pct(numpy_ms, 50),
        "numpy_default_threads_p50_ms": pct(numpy_threads_ms, 50),
        "numpy_default_threads_p99_ms": pct(numpy_threads_ms, 99),
    }
    finish(fig, args, store)
    return fig


def finish(fig: Figures, args: argparse.Namespace, store: Path) -> None:
    fig["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    fig["targets"] = targets(fig)
    if not args.keep and args.store_dir is None:
        shutil.rmtree(store, ignore_errors=True)


def targets(fig: Figures) -> dict[str, str]:
    """The issue's targets that this run's size speaks to: met, missed, or not measured."""
    points = fig["layout"]["points"]
    big = fig["layout"]["big_workspace"]
    out: dict[str, str] = {}

    def verdict(value: float, limit: float, unit: str, higher: bool = False) -> str:
        ok = value >= limit if higher else value < limit
        sign = "≥" if higher else "<"
        return f"{'MET' if ok else 'MISSED'} ({value:.3g} {unit}, target {sign} {limit:g})"

    restart = fig["restart"]
    if points >= 1_000_000:
        out["restart < 3 s at 1,000,000"] = verdict(restart["median_s"], 3, "s")
        out["RSS < 300 MiB at 1,000,000"] = verdict(restart["median_rss_mib"], 300, "MiB")
    elif points >= 100_000:
        out["restart < 1 s at 100,000"] = verdict(restart["median_s"], 1, "s")
    if "suggest" in fig.values:
        p50 = fig["suggest"]["p50_ms"]
        if points >= 1_000_000:
            out["suggest p50 < 10 ms at 1,000,000"] = verdict(p50, 10, "ms")
        out[
            f"suggest p50 < 5 ms at 20,000 articles / 60,000 passages (here "
            f"{big['articles']:,} / {big['article_points']:,})"
        ] = verdict(p50, 5, "ms")
        out[f"recall@20 ≥ 0.99 at {points:,} (by ids)"] = verdict(
            fig["recall"]["recall_at_20_ids"], 0.99, "", higher=True
        )
        out[f"recall@20 ≥ 0.99 at {points:,} (counting exact-score ties)"] = verdict(
            fig["recall"]["recall_at_20_ties"], 0.99, "", higher=True
        )
    return out


def render(fig: Figures) -> str:
    lay = fig["layout"]
    big = lay["big_workspace"]
    lines = [
        f"{fig['date_utc']}; {fig['nproc']} CPUs ({fig['cpu']}); "
        f"load average {fig['loadavg_start']} at the start, {fig['loadavg_end']} at the end",
        f"points: {lay['points']:,} = {lay['real']:,} real + {lay['filler']:,} FILLER (copies of "
        f"real points, in workspaces 2+ only)",
        f"workspace 1: {big['article_points']:,} article passages of {big['articles']:,} articles "
        f"({', '.join(big['corpora'])}; {big['without_keywords']:,} without a keyword term), "
        f"{big['pain_points']:,} pain points, "
        f"{big['expertise']:,} expertise lines; {len(lay['other_workspaces'])} other workspaces "
        f"of {min(w['article_points'] for w in lay['other_workspaces']):,}-"
        f"{max(w['article_points'] for w in lay['other_workspaces']):,} article points",
        f"vectors: {fig['model_id']}, {fig['embedded_by_model']} texts embedded by the model "
        "this run (the rest from the cache)",
        f"build: {fig['build']['seconds']:.1f} s ({fig['build']['points_per_s']:,.0f} points/s; "
        f"workspace 1's articles {fig['build']['big_articles_s']:.1f} s; close/flush "
        f"{fig['build']['close_flush_s']:.1f} s); {fig['build']['disk_mib']:,.0f} MiB on disk "
        f"(apparent size {fig['build']['apparent_mib']:,.0f} MiB)",
    ]
    r = fig["restart"]
    lines.append(
        f"restart (fresh process: open + start-up reconcile + first search), median of "
        f"{len(r['runs'])}: {r['median_s']:.3f} s; RSS after {r['median_rss_mib']:.0f} MiB "
        f"(before opening {r['median_rss_before_mib']:.0f} MiB); process wall "
        f"{r['median_process_wall_s']:.2f} s"
    )
    for run_ in r["runs"]:
        lines.append(
            f"  open {run_['open_s'] * 1000:.1f} ms, reconcile {run_['reconcile_s'] * 1000:.1f} ms "
            f"(repaired {run_['repaired']}), first search {run_['first_search_s'] * 1000:.1f} ms, "
            f"second {run_['second_search_s'] * 1000:.1f} ms; shards opened "
            f"{', '.join(run_['shards_opened'])} of {run_['shards_on_disk']}; RSS "
            f"{run_['rss_after_mib']:.0f} MiB (anonymous {run_['anon_after_mib']:.0f}, mapped "
            f"files {run_['file_after_mib']:.0f}), peak {run_['hwm_after_mib']:.0f} MiB"
        )
    if "suggest" in fig.values:
        s = fig["suggest"]
        lines.append(
            f"suggest for one contact ({s['contacts']} contacts, "
            f"{s['pain_points_per_contact']:.2f} pain points each, warm): p50 {s['p50_ms']:.2f} ms,"
            f" p99 {s['p99_ms']:.2f} ms (articles p50 {s['articles_p50_ms']:.2f} ms, "
            f"expertise p50 {s['expertise_p50_ms']:.2f} ms)"
        )
        c = fig["recall"]
        q = fig["per_query"]
        lines += [
            f"recall@20 against exact ({c['queries']} queries): {c['recall_at_20_ids']:.4f} by "
            f"ids (lowest {c['min_recall_ids']:.2f}), {c['recall_at_20_ties']:.4f} counting "
            f"ties; {c['queries_below_1']} queries below 1",
            f"  Edge's score of a returned point minus its exact score: p50 "
            f"{c['edge_vs_exact_score_p50']:.1e}, largest {c['edge_vs_exact_score_max']:.1e}",
            f"  missed points (not ties), (exact, dense-only, keyword-only rank; exact score above "
            f"the lowest returned); each candidate list holds {c['candidate_depth']}: "
            + (
                ", ".join(
                    f"({m['exact_rank']}, {m['dense_rank']}, {m['keyword_rank']}; {m['gap']:.1e})"
                    for m in c["misses"]
                )
                or "none"
            ),
            *(
                f"  recall, {name} ({r['queries']} queries): {r['ids']:.4f} by ids, "
                f"{r['ties']:.4f} counting ties; {r['queries_below_1']} queries below 1"
                for name, r in fig["recall_by_kind"].items()
            ),
            f"  exact = numpy/scipy, checked against reference_scores on {c['reference_checked']} "
            f"queries: largest score difference {c['reference_max_abs_diff']:.2e}, identical top "
            f"20 on {c['reference_same_top']:.0f}",
            f"one query, top 20 of workspace 1's articles: Edge p50 {q['edge_p50_ms']:.2f} ms "
            f"(p99 {q['edge_p99_ms']:.2f}), numpy exact on 1 BLAS thread p50 "
            f"{q['numpy_p50_ms']:.2f} ms (p99 {q['numpy_p99_ms']:.2f}): Edge / numpy "
            f"{q['edge_over_numpy_p50']:.2f}x; numpy on its default threads p50 "
            f"{q['numpy_default_threads_p50_ms']:.2f} ms (p99 "
            f"{q['numpy_default_threads_p99_ms']:.2f}); numpy matrices built in "
            f"{fig['numpy_build_s']:.1f} s",
        ]
    lines.append("targets:")
    lines += [f"  {name}: {verdict}" for name, verdict in fig["targets"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cache-dir", type=Path, default=Path("/work/bench-cache"))
    parser.add_argument("--store-dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the built index")
    parser.add_argument("--real-passages", type=int, default=None, help="cap the real passages")
    parser.add_argument(
        "--cached-passages",
        action="store_true",
        help="real passages: only those the cache already holds (a prefix, in order)",
    )
    parser.add_argument("--other-workspaces", type=int, default=None)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--recall-queries", type=int, default=150)
    parser.add_argument("--reference-queries", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--restart-only", action="store_true")
    parser.add_argument(
        "--optimize",
        action="store_true",
        help="build HNSW for workspace 1's shards after the build",
    )
    parser.add_argument("--embed-only", action="store_true", help="fill the embedding cache")
    parser.add_argument("--restart-probe", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model-id", help=argparse.SUPPRESS)
    parser.add_argument("--dimension", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--probe-query", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.restart_probe:
        restart_probe(
            args.restart_probe, args.model_id, args.dimension, args.probe_query, args.database_url
        )
        return
    if args.embed_only:
        embed_all(args)
        return
    fig = run(args)
    print(render(fig))
    if args.json:
        print(json.dumps(fig.values, default=float))


if __name__ == "__main__":
    main()
