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

That is how a Qdrant server runs it (one round trip). Qdrant runs each candidate list once per
outer prefetch, so ``EdgeIndex``, in-process, runs the same search in two requests instead: the
lists, then the one score missing for each candidate that can still make the top ``limit``
(``Candidates``), fused by ``HybridSearch.score``: the same candidates and the same scores
(``tests/test_index.py`` checks both backends against ``reference_scores`` and Edge against
the nested query through qdrant-client).

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

    def score(self, cosine: Any, bm25: Any) -> Any:
        """The formula the Qdrant query applies, of a point's cosine and raw BM25 (numbers or
        arrays)."""
        return self.dense_weight * cosine + self.keyword_scale * bm25

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


# Scores Qdrant returns are single-precision: a bound is widened by this much before it prunes.
BOUND_SLACK = 1e-5


class Candidates:
    """Step 1's two candidate lists of one search (point ids and that list's scores), and what
    step 2 must still score: the one score missing for each point that can still make the top
    ``limit`` (``EdgeIndex`` runs every search this way).

    A point in both lists has both scores. A point in one list has the other bounded: a point
    missing from a full keyword list has at most its last BM25 and at least 0 (exactly 0 when
    the list is not full: every point sharing a term is in it); one missing from a full dense
    list, a cosine of at most its last and at least -1. A point whose best possible score is
    below the ``limit``-th best guaranteed score cannot make the top ``limit``, so only the
    others are scored (``missing_dense``, ``missing_keywords``: a fifth of the union for a
    suggestion's 80 passages), and ``top`` ranks exactly as the formula over the whole union
    would (on a shard with HNSW the dense bound is the approximate list's last score, as the
    candidates themselves are).
    """

    def __init__(
        self,
        search: HybridSearch,
        dense: tuple[Sequence[int], Sequence[float]],
        keywords: tuple[Sequence[int], Sequence[float]],
    ) -> None:
        self.search = search
        dense_ids, cosine = _arrays(*dense)
        keyword_ids, bm25 = _arrays(*keywords)
        dense_full, keyword_full = dense_ids.size >= search.depth, keyword_ids.size >= search.depth
        # Each point once: the dense list's, with their BM25 where the keyword list has them
        # (NaN: unknown), then the keyword list's others, with an unknown cosine.
        dense_bm25 = np.full(dense_ids.size, np.nan)
        in_dense = np.zeros(keyword_ids.size, dtype=bool)
        if keyword_ids.size:
            order = np.argsort(keyword_ids)
            at = order[np.minimum(np.searchsorted(keyword_ids[order], dense_ids), order.size - 1)]
            both = keyword_ids[at] == dense_ids
            dense_bm25[both] = bm25[at[both]]
            in_dense[at[both]] = True
        ids = np.concatenate([dense_ids, keyword_ids[~in_dense]])
        cosines = np.concatenate([cosine, np.full(int((~in_dense).sum()), np.nan)])
        bm25s = np.concatenate([dense_bm25, bm25[~in_dense]])
        if not keyword_full:  # every point sharing a term with the query is in the list
            bm25s = _known(bm25s, 0.0)
        if ids.size > search.limit:
            dense_last = float(cosine[-1]) if dense_full else -1.0
            keyword_last = float(bm25[-1]) if keyword_full else 0.0
            low = search.score(_known(cosines, -1.0), _known(bm25s, 0.0))
            high = search.score(_known(cosines, dense_last), _known(bm25s, keyword_last))
            sure = np.partition(low, ids.size - search.limit)[ids.size - search.limit]
            keep = high >= sure - BOUND_SLACK
            ids, cosines, bm25s = ids[keep], cosines[keep], bm25s[keep]
        self.contenders: list[int] = ids.tolist()
        self._cosines, self._bm25s = cosines, bm25s
        self.missing_dense: list[int] = ids[np.isnan(cosines)].tolist()
        self.missing_keywords: list[int] = ids[np.isnan(bm25s)].tolist()

    def top(
        self,
        dense: tuple[Sequence[int], Sequence[float]],
        keywords: tuple[Sequence[int], Sequence[float]],
    ) -> list[tuple[int, float]]:
        """The ``limit`` best contenders by the formula, given the scores step 2 found for
        ``missing_dense`` and ``missing_keywords``, best first (equal scores in the lists'
        order): a point sharing no term with the query has no BM25 match (0); one gone since
        step 1 has no cosine and is left out."""
        cosines, bm25s = self._cosines.copy(), self._bm25s.copy()
        place = {point: i for i, point in enumerate(self.contenders)}
        for scores, (ids, found) in ((cosines, dense), (bm25s, keywords)):
            for point, score in zip(ids, found, strict=True):
                scores[place[point]] = score
        scores = self.search.score(cosines, _known(bm25s, 0.0))
        order = np.argsort(-scores, kind="stable")
        order = order[~np.isnan(scores[order])][: self.search.limit]
        ids = [self.contenders[i] for i in order.tolist()]
        return list(zip(ids, scores[order].tolist(), strict=True))


def _arrays(
    ids: Sequence[int], scores: Sequence[float]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    return np.asarray(ids, dtype=np.int64), np.asarray(scores, dtype=np.float64)


def _known(scores: npt.NDArray[np.float64], otherwise: float) -> npt.NDArray[np.float64]:
    return np.where(np.isnan(scores), otherwise, scores)


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
