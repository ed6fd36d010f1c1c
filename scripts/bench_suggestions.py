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
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from embeddings.points import Kind

TODAY = date(2026, 11, 21)
DIM = 384
MODEL_ID = "bench-random-unit-vectors-384"
WORKSPACE_ID = 1
UPSERT_BATCH = 256  # what app.indexing writes per upsert call
# A tmpfs keeps the disk out of the figures (--disk-build-sizes shows what a disk adds).
DEFAULT_STORE_DIR = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
SEARCHED_KINDS: tuple["Kind", ...] = ("article", "expertise")
Vector = npt.NDArray[np.float32]

# -- synthetic HR text and vectors ---------------------------------------------------------------

HR_WORDS = np.array(
    """
hiring recruiter recruiting candidate candidates interview interviews onboarding offboarding
retention attrition turnover engagement survey surveys pulse feedback performance review reviews
calibration promotion promotions compensation salary salaries bonus equity benefits healthcare
pension payroll overtime contractor contractors freelancers headcount budget forecast planning
workforce talent pipeline sourcing referral referrals employer brand culture values mission
leadership manager managers coaching mentoring training learning development upskilling reskilling
career ladder framework competency competencies skills gap succession bench strength diversity
inclusion belonging accessibility accommodation wellbeing burnout stress mental health leave
parental policy policies handbook compliance audit labor law regulation union works council
grievance investigation harassment discipline termination layoff restructuring reorganization
merger acquisition integration change management communication town hall remote hybrid office
return flexible schedule timesheet attendance absenteeism productivity goals okrs objectives
metrics dashboard analytics people data hris ats applicant tracking system vendor vendors rfp
contract pricing implementation rollout migration provider broker enrollment relocation visa
immigration mobility expatriate classification architecture leveling bands transparency analysis
gender exit stay recognition rewards incentive sales commission frontline warehouse retail nurses
engineers developers graduates interns apprenticeship campus careers executive search board chro
partner generalist specialist services desk ticketing employee experience journey lifecycle
""".split()  # noqa: SIM905 (a word list reads better as prose)
)
_FILLER_WORDS = "the our a for with and of to in on about across their new better fair"
FILLERS = np.array(_FILLER_WORDS.split())
OPENERS = (
    "Struggling with",
    "Need help with",
    "Looking for advice on",
    "How do we fix",
    "Trying to improve",
    "Worried about",
    "Rebuilding",
    "Choosing a partner for",
)
FIRST_NAMES = "Ana Ben Chloe Dev Eli Fatima Gus Hana Ivan Jo Kai Lena Mo Nia Omar Pia".split()  # noqa: SIM905
LAST_NAMES = "Reyes Smith Okafor Chen Novak Silva Haddad Berg Ito Kowalski Moreau Patel".split()  # noqa: SIM905


def unit_rows(matrix: npt.NDArray[np.float64]) -> Vector:
    rows: Vector = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)
    return rows


class Synth:
    """Seeded generator of topic-flavoured HR texts and of unit vectors around topic centres."""

    def __init__(self, seed: int, topics: int, spread: tuple[float, float]) -> None:
        self.rng = np.random.default_rng(seed)
        self.topics = max(topics, 1)
        self.isotropic = topics == 0
        self.spread = spread
        self.centres = unit_rows(self.rng.standard_normal((self.topics, DIM)))
        self.topic_words = [
            HR_WORDS[self.rng.choice(len(HR_WORDS), 12, replace=False)] for _ in range(self.topics)
        ]

    def topic(self) -> int:
        return int(self.rng.integers(self.topics))

    def words(self, topic: int, n: int, topic_share: float = 0.3) -> str:
        kinds = self.rng.random(n)
        general = HR_WORDS[self.rng.integers(len(HR_WORDS), size=n)]
        own = self.topic_words[topic][self.rng.integers(12, size=n)]
        filler = FILLERS[self.rng.integers(len(FILLERS), size=n)]
        chosen = np.where(kinds < topic_share, own, np.where(kinds < 0.55, filler, general))
        return " ".join(chosen.tolist())

    def prose(self, topic: int, n_words: int) -> str:
        sentences = []
        left = n_words
        while left > 0:
            n = min(int(self.rng.integers(8, 21)), left)
            sentences.append(self.words(topic, n).capitalize() + ".")
            left -= n
        return " ".join(sentences)

    def pain_point(self, topic: int) -> str:
        opener = OPENERS[int(self.rng.integers(len(OPENERS)))]
        return f"{opener} {self.words(topic, int(self.rng.integers(7, 11)), 0.45)}"

    def vectors(self, topics: Sequence[int]) -> Vector:
        """One unit vector per entry, near its topic's centre (isotropic with --topics 0)."""
        noise = self.rng.standard_normal((len(topics), DIM)) / np.sqrt(DIM)
        if self.isotropic:
            return unit_rows(noise)
        sigma = self.rng.uniform(*self.spread, size=(len(topics), 1))
        return unit_rows(self.centres[np.asarray(topics, dtype=np.int64)] + sigma * noise)


@dataclass
class ArticleData:
    id: int
    title: str
    summary: str
    body: str
    passages: list[str]
    vectors: Vector  # one row per passage


def make_articles(synth: Synth, n: int, first_id: int = 1) -> list[ArticleData]:
    from embeddings.text import split_passages

    out = []
    for i in range(n):
        topic = synth.topic()
        title = synth.words(topic, int(synth.rng.integers(5, 10)), 0.5).capitalize()
        summary = synth.prose(topic, int(synth.rng.integers(20, 35)))
        # 170-280 body words: split_passages gives title+summary and two windows (each after the
        # title) = 3 passages,
        # a ~300-word article in all.
        body = synth.prose(topic, int(synth.rng.integers(170, 281)))
        passages = [p.text for p in split_passages(title, summary, body)]
        out.append(
            ArticleData(
                first_id + i, title, summary, body, passages, synth.vectors([topic] * len(passages))
            )
        )
    return out


def article_points(articles: Sequence[ArticleData]) -> list[Any]:
    from embeddings.cache import text_hash
    from embeddings.points import IndexPoint
    from embeddings.text import sparse_document

    return [
        IndexPoint(
            workspace_id=WORKSPACE_ID,
            kind="article",
            record_id=a.id,
            owner_id=a.id,
            passage=n,
            text=text,
            text_hash=text_hash(text),
            dense=a.vectors[n],
            keywords=sparse_document(text),
        )
        for a in articles
        for n, text in enumerate(a.passages)
    ]


# -- the stand-in embedder -----------------------------------------------------------------------


class StoredVectorEmbedder:
    """Satisfies ``embeddings.embedder.Embedder`` by returning the stored vector of each text.

    It stands in for the embedding-cache hit of production: pain points and passages are embedded
    when written, so at suggestion time ``CachedEmbedder`` finds them and never runs the model.
    An unknown text raises KeyError: the benchmark never silently embeds anything.
    """

    def __init__(self, queries: dict[str, Vector], documents: dict[str, Vector]) -> None:
        self._queries = queries
        self._documents = documents

    @property
    def model_id(self) -> str:
        return MODEL_ID

    @property
    def dimension(self) -> int:
        return DIM

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        return self._lookup(self._queries, texts)

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        return self._lookup(self._documents, texts)

    @staticmethod
    def _lookup(table: dict[str, Vector], texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, DIM), np.float32)
        return np.vstack([table[t] for t in texts])


class RefusingEmbedder(StoredVectorEmbedder):
    """The inner embedder of the ``--cache-embedder`` pass: any cache miss is an error."""

    def embed_queries(self, texts: Sequence[str]) -> Vector:
        raise AssertionError(f"cache miss for {len(texts)} query texts")

    def embed_documents(self, texts: Sequence[str]) -> Vector:
        raise AssertionError(f"cache miss for {len(texts)} document texts")


# -- measuring helpers ---------------------------------------------------------------------------


def proc_status_kib() -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in KiB from /proc/self/status."""
    out: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.2f}"


def summary(values: Sequence[float], cpu: Sequence[float] | None = None) -> dict[str, float]:
    """Percentiles of wall-clock seconds; ``cpu``: CPU seconds of the calling thread."""
    out = {
        "n": len(values),
        "p50_ms": 1000 * statistics.median(values),
        "p90_ms": 1000 * pct(values, 90),
        "p99_ms": 1000 * pct(values, 99),
        "max_ms": 1000 * max(values),
        "mean_ms": 1000 * statistics.fmean(values),
    }
    if cpu:
        out["cpu_p50_ms"] = 1000 * statistics.median(cpu)
    return out


def dir_size_mib(path: Path, *, allocated: bool = True) -> float:
    """The files' blocks on disk (Qdrant Edge makes 32 MiB sparse files: their apparent size,
    ``allocated=False``, says little about what they hold)."""
    files = [f.stat() for f in path.rglob("*") if f.is_file()]
    return sum(f.st_blocks * 512 if allocated else f.st_size for f in files) / 2**20


def upsert_all(index: Any, points: Sequence[Any]) -> float:
    start = time.perf_counter()
    for i in range(0, len(points), UPSERT_BATCH):
        index.upsert(points[i : i + UPSERT_BATCH])
    return time.perf_counter() - start


class Stopwatch:
    """Sums the time spent in wrapped callables, by name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, name: str | Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = name(*args, **kwargs) if callable(name) else name
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[key] += time.perf_counter() - start
                self.calls[key] += 1

        return wrapper


@contextmanager
def gc_pauses() -> Iterator[list[float]]:
    """Durations of the garbage collector's full (generation 2) runs inside the block."""
    pauses: list[float] = []
    started: list[float] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            pauses.append(time.perf_counter() - started.pop())

    gc.callbacks.append(callback)
    try:
        yield pauses
    finally:
        gc.callbacks.remove(callback)


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


# -- 2. the workspace ----------------------------------------------------------------------------


@dataclass
class BenchData:
    articles: list[ArticleData]
    article_matrix: Vector
    contact_ids: list[int]
    query_vectors: dict[str, Vector]  # pain point text -> vector
    document_vectors: dict[str, Vector]  # headline passage / expertise text -> vector
    pain_point_texts: list[str]
    points: list[Any]
    counts: dict[str, int]


def build_workspace(
    args: argparse.Namespace, session_factory: Any, index: Any, timings: dict[str, Any]
) -> BenchData:
    from sqlalchemy import insert

    from app.models import Article, Contact, Expertise, PainPoint, Suggestion, Workspace
    from embeddings.cache import text_hash
    from embeddings.points import IndexPoint, Kind
    from embeddings.text import sparse_document

    spread = tuple(float(s) for s in args.spread.split(","))
    synth = Synth(args.seed, args.topics, (spread[0], spread[1]))
    start = time.perf_counter()
    articles = make_articles(synth, args.articles)
    points = article_points(articles)
    article_matrix = np.vstack([a.vectors for a in articles])
    document_vectors = {a.passages[0]: a.vectors[0] for a in articles}

    rng = synth.rng
    contacts: list[dict[str, Any]] = []
    pain_points: list[dict[str, Any]] = []
    expertise: list[dict[str, Any]] = []
    query_vectors: dict[str, Vector] = {}
    for cid in range(1, args.contacts + 1):
        name = f"{FIRST_NAMES[cid % len(FIRST_NAMES)]} {LAST_NAMES[cid % len(LAST_NAMES)]} {cid}"
        last = None if rng.random() < 0.2 else TODAY - timedelta(days=int(rng.integers(0, 400)))
        contacts.append(
            {
                "id": cid,
                "workspace_id": WORKSPACE_ID,
                "name": name,
                "email": f"c{cid}@example.org",
                "company": f"Company {cid % 997}",
                "title": "HR Director",
                "tier": "ABC"[int(rng.integers(3))],
                "last_contacted_on": last,
            }
        )
        for _ in range(int(rng.integers(1, 4))):
            topic = synth.topic()
            text = synth.pain_point(topic)
            stale = rng.random() < args.stale_fraction
            age = int(rng.integers(366, 700)) if stale else int(rng.integers(0, 360))
            pain_points.append(
                {
                    "id": len(pain_points) + 1,
                    "workspace_id": WORKSPACE_ID,
                    "contact_id": cid,
                    "text": text,
                    "noted_on": TODAY - timedelta(days=age),
                    "active": True,
                    "_topic": topic,
                }
            )
        if rng.random() < 0.5:
            for position in range(int(rng.integers(1, 3))):
                topic = synth.topic()
                expertise.append(
                    {
                        "id": len(expertise) + 1,
                        "workspace_id": WORKSPACE_ID,
                        "contact_id": cid,
                        "text": synth.words(topic, int(rng.integers(6, 12)), 0.5).capitalize(),
                        "position": position,
                        "_topic": topic,
                    }
                )
    pp_vectors = synth.vectors([p["_topic"] for p in pain_points])
    ex_vectors = synth.vectors([e["_topic"] for e in expertise])
    kinds: tuple[tuple[list[dict[str, Any]], Vector, Kind], ...] = (
        (pain_points, pp_vectors, "pain_point"),
        (expertise, ex_vectors, "expertise"),
    )
    for rows, vectors, kind in kinds:
        for row, vector in zip(rows, vectors, strict=True):
            row.pop("_topic")
            if kind == "pain_point":
                query_vectors[row["text"]] = vector
            points.append(
                IndexPoint(
                    workspace_id=WORKSPACE_ID,
                    kind=kind,
                    record_id=row["id"],
                    owner_id=row["contact_id"],
                    passage=0,
                    text=row["text"],
                    text_hash=text_hash(row["text"]),
                    dense=vector,
                    keywords=sparse_document(row["text"]),
                )
            )
    # Some history: a tenth of the contacts dismissed an article as not relevant (this feeds the
    # engine's dismissal penalty) and a tenth were sent one (blocked from coming back).
    suggestions = []
    for cid in range(1, args.contacts + 1):
        roll = rng.random()
        if roll < 0.2:
            article = articles[int(rng.integers(len(articles)))]
            suggestions.append(
                {
                    "workspace_id": WORKSPACE_ID,
                    "contact_id": cid,
                    "kind": "article",
                    "target_key": f"article:{article.id}",
                    "article_id": article.id,
                    "status": "dismissed" if roll < 0.1 else "sent",
                    "dismiss_reason": "not_relevant" if roll < 0.1 else None,
                    "reason": "history",
                    "drafts": {},
                }
            )
    timings["generate_s"] = time.perf_counter() - start

    start = time.perf_counter()
    with session_factory() as session:
        session.execute(insert(Workspace), [{"id": WORKSPACE_ID, "name": "bench"}])
        article_rows = [
            {
                "id": a.id,
                "workspace_id": WORKSPACE_ID,
                "title": a.title,
                "url": f"https://example.org/articles/{a.id}",
                "summary": a.summary,
                "text": a.body,
                "tags": [],
                "saved_on": TODAY - timedelta(days=a.id % 700),
            }
            for a in articles
        ]
        for model, rows in (
            (Article, article_rows),
            (Contact, contacts),
            (PainPoint, pain_points),
            (Expertise, expertise),
            (Suggestion, suggestions),
        ):
            for i in range(0, len(rows), 5_000):
                session.execute(insert(model), rows[i : i + 5_000])
        session.commit()
    timings["sqlite_insert_s"] = time.perf_counter() - start

    before = proc_status_kib()
    timings["upsert_s"] = upsert_all(index, points)
    after = proc_status_kib()
    timings["upsert_rss_before_kib"] = before["VmRSS"]
    timings["upsert_rss_after_kib"] = after["VmRSS"]
    timings["upsert_hwm_kib"] = after["VmHWM"]
    counts = {
        "articles": len(articles),
        "article_points": len(article_matrix),
        "contacts": len(contacts),
        "pain_points": len(pain_points),
        "expertise": len(expertise),
        "points": len(points),
        "history_suggestions": len(suggestions),
    }
    return BenchData(
        articles=articles,
        article_matrix=article_matrix,
        contact_ids=[c["id"] for c in contacts],
        query_vectors=query_vectors,
        document_vectors=document_vectors,
        pain_point_texts=[p["text"] for p in pain_points],
        points=points,
        counts=counts,
    )


# -- 3. latency ----------------------------------------------------------------------------------


def engine_pass(
    engine: Any, session_factory: Any, contact_ids: Sequence[int], cadences: Any
) -> tuple[list[float], dict[str, float], list[float]]:
    """Warm ``engine.suggest`` per contact (the contact is loaded before the clock starts)."""
    from app.contacts.service import next_due_on
    from app.models import Contact

    seconds: list[float] = []
    cpu: list[float] = []
    kinds: dict[str, float] = defaultdict(float)
    for cid in contact_ids:
        with session_factory() as session:
            contact = session.get(Contact, cid)
            due = next_due_on(contact, cadences) <= TODAY
            start, start_cpu = time.perf_counter(), time.thread_time()
            chosen = engine.suggest(session=session, contact=contact, today=TODAY, due=due)
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
            [to_public(session, s) for s in stored]
            t3 = time.perf_counter()
            session.commit()
            t4 = time.perf_counter()
        parts["total"].append(t4 - t0)
        parts["load contact"].append(t1 - t0)
        parts["suggest_for_contact"].append(t2 - t1)
        parts["to_public"].append(t3 - t2)
        parts["commit"].append(t4 - t3)
    return parts


def breakdown_pass(
    engine: Any, db_engine: Any, session_factory: Any, contact_ids: Sequence[int], cadences: Any
) -> tuple[dict[str, float], dict[str, float], float]:
    """Mean ms per suggest call spent in each step (perf_counter wrappers; inclusive times)."""
    from sqlalchemy import event

    import app.suggestions.engine as engine_module
    from app.suggestions import drafts

    watch = Stopwatch()
    wrapped = (
        (engine_module, "_blocked_targets"),
        (engine_module, "sparse_query"),
        (drafts, "article_draft"),
        (drafts, "introduction_drafts"),
        (drafts, "check_in_draft"),
    )
    saved_module: dict[tuple[Any, str], Callable[..., Any]] = {
        (module, name): getattr(module, name) for module, name in wrapped
    }
    for (module, name), fn in saved_module.items():
        setattr(module, name, watch.wrap(name, fn))
    index = engine.index
    embedder = engine.embedder
    patched: list[tuple[Any, str, str | Callable[..., str]]] = [
        (engine, name, name)
        for name in (
            "_search_all",
            "_best_matches",
            "_choose",
            "_candidates",
            "_headline_vectors",
            "_disliked_vectors",
            "_diverse",
            "_drafts",
        )
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

    with session_factory() as session:
        contacts = [session.get(Contact, cid) for cid in contact_ids]
        requests = [ContactRequest(c, next_due_on(c, cadences) <= TODAY) for c in contacts]
        start = time.perf_counter()
        chosen = list(engine.suggest_many(session=session, requests=requests, today=TODAY))
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


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f}"


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
