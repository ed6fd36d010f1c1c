r"""Benchmark of the suggestion engine on the embedded default (SQLite + Qdrant Edge).

Builds one workspace of ``--articles`` articles (default 20,000, ~3 passages each, so ~60,000
article points) and ``--contacts`` contacts (default 10,000; 1-3 pain points each, about half with
1-2 expertise lines), then measures:

* index build: upserting N article passages through ``EdgeIndex`` into a fresh Qdrant Edge folder,
  each size in its own subprocess (so its peak RSS is its own), then closing it (``close``
  flushes the shards), plus the whole workspace;
* what a restart pays: a fresh ``EdgeIndex(...).open()``, ``count()`` (which opens every shard)
  and the first search, and the first ``SuggestionEngine.suggest`` call after it, reported apart;
* warm ``SuggestionEngine.suggest`` latency for ``--samples`` random contacts (p50, p99), and the
  same contacts through ``app.suggestions.service.suggest_for_contact`` + ``to_public`` + commit
  (what ``GET /contacts/{id}/suggestions`` runs, minus HTTP and auth);
* baselines in the same run: a raw numpy matmul of one query against the article matrix (the
  floor of any dense search) and one warm ``EdgeIndex.search`` per searched kind;
* the same engine pass with numpy's BLAS on one thread (threadpoolctl), and where the time goes:
  a pass with perf_counter wrappers around the engine's steps (also on one BLAS thread);
* what a write costs, and the search right after it;
* ``SuggestionEngine.suggest_many`` over the sample at once (the nightly batch's path).

The Qdrant Edge folders go to ``--store-dir`` (default /dev/shm, a tmpfs), so that the disk stays
out of the figures; the ``--disk-build-sizes`` builds put the folder in the system temp folder to
show what a disk adds to a build.

Vectors. Embedding 20,000 articles with the real model takes hours on 2 cores, so the dense
vectors are random unit vectors of dimension 384 (``np.random.default_rng(seed)``), drawn around
``--topics`` random topic centres so that a pain point is as close to its topic's passages as real
text is (cosine ~0.3-0.6). With ``--topics 0`` they are isotropic: then few candidates clear the
engine's relevance floor and the engine skips most of its work, which would flatter the latency.
The sparse (BM25) vectors are real: ``embeddings.text.sparse_document`` of the synthetic text.
The engine runs with its defaults (``EngineConfig()``: keyword weight, relevance floor, search
depths), and the baseline searches use the same weight and depths; the report says how many
articles and expertise lines clear the floor per pain point, so a reader can tell whether the
synthetic workload still gives the engine real work.

The query side. The engine asks ``embedder.embed_queries([pain point])`` and
``embed_documents(headlines)``. Here a ``StoredVectorEmbedder`` answers with the stored vector of
that text, a dict lookup: it STANDS IN FOR THE EMBEDDING-CACHE HIT that production gets (pain
points and article passages are embedded when they are written, so at suggestion time the
``CachedEmbedder`` finds them in its SQLite cache and never calls the model). One more pass goes
through the real ``CachedEmbedder`` + ``EmbeddingCache`` pre-filled with those vectors, to show
what the SQLite lookup adds (``--no-cache-embedder`` skips it).

    .venv/bin/python scripts/bench_suggestions.py                 # full size, several minutes
    .venv/bin/python scripts/bench_suggestions.py --articles 1000 --contacts 500 --samples 30 \
        --build-sizes 1000 --disk-build-sizes 300                 # quick check
    .venv/bin/python scripts/bench_suggestions.py --builds-only --build-sizes 100000 \
        --disk-build-sizes 20000                                  # the large builds only
"""

import argparse
import gc
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from scripts.benchkit.measure import (  # noqa: E402
    Stopwatch,
    dir_size_mib,
    gc_pauses,
    mib,
    ms,
    proc_status_kib,
    summary,
    upsert_all,
)
from scripts.benchkit.workspace import (  # noqa: E402
    DIM,
    MODEL_ID,
    TODAY,
    WORKSPACE_ID,
    ArticleData,
    BenchData,
    RefusingEmbedder,
    StoredVectorEmbedder,
    Synth,
    Vector,
    article_points,
    build_workspace,
    make_articles,
)

if TYPE_CHECKING:
    from embeddings.points import Kind

# A tmpfs keeps the disk out of the figures (--disk-build-sizes shows what a disk adds).
DEFAULT_STORE_DIR = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
SEARCHED_KINDS: tuple["Kind", ...] = ("article", "expertise")

# -- 1. index build at a given size, in its own process ------------------------------------------


def make_points(
    passages: int, seed: int, topics: int, spread: tuple[float, float]
) -> tuple[list[Any], float]:
    """``passages`` synthetic article points (whole articles, cut to size) and the seconds their
    sparse vectors took."""
    synth = Synth(seed, topics, spread)
    articles: list[ArticleData] = []
    total = 0
    while total < passages:
        batch = make_articles(synth, 500, first_id=len(articles) + 1)
        articles += batch
        total += sum(len(a.passages) for a in batch)
    start = time.perf_counter()
    points = article_points(articles)[:passages]
    return points, time.perf_counter() - start


def build_store(points: Sequence[Any], path: Path) -> dict[str, Any]:
    """Upsert ``points`` through ``EdgeIndex`` into a fresh Qdrant Edge folder at ``path``, close
    it (which flushes the shards).

    Returns the upsert and close seconds, the RSS before and after the upsert, the peak RSS and
    the store's size on disk.
    """
    from embeddings.index import EdgeIndex

    gc.collect()
    before = proc_status_kib()
    index = EdgeIndex(path, model_id=MODEL_ID, dimension=DIM)
    index.open()
    upsert_seconds = upsert_all(index, points)
    after = proc_status_kib()
    start = time.perf_counter()
    index.close()
    close_seconds = time.perf_counter() - start
    return {
        "upsert_s": upsert_seconds,
        "close_s": close_seconds,
        "rss_before_kib": before["VmRSS"],
        "rss_after_kib": after["VmRSS"],
        "hwm_kib": after["VmHWM"],
        "disk_mib": dir_size_mib(path),
        "apparent_mib": dir_size_mib(path, allocated=False),
    }


def reopen(path: Path, kind: "Kind", vector: Vector, text: str) -> tuple[Any, dict[str, Any]]:
    """What a restart pays: a fresh ``EdgeIndex`` on the folder at ``path``, ``open()``,
    ``count()`` (which opens every shard) and a first search in ``kind`` for ``text`` (with its
    dense ``vector``).

    Returns the open index and the seconds of each step, the points counted and the RSS added.
    """
    from app.suggestions.config import EngineConfig
    from embeddings.index import EdgeIndex
    from embeddings.points import Query
    from embeddings.text import sparse_query

    gc.collect()
    before = proc_status_kib()
    t0 = time.perf_counter()
    index = EdgeIndex(path, model_id=MODEL_ID, dimension=DIM)
    index.open()
    t1 = time.perf_counter()
    points = index.count()
    t2 = time.perf_counter()
    index.search(
        WORKSPACE_ID,
        kind,
        Query(vector, sparse_query(text)),
        limit=search_depth(kind),
        keyword_weight=EngineConfig().keyword_weight,
    )
    t3 = time.perf_counter()
    after = proc_status_kib()
    return index, {
        "open_s": t1 - t0,
        "count_s": t2 - t1,
        "first_search_s": t3 - t2,
        "reopen_s": t3 - t0,
        "points": points,
        "rss_added_kib": after["VmRSS"] - before["VmRSS"],
        "rss_after_kib": after["VmRSS"],
        "hwm_kib": after["VmHWM"],
    }


def build_only(
    passages: int, seed: int, topics: int, spread: tuple[float, float], where: Path
) -> None:
    """Child process: make ``passages`` article points, upsert them under ``where``, close the
    index, reopen it as a restart would, print JSON."""
    points, sparse_seconds = make_points(passages, seed, topics, spread)
    probe = points[0]  # the first search asks for the first passage's vector and words
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        built = build_store(points, Path(tmp))
        index, reopened = reopen(Path(tmp), "article", probe.dense, probe.text)
        index.close()
    print(
        json.dumps(
            {
                "passages": len(points),
                "store": str(where),
                "sparse_s": sparse_seconds,
                **built,
                "reopen_s": reopened["reopen_s"],
                "reopen_first_search_s": reopened["first_search_s"],
                "reopen_points": reopened["points"],
            }
        )
    )


def run_build_size(passages: int, where: Path, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--build-only",
        str(passages),
        "--seed",
        str(args.seed),
        "--topics",
        str(args.topics),
        "--spread",
        args.spread,
        "--store-dir",
        str(where),
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- 3. latency ----------------------------------------------------------------------------------


def engine_pass(
    engine: Any, session_factory: Any, contact_ids: Sequence[int], cadences: Any
) -> tuple[list[float], dict[str, float], list[float]]:
    """Warm ``engine.suggest`` per contact (the contact is loaded before the clock starts)."""
    from app.contacts.service import next_due_on
    from app.models import Contact
    from app.suggestions.records import StoredRecords

    seconds: list[float] = []
    cpu: list[float] = []
    kinds: dict[str, float] = defaultdict(float)
    for cid in contact_ids:
        with session_factory() as session:
            contact = session.get(Contact, cid)
            due = next_due_on(contact, cadences) <= TODAY
            start, start_cpu = time.perf_counter(), time.thread_time()
            chosen = engine.suggest(
                records=StoredRecords(session), contact=contact, today=TODAY, due=due
            )
            seconds.append(time.perf_counter() - start)
            cpu.append(time.thread_time() - start_cpu)
            for c in chosen:
                kinds[c.kind] += 1
            kinds["none"] += not chosen
            session.rollback()
    return seconds, kinds, cpu


def service_pass(
    engine: Any, session_factory: Any, contact_ids: Sequence[int], cadences: Any
) -> dict[str, list[float]]:
    """Load the contact, ``suggest_for_contact``, ``to_public`` each suggestion, commit."""
    from app.models import Contact
    from app.suggestions.service import suggest_for_contact, to_public

    parts: dict[str, list[float]] = defaultdict(list)
    for cid in contact_ids:
        with session_factory() as session:
            t0 = time.perf_counter()
            contact = session.get(Contact, cid)
            t1 = time.perf_counter()
            stored = suggest_for_contact(
                session=session,
                engine=engine,
                contact=contact,
                cadences=cadences,
                today=TODAY,
                limit=3,
            )
            t2 = time.perf_counter()
            [to_public(session, s, signature=None) for s in stored]
            t3 = time.perf_counter()
            session.commit()
            t4 = time.perf_counter()
        parts["total"].append(t4 - t0)
        parts["load contact"].append(t1 - t0)
        parts["suggest_for_contact"].append(t2 - t1)
        parts["to_public"].append(t3 - t2)
        parts["commit"].append(t4 - t3)
    return parts


# What the breakdown times (perf_counter wrappers around them); tests/test_scripts.py checks
# that each still exists, so that a renamed step fails a test rather than the next benchmark run.
TIMED_FUNCTIONS = (
    ("app.suggestions.records", "blocked_targets"),
    ("app.suggestions.engine", "sparse_query"),
    ("app.suggestions.drafts", "article_drafts"),
    ("app.suggestions.drafts", "introduction_drafts"),
    ("app.suggestions.drafts", "check_in_drafts"),
)
TIMED_ENGINE_METHODS = (
    "_search_all",
    "_best_matches",
    "_choose",
    "_candidates",
    "_headline_vectors",
    "_feedback",
    "_diverse",
    "_drafts",
)


def breakdown_pass(
    engine: Any, db_engine: Any, session_factory: Any, contact_ids: Sequence[int], cadences: Any
) -> tuple[dict[str, float], dict[str, float], float]:
    """Mean ms per suggest call spent in each step (perf_counter wrappers; inclusive times)."""
    from sqlalchemy import event

    watch = Stopwatch()
    saved_module: dict[tuple[Any, str], Callable[..., Any]] = {
        (module, name): getattr(module, name)
        for module_name, name in TIMED_FUNCTIONS
        for module in [importlib.import_module(module_name)]
    }
    for (module, name), fn in saved_module.items():
        setattr(module, name, watch.wrap(name, fn))
    index = engine.index
    embedder = engine.embedder
    patched: list[tuple[Any, str, str | Callable[..., str]]] = [
        (engine, name, name) for name in TIMED_ENGINE_METHODS
    ]
    patched += [
        (index, "search_many", lambda *a, **k: f"index.search_many({a[1]})"),
        (embedder, "embed_queries", "embed_queries"),
        (embedder, "embed_documents", "embed_documents"),
    ]
    for obj, name, label in patched:  # instance attributes shadow the methods
        setattr(obj, name, watch.wrap(label, getattr(obj, name)))
    sql: list[float] = []
    started: list[float] = []

    def before_cursor(*_: Any) -> None:
        started.append(time.perf_counter())

    def after_cursor(*_: Any) -> None:
        sql.append(time.perf_counter() - started.pop())

    event.listen(db_engine, "before_cursor_execute", before_cursor)
    event.listen(db_engine, "after_cursor_execute", after_cursor)
    try:
        seconds, _, _ = engine_pass(engine, session_factory, contact_ids, cadences)
    finally:
        event.remove(db_engine, "before_cursor_execute", before_cursor)
        event.remove(db_engine, "after_cursor_execute", after_cursor)
        for (module, name), fn in saved_module.items():
            setattr(module, name, fn)
        for obj, name, _ in patched:
            delattr(obj, name)
    n = len(contact_ids)
    per_call = {k: 1000 * v / n for k, v in watch.seconds.items()}
    calls = {k: v / n for k, v in watch.calls.items()}
    # SQL time during the suggest calls only is not separable from the contact load here, so
    # the contact load (3 statements, outside the clock) is counted in ``sql``; see the report.
    per_call["SQL cursor time (incl. contact load outside the clock)"] = 1000 * sum(sql) / n
    per_call["suggest total"] = 1000 * statistics.fmean(seconds)
    calls["suggest total"] = 1.0
    return per_call, calls, 1000 * statistics.median(seconds)


def engine_config() -> Any:
    """The engine's defaults, which every search here uses (weight, floor, depths)."""
    from app.suggestions.config import EngineConfig

    return EngineConfig()


def article_depth(config: Any) -> int:
    """Passages the engine asks for per pain point (``SuggestionEngine._rank_articles``)."""
    return max(4 * int(config.articles_per_query), int(config.articles_per_query))


def search_depth(kind: str) -> int:
    config = engine_config()
    return article_depth(config) if kind == "article" else int(config.expertise_per_query)


def workload_check(engine: Any, index: Any, ws: BenchData, texts: Sequence[str]) -> dict[str, Any]:
    """How much the engine finds per pain point: what clears the relevance floor, and the scores.

    The synthetic vectors must give the engine real work (candidates above the floor to read,
    score and draft); this shows whether they still do under the engine's current weights.
    """
    from embeddings.points import Query
    from embeddings.text import sparse_query

    config = engine.config
    floor = config.relevance_floor
    articles = engine.rank_articles(
        workspace_id=WORKSPACE_ID, texts=list(texts), limit=config.articles_per_query
    )
    expertise = index.search_many(
        WORKSPACE_ID,
        "expertise",
        [Query(ws.query_vectors[t], sparse_query(t)) for t in texts],
        limit=config.expertise_per_query,
        keyword_weight=config.keyword_weight,
    )
    best = [hits[0] for hits in articles if hits]
    return {
        "keyword_weight": config.keyword_weight,
        "relevance_floor": floor,
        "articles_searched": config.articles_per_query,
        "expertise_searched": config.expertise_per_query,
        "articles_above_floor": statistics.fmean(
            sum(h.score >= floor for h in hits) for hits in articles
        ),
        "expertise_above_floor": statistics.fmean(
            sum(h.score >= floor for h in hits) for hits in expertise
        ),
        "best_article_score_p50": statistics.median(h.score for h in best),
        "twentieth_article_score_p50": statistics.median(
            hits[-1].score for hits in articles if hits
        ),
    }


def batched_pass(
    engine: Any, session_factory: Any, contact_ids: Sequence[int], cadences: Any
) -> dict[str, float]:
    """``engine.suggest_many`` over the sample contacts at once (the nightly batch's path)."""
    from app.contacts.service import next_due_on
    from app.models import Contact
    from app.suggestions.engine import ContactRequest
    from app.suggestions.records import StoredRecords

    with session_factory() as session:
        contacts = [session.get(Contact, cid) for cid in contact_ids]
        requests = [ContactRequest(c, next_due_on(c, cadences) <= TODAY) for c in contacts]
        start = time.perf_counter()
        chosen = list(
            engine.suggest_many(records=StoredRecords(session), requests=requests, today=TODAY)
        )
        seconds = time.perf_counter() - start
        session.rollback()
    return {
        "contacts": len(chosen),
        "total_s": seconds,
        "ms_per_contact": 1000 * seconds / max(len(chosen), 1),
    }


# -- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="examples:\n" + __doc__.rstrip().split("\n\n")[-1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--articles", type=int, default=20_000, help="default 20,000")
    parser.add_argument("--contacts", type=int, default=10_000, help="default 10,000")
    parser.add_argument("--samples", type=int, default=200, help="random contacts to time")
    parser.add_argument(
        "--build-sizes",
        default="5000,20000",
        help="article passages per index build with the store in --store-dir, comma-separated"
        " ('' to skip); add 100000 for the large one",
    )
    parser.add_argument(
        "--disk-build-sizes",
        default="5000",
        help="the same with the store on disk (the system temp folder), to show what a disk adds",
    )
    parser.add_argument(
        "--store-dir",
        type=Path,
        default=DEFAULT_STORE_DIR,
        help="where the Qdrant Edge folders are made (default /dev/shm, a tmpfs, if present)",
    )
    parser.add_argument(
        "--topics", type=int, default=400, help="topic centres for the vectors (0: isotropic)"
    )
    parser.add_argument(
        "--spread", default="0.8,1.6", help="noise scale range around a topic centre"
    )
    parser.add_argument(
        "--stale-fraction", type=float, default=0.05, help="pain points older than a year"
    )
    parser.add_argument(
        "--cache-embedder",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time the engine through CachedEmbedder + a pre-filled EmbeddingCache",
    )
    parser.add_argument(
        "--builds-only", action="store_true", help="only the index-build measurements"
    )
    parser.add_argument("--seed", type=int, default=20261121, help="for every random draw")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--build-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    spread_lo, spread_hi = (float(s) for s in args.spread.split(","))
    if args.build_only:
        build_only(args.build_only, args.seed, args.topics, (spread_lo, spread_hi), args.store_dir)
        return

    results: dict[str, Any] = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "loadavg_start": os.getloadavg(),
    }

    # 1. Index build at fixed sizes, each in a fresh process.
    builds = []
    for sizes, where in (
        (args.build_sizes, args.store_dir),
        (args.disk_build_sizes, Path(tempfile.gettempdir())),
    ):
        for size in [int(s) for s in sizes.split(",") if s.strip()]:
            builds.append(run_build_size(size, where, args))
            print(f"build {size}: {builds[-1]}", file=sys.stderr)
    results["builds"] = builds
    if args.builds_only:
        results["loadavg_end"] = os.getloadavg()
        report_builds(results)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str))
        return

    from app.db import create_db_engine, create_session_factory, migrate
    from app.suggestions.config import EngineConfig
    from app.suggestions.engine import SuggestionEngine
    from app.workspaces.service import Cadences
    from embeddings.cache import CachedEmbedder, EmbeddingCache, text_hash
    from embeddings.index import EdgeIndex
    from embeddings.points import Query
    from embeddings.text import sparse_query

    cadences = Cadences(a=90, b=182, c=365)
    with tempfile.TemporaryDirectory(dir=args.store_dir) as tmp_name:
        tmp = Path(tmp_name)
        db_engine = create_db_engine(f"sqlite:///{tmp / 'givefirst.sqlite3'}")
        migrate(db_engine)
        session_factory = create_session_factory(db_engine)
        store = tmp / "vectors"
        index = EdgeIndex(store, model_id=MODEL_ID, dimension=DIM)
        index.open()

        # 2. The workspace: records in SQLite, points in Qdrant Edge.
        timings: dict[str, Any] = {}
        ws = build_workspace(args, session_factory, index, timings)
        start = time.perf_counter()
        index.close()
        timings["close_s"] = time.perf_counter() - start
        results["workspace"] = {"counts": ws.counts, "timings": timings}
        print(f"workspace: {ws.counts} {timings}", file=sys.stderr)

        # 3. What a restart pays (a fresh index on the folder: open, count, a first search) and
        # the first suggest call after it, then what a write costs.
        probe = ws.pain_point_texts[0]
        index, restart = reopen(store, "article", ws.query_vectors[probe], probe)
        embedder = StoredVectorEmbedder(ws.query_vectors, ws.document_vectors)
        engine = SuggestionEngine(embedder, index)
        rng = np.random.default_rng(args.seed + 1)
        sample = [int(c) for c in rng.choice(ws.contact_ids, args.samples, replace=False)]
        start = time.perf_counter()
        engine_pass(engine, session_factory, sample[:1], cadences)
        first_call = time.perf_counter() - start
        after_write: dict[str, dict[str, float]] = {}
        for kind in SEARCHED_KINDS:
            point = next(p for p in ws.points if p.kind == kind)
            writes, searches = [], []
            for _ in range(5):
                start = time.perf_counter()
                index.upsert([point])  # the same point again, as re-saving it would
                writes.append(time.perf_counter() - start)
                start = time.perf_counter()
                index.search(
                    WORKSPACE_ID,
                    kind,
                    Query(ws.query_vectors[probe], sparse_query(probe)),
                    limit=search_depth(kind),
                    keyword_weight=EngineConfig().keyword_weight,
                )
                searches.append(time.perf_counter() - start)
            after_write[kind] = {
                "upsert_s": statistics.median(writes),
                "search_s": statistics.median(searches),
            }
        results["first_call"] = {
            "suggest_s": first_call,
            "restart": restart,
            "after_write": after_write,
        }
        print(f"restart {restart}", file=sys.stderr)

        with gc_pauses() as pauses:
            engine_seconds, kinds, cpu = engine_pass(engine, session_factory, sample, cadences)
        results["engine"] = summary(engine_seconds, cpu)
        results["engine"]["gc_gen2_pauses"] = len(pauses)
        results["engine"]["gc_gen2_ms"] = 1000 * sum(pauses)
        results["engine"]["suggestions_per_contact"] = {
            k: v / len(sample) for k, v in kinds.items()
        }
        print(f"engine: {results['engine']}", file=sys.stderr)
        service = service_pass(engine, session_factory, sample, cadences)
        results["service"] = {k: summary(v) for k, v in service.items()}
        print(f"service: {results['service']['total']}", file=sys.stderr)
        results["batched"] = batched_pass(engine, session_factory, sample, cadences)
        print(f"batched: {results['batched']}", file=sys.stderr)

        # 4. Baselines on the same data, in the same run.
        texts = [
            ws.pain_point_texts[int(i)] for i in rng.integers(len(ws.pain_point_texts), size=200)
        ]
        from threadpoolctl import threadpool_limits

        depth = search_depth("article")
        matrix = np.ascontiguousarray(ws.article_matrix)
        matmul, matmul_top, matmul_one = [], [], []
        for text in texts:
            query = ws.query_vectors[text]
            t0 = time.perf_counter()
            scores = matrix @ query
            t1 = time.perf_counter()
            np.argpartition(-scores, depth)[:depth]
            t2 = time.perf_counter()
            matmul.append(t1 - t0)
            matmul_top.append(t2 - t0)
        with threadpool_limits(limits=1, user_api="blas"):
            for text in texts:
                query = ws.query_vectors[text]
                t0 = time.perf_counter()
                matrix @ query
                matmul_one.append(time.perf_counter() - t0)
        searched = {}
        for kind in SEARCHED_KINDS:
            durations = []
            for text in texts:
                start = time.perf_counter()
                index.search(
                    WORKSPACE_ID,
                    kind,
                    Query(ws.query_vectors[text], sparse_query(text)),
                    limit=search_depth(kind),
                    keyword_weight=EngineConfig().keyword_weight,
                )
                durations.append(time.perf_counter() - start)
            searched[kind] = summary(durations)
        results["workload"] = workload_check(engine, index, ws, texts)
        print(f"workload: {results['workload']}", file=sys.stderr)
        results["baselines"] = {
            "numpy_matmul": summary(matmul),
            "numpy_matmul_top": summary(matmul_top),
            "numpy_matmul_1_thread": summary(matmul_one),
            "index_search": searched,
        }
        print(f"baselines: {results['baselines']}", file=sys.stderr)

        # 5. The same engine pass with numpy's BLAS on one thread (on a busy 2-core machine its
        # second thread often waits for a core, and the matmul waits for it), then where the
        # time goes, also on one BLAS thread so that those waits do not blur the breakdown.
        with threadpool_limits(limits=1, user_api="blas"):
            one_thread, _, cpu = engine_pass(engine, session_factory, sample, cadences)
            results["engine_blas_1_thread"] = summary(one_thread, cpu)
            per_call, calls, p50 = breakdown_pass(
                engine, db_engine, session_factory, sample, cadences
            )
            results["breakdown"] = {"ms_per_suggest": per_call, "calls_per_suggest": calls}
            results["breakdown_p50_ms"] = p50

        # 6. The production embedder on a cache hit: CachedEmbedder over a filled SQLite cache.
        if args.cache_embedder:
            cache = EmbeddingCache(tmp / "embedding_cache.sqlite3")
            for role, table in (("query", ws.query_vectors), ("document", ws.document_vectors)):
                cache.put_many(MODEL_ID, {text_hash(f"{role}\x00{t}"): v for t, v in table.items()})
            cached = CachedEmbedder(RefusingEmbedder({}, {}), cache)
            cached_engine = SuggestionEngine(cached, index)
            cached_seconds, _, cpu = engine_pass(cached_engine, session_factory, sample, cadences)
            results["engine_cached_embedder"] = summary(cached_seconds, cpu)
            cache.close()

        index.close()
        db_engine.dispose()
    results["loadavg_end"] = os.getloadavg()
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


def report_builds(r: dict[str, Any]) -> None:
    print("\n## Index build (article passages upserted through EdgeIndex, fresh process)\n")
    print(
        "| passages | store | upsert s | points/s | close s | RSS before -> after MiB"
        " | peak RSS MiB | on disk MiB | reopen s | ↳ first search ms |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for b in r["builds"]:
        print(
            f"| {b['passages']:,} | {b['store']} | {b['upsert_s']:.1f} |"
            f" {b['passages'] / b['upsert_s']:,.0f} | {b['close_s']:.2f} |"
            f" {mib(b['rss_before_kib'])} -> {mib(b['rss_after_kib'])} | {mib(b['hwm_kib'])} |"
            f" {b['disk_mib']:.0f} | {b['reopen_s']:.2f} | {ms(b['reopen_first_search_s'])} |"
        )
    print(
        "\nOn disk: the blocks the files hold (their apparent size is larger: Qdrant Edge makes"
        " 32 MiB sparse files). Reopen: a fresh ``EdgeIndex`` on the closed folder, ``open()`` +"
        " ``count()`` + a first search (what a restart pays), first search included."
    )
    if "workspace" not in r:
        print(f"\nLoad average at start {r['loadavg_start']}, at end {r['loadavg_end']}.")


def report(r: dict[str, Any]) -> None:
    report_builds(r)
    w = r["workspace"]
    c, t = w["counts"], w["timings"]
    print(
        f"\nWorkspace: {c['articles']:,} articles = {c['article_points']:,} article points,"
        f" {c['contacts']:,} contacts, {c['pain_points']:,} pain points,"
        f" {c['expertise']:,} expertise lines: {c['points']:,} points."
        f" Generated in {t['generate_s']:.1f} s, SQLite bulk insert {t['sqlite_insert_s']:.1f} s,"
        f" upsert {t['upsert_s']:.1f} s ({c['points'] / t['upsert_s']:,.0f} points/s),"
        f" RSS {mib(t['upsert_rss_before_kib'])} -> {mib(t['upsert_rss_after_kib'])} MiB,"
        f" close {t['close_s']:.2f} s (store in {r['args']['store_dir']})."
    )
    f = r["first_call"]
    rs = f["restart"]
    aw = f["after_write"]
    print(
        f"\nRestart (a fresh ``EdgeIndex`` on the workspace's folder): ``open()``"
        f" {ms(rs['open_s'])} ms, ``count()`` {ms(rs['count_s'])} ms ({rs['points']:,} points,"
        f" every shard opened), first article search {ms(rs['first_search_s'])} ms:"
        f" {rs['reopen_s']:.2f} s in all, +{mib(rs['rss_added_kib'])} MiB RSS (RSS"
        f" {mib(rs['rss_after_kib'])} MiB, peak {mib(rs['hwm_kib'])} MiB). First"
        f" suggest call after it: {ms(f['suggest_s'])} ms. Re-upserting one point: article"
        f" {ms(aw['article']['upsert_s'])} ms, expertise {ms(aw['expertise']['upsert_s'])} ms;"
        f" the search right after it: article {ms(aw['article']['search_s'])} ms, expertise"
        f" {ms(aw['expertise']['search_s'])} ms."
    )
    bt = r["batched"]
    print(
        f"\n``suggest_many`` over the same {bt['contacts']} contacts at once (the nightly path):"
        f" {bt['total_s']:.2f} s, {bt['ms_per_contact']:.2f} ms per contact."
    )
    print("\n## Per-contact latency (warm)\n")
    print("| what | n | p50 ms | p90 ms | p99 ms | max ms | thread CPU p50 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")

    def row(label: str, s: dict[str, float]) -> None:
        cpu = f"{s['cpu_p50_ms']:.2f}" if "cpu_p50_ms" in s else ""
        print(
            f"| {label} | {s['n']} | {s['p50_ms']:.2f} | {s['p90_ms']:.2f} | {s['p99_ms']:.2f} |"
            f" {s['max_ms']:.2f} | {cpu} |"
        )

    row("SuggestionEngine.suggest", r["engine"])
    if "engine_blas_1_thread" in r:
        row("SuggestionEngine.suggest, BLAS on 1 thread", r["engine_blas_1_thread"])
    if "engine_cached_embedder" in r:
        row("SuggestionEngine.suggest via CachedEmbedder (SQLite hit)", r["engine_cached_embedder"])
    for part, s in r["service"].items():
        row(f"service: {part}", s)
    b = r["baselines"]
    row("baseline: numpy matmul, 1 query x article matrix", b["numpy_matmul"])
    depth = search_depth("article")
    row(f"baseline: numpy matmul + top {depth}", b["numpy_matmul_top"])
    row("baseline: numpy matmul, BLAS on 1 thread", b["numpy_matmul_1_thread"])
    for kind, s in b["index_search"].items():
        row(f"EdgeIndex.search({kind}), limit {search_depth(kind)}", s)
    e = r["engine"]
    per_contact = ", ".join(f"{k} {v:.2f}" for k, v in e["suggestions_per_contact"].items())
    print(
        f"\nSuggestions per contact: {per_contact}. Full GC runs during the"
        f" engine pass: {e['gc_gen2_pauses']} ({e['gc_gen2_ms']:.0f} ms in all)."
    )
    wl = r["workload"]
    print(
        f"Per pain point (keyword weight {wl['keyword_weight']}, relevance floor"
        f" {wl['relevance_floor']}): {wl['articles_above_floor']:.1f} of the"
        f" {wl['articles_searched']} best articles and {wl['expertise_above_floor']:.1f} of the"
        f" {wl['expertise_searched']} best expertise lines clear the floor; best article score"
        f" p50 {wl['best_article_score_p50']:.3f}, 20th article"
        f" {wl['twentieth_article_score_p50']:.3f}."
    )
    matmul = b["numpy_matmul"]["p50_ms"]
    one = b["numpy_matmul_1_thread"]["p50_ms"]
    print(
        f"Ratios (p50): suggest / numpy matmul = {e['p50_ms'] / matmul:.1f}x"
        f" (/ matmul on 1 BLAS thread = {e['p50_ms'] / one:.1f}x);"
        f" article search / matmul = {b['index_search']['article']['p50_ms'] / matmul:.1f}x."
    )
    print(
        "\n## Where a suggest call spends its time (mean ms per call, inclusive;"
        " BLAS on 1 thread)\n"
    )
    print("| step | ms per suggest | calls per suggest |")
    print("| --- | --- | --- |")
    calls = r["breakdown"]["calls_per_suggest"]
    for name, value in sorted(r["breakdown"]["ms_per_suggest"].items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {value:.2f} | {calls.get(name, 0):.2f} |")
    print(f"\nLoad average at start {r['loadavg_start']}, at end {r['loadavg_end']}.")


if __name__ == "__main__":
    main()
