"""Match quality on a public retrieval dataset: the engine's article ranking, measured.

A dataset in BEIR layout (``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``) is loaded
into a fresh workspace in a temporary data folder: every document becomes an article (its title,
its text as the body), every query a contact's pain point, in real SQLite and the real vector
index (Qdrant Edge). Each pain point's articles are then ranked
by ``SuggestionEngine.rank_articles``, the ranking ``suggest`` builds its article suggestions on
(each article scored by its best passage), with three settings of the engine: BM25 alone
(keyword weight 1), dense alone (keyword weight 0) and the configured default. The relevance
floor does not apply here: the top 10 are scored whatever their relevance.

The metrics are the BEIR / pytrec_eval ones at cut-off 10: nDCG with the graded relevance as the
gain, recall of the documents judged relevant (grade > 0), reciprocal rank of the first relevant
one; and "best first", whether the first document has the best grade any document has for the
query (on the graded HR set: the right article first); averaged over the queries that have
judgements. A hit whose document id is the query's own
id is dropped (in ArguAna many queries are also documents), as BEIR and MTEB do.

Vectors are cached by (model, text) in ``cache_dir`` when given, so that a second run embeds
nothing it has embedded before.
"""

import json
import math
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope
from app.models import Article, Contact, PainPoint, Tier
from app.runtime import open_runtime
from app.suggestions.config import EngineConfig
from app.suggestions.engine import SuggestionEngine
from app.workspaces.service import get_or_create_workspace
from embeddings.cache import CachedEmbedder
from embeddings.embedder import Embedder
from embeddings.index import VectorIndex

CUTOFF = 10
Qrels = dict[str, dict[str, int]]
Ranking = list[str]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Document:
    title: str
    text: str


@dataclass(frozen=True)
class Dataset:
    name: str
    corpus: dict[str, Document]
    queries: dict[str, str]  # only the queries with judgements in the split
    qrels: Qrels


@dataclass(frozen=True)
class Scores:
    ndcg: float
    recall: float
    mrr: float
    best_first: float  # the first document has the query's best grade (graded sets: a 2)

    def as_dict(self) -> dict[str, float]:
        return {
            f"ndcg@{CUTOFF}": round(self.ndcg, 5),
            f"recall@{CUTOFF}": round(self.recall, 5),
            f"mrr@{CUTOFF}": round(self.mrr, 5),
            "best_first": round(self.best_first, 5),
        }


@dataclass
class Report:
    dataset: str
    documents: int
    queries: int
    passages: int
    model_id: str
    keyword_weight: float
    scores: dict[str, Scores] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            **{name: s.as_dict() for name, s in self.scores.items()},
            "dataset": self.dataset,
            "documents": self.documents,
            "queries": self.queries,
            "passages": self.passages,
            "model_id": self.model_id,
            "keyword_weight": self.keyword_weight,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }

    def render(self) -> str:
        lines = [
            f"{self.dataset}: {self.documents} documents ({self.passages} passages), "
            f"{self.queries} queries; model {self.model_id}, keyword weight {self.keyword_weight}",
            f"{'ranking':<16} {'nDCG@10':>8} {'R@10':>8} {'MRR@10':>8} {'best 1st':>8}",
        ]
        for name, s in self.scores.items():
            lines.append(
                f"{name:<16} {s.ndcg:>8.4f} {s.recall:>8.4f} {s.mrr:>8.4f} {s.best_first:>8.4f}"
            )
        lines.append("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items()))
        return "\n".join(lines)

    def json_line(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=False)


# -- the dataset ----------------------------------------------------------------------------------


def load_dataset(folder: Path, split: str = "test", limit_queries: int | None = None) -> Dataset:
    """A BEIR-layout folder, cut to ``split`` (one name, or several joined by commas).

    Judgements come from ``qrels/<name>.tsv`` for each name that has one (else ``qrels/test.tsv``);
    queries from ``queries_<name>.jsonl`` if it exists, else ``queries.jsonl``. Queries that carry
    their own ``source_split`` (CounselChat: train, val, test; the HR set: tune, test) are cut by
    it: a query belongs to the split when every split it came from is one of the names asked
    for, so a query asked in both a tuning and a test split is in neither (it would leak what
    was tuned into the report).
    """
    names = [name.strip() for name in split.split(",") if name.strip()]
    if not names:
        raise ValueError("no split named")
    corpus = {
        str(row["_id"]): Document(str(row.get("title") or ""), str(row.get("text") or ""))
        for row in _jsonl(folder / "corpus.jsonl")
    }
    qrel_files = [folder / "qrels" / f"{name}.tsv" for name in names]
    qrel_files = [path for path in qrel_files if path.is_file()] or [folder / "qrels" / "test.tsv"]
    qrels: Qrels = {}
    for path in qrel_files:
        qrels.update(_qrels(path))
    rows: list[dict[str, object]] = []
    for name in names:
        named = folder / f"queries_{name}.jsonl"
        rows.extend(_jsonl(named if named.is_file() else folder / "queries.jsonl"))
    queries: dict[str, str] = {}
    for row in rows:
        query_id = str(row["_id"])
        came_from = row.get("source_split")
        if isinstance(came_from, list) and not set(map(str, came_from)) <= set(names):
            continue
        if query_id in qrels:
            queries[query_id] = str(row["text"])
    if limit_queries is not None:
        queries = dict(list(queries.items())[:limit_queries])
    qrels = {q: qrels[q] for q in queries}
    return Dataset(folder.name, corpus, queries, qrels)


def _qrels(path: Path) -> Qrels:
    """``query-id, corpus-id, score`` lines (a header line is skipped)."""
    qrels: Qrels = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            cells = line.rstrip("\n").split("\t")
            if number == 0 and not cells[-1].lstrip("-").isdigit():
                continue  # the header
            if len(cells) >= 3:
                qrels.setdefault(cells[0], {})[cells[1]] = int(cells[2])
    return qrels


def _jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# -- the metrics ----------------------------------------------------------------------------------


def score_query(ranking: Sequence[str], judged: Mapping[str, int], cutoff: int = CUTOFF) -> Scores:
    """nDCG, recall and reciprocal rank at ``cutoff`` of one ranking (pytrec_eval's definitions:
    the gain is the grade; the ideal ranking is every judged document, best grade first)."""
    top = list(ranking[:cutoff])
    dcg = sum(judged.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(top))
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:cutoff]
    idcg = sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal))
    relevant = {doc for doc, grade in judged.items() if grade > 0}
    found = [rank for rank, doc in enumerate(top) if doc in relevant]
    return Scores(
        ndcg=dcg / idcg if idcg else 0.0,
        recall=len(found) / len(relevant) if relevant else 0.0,
        mrr=1.0 / (found[0] + 1) if found else 0.0,
        best_first=float(bool(top) and bool(ideal) and judged.get(top[0], 0) == ideal[0]),
    )


def mean_scores(rankings: Mapping[str, Sequence[str]], qrels: Qrels) -> Scores:
    """The mean over the judged queries (a query without a ranking scores 0)."""
    per_query = [score_query(rankings.get(q, []), judged) for q, judged in qrels.items()]
    count = max(len(per_query), 1)
    return Scores(
        ndcg=sum(s.ndcg for s in per_query) / count,
        recall=sum(s.recall for s in per_query) / count,
        mrr=sum(s.mrr for s in per_query) / count,
        best_first=sum(s.best_first for s in per_query) / count,
    )


def without_self(query_id: str, ranking: Sequence[str], cutoff: int = CUTOFF) -> Ranking:
    """The ranking without the query's own document, cut to ``cutoff``."""
    return [doc for doc in ranking if doc != query_id][:cutoff]


# -- the workspace ----------------------------------------------------------------------------


def _fill(
    session: Session, dataset: Dataset, today: date
) -> tuple[int, dict[int, str], list[tuple[PainPoint, str]]]:
    """The dataset's documents as articles and its queries as pain points (one contact each).

    Returns the workspace id, the document id of each article id, and each pain point with its
    query id. A document without a title (most of ArguAna's) keeps an empty one.
    """
    workspace, _ = get_or_create_workspace(session=session, name=f"eval-{dataset.name}")
    articles = {
        doc_id: Article(
            workspace_id=workspace.id,
            title=doc.title,
            text=doc.text,
            tags=[],
            saved_on=today,
        )
        for doc_id, doc in dataset.corpus.items()
    }
    session.add_all(articles.values())
    pain_points = []
    for query_id, text in dataset.queries.items():
        pain_point = PainPoint(workspace_id=workspace.id, text=text, noted_on=today)
        contact = Contact(workspace_id=workspace.id, name=f"query {query_id}", tier=Tier.B)
        contact.pain_points.append(pain_point)
        session.add(contact)
        pain_points.append((pain_point, query_id))
    session.flush()
    return workspace.id, {a.id: doc_id for doc_id, a in articles.items()}, pain_points


@dataclass
class LoadedSet:
    """A dataset loaded into a fresh workspace: records, index and the engine's parts."""

    dataset: Dataset
    session: Session
    embedder: CachedEmbedder
    index: VectorIndex
    config: EngineConfig
    workspace_id: int
    pain_points: list[tuple[PainPoint, str]]  # each with its query id
    document_of: dict[int, str]  # article id -> document id
    seconds: float  # to load and index

    def engine(self, **changes: Any) -> SuggestionEngine:
        """The engine on this workspace, with ``changes`` to the configured ``EngineConfig``."""
        return SuggestionEngine(self.embedder, self.index, replace(self.config, **changes))


@contextmanager
def loaded_set(
    dataset: Dataset,
    settings: Settings,
    *,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> Iterator[LoadedSet]:
    """``dataset`` in a fresh workspace of a temporary data folder (SQLite and Qdrant Edge), with
    the model and engine configuration of ``settings``; everything is deleted afterwards."""
    say = progress or (lambda _: None)
    with tempfile.TemporaryDirectory(prefix="givefirst-eval-") as folder:
        local = settings.model_copy(
            update={"data_dir": Path(folder), "database_url": None, "qdrant_url": None}
        )
        started = time.perf_counter()
        runtime = open_runtime(local, repair_index=False, cache_dir=cache_dir)
        try:
            with session_scope(runtime.session_factory) as session:
                say(f"Loading {len(dataset.corpus)} documents and {len(dataset.queries)} queries")
                workspace_id, document_of, pain_points = _fill(session, dataset, date.today())
                say("Indexing (the model embeds what the cache does not hold)")
                runtime.indexer.rebuild(session)
                yield LoadedSet(
                    dataset=dataset,
                    session=session,
                    embedder=runtime.embedder,
                    index=runtime.index,
                    config=local.engine_config(),
                    workspace_id=workspace_id,
                    pain_points=pain_points,
                    document_of=document_of,
                    seconds=time.perf_counter() - started,
                )
        finally:
            runtime.close()


def evaluate(
    dataset: Dataset,
    settings: Settings,
    *,
    cache_dir: Path | None = None,
    reference: bool = False,
    progress: Progress | None = None,
) -> Report:
    """BM25 alone, dense alone and the engine's default, on ``dataset``, in a fresh workspace.

    ``settings`` gives the model and the engine's configuration; its storage settings are
    replaced by a temporary data folder (SQLite and Qdrant Edge). ``reference`` adds the
    dense model's score under the BEIR / MTEB protocol (``reference_dense``).
    """
    say = progress or (lambda _: None)
    with loaded_set(dataset, settings, cache_dir=cache_dir, progress=progress) as loaded:
        report = Report(
            dataset=dataset.name,
            documents=len(dataset.corpus),
            queries=len(dataset.queries),
            passages=loaded.index.count(loaded.workspace_id, "article"),
            model_id=loaded.embedder.model_id,
            keyword_weight=loaded.config.keyword_weight,
        )
        report.seconds["index"] = loaded.seconds
        for name, weight in (
            ("bm25", 1.0),
            ("dense", 0.0),
            ("engine", loaded.config.keyword_weight),
        ):
            say(f"Ranking: {name}")
            started = time.perf_counter()
            found = ranked_documents(loaded, loaded.engine(keyword_weight=weight), CUTOFF + 1)
            rankings = {q: without_self(q, [doc for doc, _ in hits]) for q, hits in found.items()}
            report.seconds[name] = time.perf_counter() - started
            report.scores[name] = mean_scores(rankings, dataset.qrels)
        if reference:
            say("Reference: one vector per document (BEIR / MTEB protocol)")
            started = time.perf_counter()
            report.scores["dense (BEIR)"] = reference_dense(dataset, loaded.embedder)
            report.seconds["dense (BEIR)"] = time.perf_counter() - started
        return report


def ranked_documents(
    loaded: LoadedSet, engine: SuggestionEngine, limit: int
) -> dict[str, list[tuple[str, float]]]:
    """Each query's ``limit`` best documents with their scores, through
    ``SuggestionEngine.rank_articles`` (each article by its best passage)."""
    found = engine.rank_articles(
        workspace_id=loaded.workspace_id,
        texts=[p.text for p, _ in loaded.pain_points],
        limit=limit,
    )
    return {
        query_id: [(loaded.document_of[h.record_id], h.score) for h in hits]
        for (_, query_id), hits in zip(loaded.pain_points, found, strict=True)
    }


def reference_dense(dataset: Dataset, embedder: Embedder) -> Scores:
    """The BEIR / MTEB protocol for a dense model: one vector per document (title + " " + text,
    which the model truncates), exact cosine ranking. A check of the pipeline, not the engine."""
    ids = list(dataset.corpus)
    # Spaces collapsed (the tokenizer splits on them anyway): a short document is then the same
    # text as its first passage, and its vector comes from the cache.
    documents = embedder.embed_documents(
        [" ".join(f"{d.title} {d.text}".split()) for d in dataset.corpus.values()]
    )
    query_ids = list(dataset.queries)
    queries = embedder.embed_queries([dataset.queries[q] for q in query_ids])
    rankings: dict[str, Ranking] = {}
    for start in range(0, len(query_ids), 256):
        cosines = queries[start : start + 256] @ documents.T
        top = np.argsort(-cosines, axis=1, kind="stable")[:, : CUTOFF + 1]
        for row, query_id in enumerate(query_ids[start : start + 256]):
            rankings[query_id] = without_self(query_id, [ids[i] for i in top[row]])
    return mean_scores(rankings, dataset.qrels)
