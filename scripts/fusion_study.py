"""Ways to fuse dense and keyword scores, compared on a BEIR dataset: the study behind the
engine's defaults (``docs/benchmarks.md``, section 5).

``givefirst eval`` measures the engine as it is configured. This script asks what else the
engine could do, on the same passages (``split_passages``), the same BM25 term weights
(``sparse_document``, ``idf_many``, ``keyword_ceiling``) and the same vectors (the model behind the
embedding cache), but with every score held in memory as one matrix per query batch, so a variant
costs seconds. Each article is scored by its best passage, as the engine does; the figures agree
with ``givefirst eval`` to about 0.002 nDCG@10 (ties, and Qdrant's float rounding).

Variants: the engine's fusion with the query's terms counted (the default) or each taken once,
over a range of keyword weights; per-query normalisations of both scores (z-scores, divided by the
best score, min-max); dense pseudo-relevance feedback (Rocchio); BM25 over whole documents instead
of passages; and, with ``--query-windows``, long queries embedded window by window.

    .venv/bin/python scripts/fusion_study.py --dataset DATA/scifact --split train --cache-dir C

Tune on a train split; the test split is for reporting.
"""

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.evaluation import (
    CUTOFF,
    Dataset,
    load_dataset,
    mean_scores,
    score_query,
    without_self,
)
from app.runtime import EMBEDDING_CACHE_FILE
from embeddings.cache import CachedEmbedder, EmbeddingCache
from embeddings.factory import load_model
from embeddings.hybrid import fuse, idf_many, keyword_ceiling
from embeddings.lexicon import spell_out
from embeddings.text import (
    PASSAGE_OVERLAP,
    PASSAGE_WORDS,
    SparseVector,
    sparse_document,
    sparse_query,
    split_passages,
)

Matrix = npt.NDArray[np.float32]
WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0)


class Study:
    """One dataset's passages, vectors and score matrices (queries x passages)."""

    def __init__(self, dataset: Dataset, embedder: CachedEmbedder) -> None:
        self.dataset = dataset
        self.embedder = embedder
        self.doc_ids = list(dataset.corpus)
        texts: list[str] = []
        owners: list[int] = []
        for number, doc_id in enumerate(self.doc_ids):
            document = dataset.corpus[doc_id]
            for passage in split_passages(document.title, None, document.text):
                texts.append(passage.text)
                owners.append(number)
        self.passages = texts
        self.owner = np.array(owners)
        self.query_ids = list(dataset.queries)
        self.query_texts = [spell_out(dataset.queries[q]) for q in self.query_ids]
        self.passage_vectors = embedder.embed_documents(texts)
        self.query_vectors = embedder.embed_queries(self.query_texts)
        self.dense = self.query_vectors @ self.passage_vectors.T

    def keyword(self, texts: Sequence[str], *, counted: bool = True) -> tuple[Matrix, Matrix]:
        """Raw BM25 of every query against ``texts``, and the same divided by the query's
        ceiling (the engine's keyword score). ``counted`` False weighs each query term once."""
        documents = [sparse_document(t) for t in texts]
        vocabulary: dict[int, int] = {}
        rows, columns, values = [], [], []
        for row, vector in enumerate(documents):
            for term, weight in vector.as_dict().items():
                rows.append(row)
                columns.append(vocabulary.setdefault(term, len(vocabulary)))
                values.append(weight)
        matrix = sp.csr_matrix((values, (rows, columns)), shape=(len(texts), len(vocabulary)))
        frequency = np.asarray((matrix > 0).sum(axis=0), np.float32).ravel()
        idf = idf_many(len(texts), frequency)
        q_rows, q_columns, q_values, ceilings = [], [], [], []
        for row, text in enumerate(self.query_texts):
            query = sparse_query(text)
            if not counted:
                query = SparseVector(query.indices, np.ones_like(query.values))
            known = {
                t: float(idf[vocabulary[t]]) for t in query.indices.tolist() if t in vocabulary
            }
            ceilings.append(keyword_ceiling(query, len(texts)))
            for term, weight in query.as_dict().items():
                if term in vocabulary:
                    q_rows.append(row)
                    q_columns.append(vocabulary[term])
                    q_values.append(weight * known[term])
        queries = sp.csr_matrix(
            (q_values, (q_rows, q_columns)), shape=(len(self.query_texts), len(vocabulary))
        )
        raw = np.asarray((queries @ matrix.T).todense(), np.float32)
        return raw, raw / np.array(ceilings, np.float32)[:, None]

    def per_document(self, scores: Matrix) -> Matrix:
        """Each document's best passage score."""
        order = np.argsort(self.owner, kind="stable")
        owners = self.owner[order]
        starts = np.r_[0, np.flatnonzero(np.diff(owners)) + 1]
        best = np.full((scores.shape[0], len(self.doc_ids)), -np.inf, np.float32)
        best[:, owners[starts]] = np.maximum.reduceat(scores[:, order], starts, axis=1)
        return best

    def rankings(self, document_scores: Matrix) -> dict[str, list[str]]:
        top = np.argsort(-document_scores, axis=1, kind="stable")[:, : CUTOFF + 1]
        return {
            q: without_self(q, [self.doc_ids[i] for i in top[row]])
            for row, q in enumerate(self.query_ids)
        }

    def ndcg(self, document_scores: Matrix) -> float:
        return mean_scores(self.rankings(document_scores), self.dataset.qrels).ndcg

    def best_per_query(self, candidates: Sequence[Matrix]) -> float:
        """The mean over the judged queries of each query's best nDCG among the ``candidates``
        (document scores): what choosing among them per query could reach at most, a bound."""
        per_candidate = [self.rankings(scores) for scores in candidates]
        best = [
            max(score_query(rankings.get(q, []), judged).ndcg for rankings in per_candidate)
            for q, judged in self.dataset.qrels.items()
        ]
        return sum(best) / max(len(best), 1)


def _zscore(scores: Matrix) -> Matrix:
    return (scores - scores.mean(1, keepdims=True)) / (scores.std(1, keepdims=True) + 1e-9)


def _by_best(scores: Matrix) -> Matrix:
    return scores / (scores.max(1, keepdims=True) + 1e-9)


def _min_max(scores: Matrix) -> Matrix:
    low = scores.min(1, keepdims=True)
    return (scores - low) / (scores.max(1, keepdims=True) - low + 1e-9)


def _windows(text: str) -> list[str]:
    words = text.split()
    step = PASSAGE_WORDS - PASSAGE_OVERLAP
    starts = range(0, max(len(words) - PASSAGE_OVERLAP, 1), step)
    return [" ".join(words[s : s + PASSAGE_WORDS]) for s in starts]


def run(study: Study, say: Callable[[str], None], query_windows: bool) -> None:
    def row(label: str, scores_at: Callable[[float], Matrix], weights: Sequence[float]) -> None:
        cells = [f"w={w:g}: {study.ndcg(scores_at(w)):.4f}" for w in weights]
        say(f"{label:<44} " + "  ".join(cells))

    raw, counted = study.keyword(study.passages)
    _, once = study.keyword(study.passages, counted=False)
    dense = study.dense

    def engine(keyword: Matrix, dense_: Matrix = dense) -> Callable[[float], Matrix]:
        return lambda w: study.per_document(fuse(dense_, keyword, w))

    row("engine: query terms counted (the default)", engine(counted), WEIGHTS)
    grid = [study.per_document(fuse(dense, counted, w / 20)) for w in range(21)]
    say(
        f"{'bound: each query its best weight (0-1, 0.05)':<44} "
        f"{study.best_per_query(grid):.4f}  (no weighted sum of the two scores reaches more)"
    )
    row("engine: each query term once", engine(once), WEIGHTS)
    for label, normalise in (("z-scores", _zscore), ("/ best", _by_best), ("min-max", _min_max)):
        dense_n = dense if label == "/ best" else normalise(dense)
        keyword_n = normalise(raw)
        row(
            f"per-query normalisation: {label}",
            lambda w, d=dense_n, k=keyword_n: study.per_document(fuse(d, k, w)),
            (0.3, 0.4, 0.5, 0.6),
        )
    first = study.per_document(fuse(dense, counted, 0.7))
    documents = np.zeros((len(study.doc_ids), study.passage_vectors.shape[1]), np.float32)
    np.add.at(documents, study.owner, study.passage_vectors)
    documents /= np.linalg.norm(documents, axis=1, keepdims=True)
    top = np.argsort(-first, axis=1)[:, :3]
    for alpha in (0.3, 0.6):
        expanded = study.query_vectors + alpha * documents[top].mean(axis=1)
        expanded /= np.linalg.norm(expanded, axis=1, keepdims=True)
        row(
            f"Rocchio feedback, top 3 documents, a={alpha}",
            engine(counted, (expanded @ study.passage_vectors.T).astype(np.float32)),
            (0.7, 0.8),
        )
    whole = [f"{d.title} {d.text}" for d in study.dataset.corpus.values()]
    _, whole_keyword = study.keyword(whole)
    best_dense = study.per_document(dense)
    row(
        "BM25 of whole documents + best-passage dense",
        lambda w: fuse(best_dense, whole_keyword, w),
        WEIGHTS,
    )
    if query_windows:
        pieces = [_windows(t) for t in study.query_texts]
        vectors = study.embedder.embed_queries([p for ps in pieces for p in ps])
        owners = np.repeat(np.arange(len(pieces)), [len(ps) for ps in pieces])
        mean = np.zeros_like(study.query_vectors)
        np.add.at(mean, owners, vectors)
        mean /= np.linalg.norm(mean, axis=1, keepdims=True)
        row(
            "long queries: mean of window vectors",
            engine(counted, (mean @ study.passage_vectors.T).astype(np.float32)),
            (0.0, 0.7, 0.8),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, required=True, help="a BEIR-layout folder")
    parser.add_argument("--split", default="test")
    parser.add_argument("--cache-dir", type=Path, required=True, help="the embedding cache")
    parser.add_argument("--limit-queries", type=int)
    parser.add_argument("--query-windows", action="store_true", help="embeds more: slower")
    args = parser.parse_args()
    if not (args.dataset / "corpus.jsonl").is_file():
        parser.error(f"{args.dataset} is not a BEIR-layout dataset (no corpus.jsonl)")
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    dataset = load_dataset(args.dataset, args.split, args.limit_queries)
    embedder = CachedEmbedder(load_model(), EmbeddingCache(args.cache_dir / EMBEDDING_CACHE_FILE))
    study = Study(dataset, embedder)
    print(
        f"{dataset.name} {args.split}: {len(study.doc_ids)} documents "
        f"({len(study.passages)} passages), {len(study.query_ids)} queries; nDCG@{CUTOFF}",
        flush=True,
    )
    run(study, lambda line: print(line, flush=True), args.query_windows)
    print(f"time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
