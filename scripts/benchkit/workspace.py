"""A seeded synthetic workspace for the benchmarks: HR-flavoured texts, random unit vectors
around topic centres (so that a pain point is as close to its topic's passages as real text is),
real BM25 vectors, and the stand-in embedder that answers with the stored vectors (the embedding
cache's hit, which production gets at suggestion time). ``build_workspace`` writes it through
the real database and Qdrant Edge."""

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from scripts.benchkit.measure import proc_status_kib, upsert_all

TODAY = date(2026, 11, 21)
DIM = 384
MODEL_ID = "bench-random-unit-vectors-384"
WORKSPACE_ID = 1
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
