"""The hybrid score, defined once: what a search asks of Qdrant, on Edge and on a server alike.

A point's score for a query is

    (1 - w) * cosine(query, point) + w * BM25(query, point) / ceiling(query)

* ``cosine`` is the dense similarity (Qdrant's cosine distance).
* ``BM25`` is the dot product of the query's term counts and the point's BM25 term weights
  (``embeddings.text``), each term weighed by Qdrant's IDF modifier over the shard's points that
  hold at least one term (a text of stopwords alone has no BM25 vector, and Qdrant's IDF leaves
  such points out of its count).
* ``ceiling`` is the best BM25 a point could reach: every query term saturated (k1 + 1) at the
  IDF of a term that only one point holds. It depends only on the query and that number of points,
  so the keyword part lies in [0, 1] and a score keeps an absolute meaning for the relevance floor.

A search is one nested Qdrant query (every search of a batch in one request):
1. **candidates** (inner prefetches): the ``depth`` best points by cosine and the ``depth`` best
   by BM25;
2. **both scores** (outer prefetches): the union of the two lists re-scored by cosine
   (``$score[0]``) and by BM25 (``$score[1]``), so a point found by one list alone is scored by
   the other too, never counted as a zero (a point sharing no term with the query has no BM25
   match and takes the default, 0, which is its BM25);
3. **score**: the formula above over those two scores, best ``limit`` first.

Qdrant runs each candidate list once per outer prefetch, so on a large shard scanned in full
``EdgeIndex`` sends the same search as two requests instead (the lists, then the formula over
their ids): the same candidates and the same scores.

``reference_scores`` computes the same formula exactly with numpy, for tests and benchmarks.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.points import Query
from embeddings.text import BM25_K1, SparseVector

DENSE = "dense"
KEYWORDS = "bm25"
MIN_DEPTH = 100  # candidates per list, at least: recall@limit against exact scoring
MIN_HNSW_EF = 200  # HNSW beam, at least (docs/benchmarks.md §8: recall with HNSW)
DENSE_SCORE = "$score[0]"  # the formula's variables: the outer prefetches' scores, in order
KEYWORD_SCORE = "$score[1]"
SCORE_DEFAULTS = {DENSE_SCORE: 0.0, KEYWORD_SCORE: 0.0}  # a point missing from a rescoring
# Candidates per list per result (4 until 2026-12-01): depth 240 for a suggestion's 80 passages
# keeps recall@80 at 0.99+ against exact (docs/benchmarks.md §8), for a quarter less to score.
DEPTH_PER_RESULT = 3


def candidate_depth(limit: int) -> int:
    """How many candidates each list brings for ``limit`` results."""
    return max(DEPTH_PER_RESULT * limit, MIN_DEPTH)


def hnsw_ef(depth: int) -> int:
    """The HNSW beam for a dense list of ``depth`` points, on a shard that has HNSW (a full scan
    ignores it): wide enough that the approximate list is nearly the exact one."""
    return max(depth, MIN_HNSW_EF)


def idf(points: int, document_frequency: float) -> float:
    """Qdrant's IDF modifier: ``ln(1 + (N - df + 0.5) / (df + 0.5))``."""
    df = document_frequency
    return math.log(1.0 + (points - df + 0.5) / (df + 0.5))


def idf_many(points: int, frequencies: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """``idf`` of many document frequencies at once."""
    df = frequencies.astype(np.float64)
    return np.log(1.0 + (points - df + 0.5) / (df + 0.5)).astype(np.float32)


def fuse(dense: Any, keyword: Any, keyword_weight: float) -> Any:
    """The formula's mix of a cosine and a normalised keyword score (arrays or numbers)."""
    return (1.0 - keyword_weight) * dense + keyword_weight * keyword


def keyword_ceiling(keywords: SparseVector, points: int) -> float:
    """The best BM25 any point could reach for these query terms among ``points`` points."""
    if points == 0 or keywords.values.size == 0:
        return 1.0
    return float(keywords.values.sum()) * idf(points, 1.0) * (BM25_K1 + 1)


@dataclass(frozen=True)
class HybridSearch:
    """One search, as both backends run it: the two candidate lists, their union scored by
    both vectors, then the formula."""

    query: Query
    limit: int
    depth: int
    ef: int  # HNSW beam of the dense list
    dense_weight: float  # 1 - w
    keyword_scale: float  # w / ceiling

    @property
    def union_size(self) -> int:
        """The most candidates the two lists can bring together."""
        return 2 * self.depth

    @classmethod
    def plan(
        cls, query: Query, *, limit: int, keyword_weight: float, points: int
    ) -> "HybridSearch":
        return cls(
            query=query,
            limit=limit,
            depth=candidate_depth(limit),
            ef=hnsw_ef(candidate_depth(limit)),
            dense_weight=1.0 - keyword_weight,
            keyword_scale=keyword_weight / keyword_ceiling(query.keywords, points),
        )


def reference_scores(
    query: Query,
    dense: npt.NDArray[np.float32],
    keywords: Sequence[SparseVector],
    *,
    keyword_weight: float,
) -> npt.NDArray[np.float64]:
    """The hybrid score of every point (rows of ``dense``, items of ``keywords``), computed
    exactly: what the Qdrant search approximates only through its candidate depth."""
    points = sum(1 for vector in keywords if vector.values.size)  # as Qdrant's IDF counts
    frequency: dict[int, int] = {}
    for vector in keywords:
        for term in vector.indices.tolist():
            frequency[term] = frequency.get(term, 0) + 1
    wanted = query.keywords.as_dict()
    weights = {t: q * idf(points, frequency[t]) for t, q in wanted.items() if t in frequency}
    bm25 = np.array(
        [sum(weights.get(t, 0.0) * w for t, w in v.as_dict().items()) for v in keywords],
        dtype=np.float64,
    )
    norms = np.linalg.norm(dense, axis=1) * float(np.linalg.norm(query.dense))
    cosine = (dense @ query.dense).astype(np.float64) / np.maximum(norms, 1e-12)
    ceiling = keyword_ceiling(query.keywords, points)
    scores: npt.NDArray[np.float64] = (
        1.0 - keyword_weight
    ) * cosine + keyword_weight * bm25 / ceiling
    return scores
