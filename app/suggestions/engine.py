"""The recommendation engine: for one contact, rank what the user could send that helps.

Plain Python over an embedder, the vector index and the records it is given
(``app.suggestions.records``: what must not be suggested, what was sent and dismissed, the rows
of the few candidates that can make the list); it writes no SQL and knows nothing of HTTP. The
API (``GET /contacts/{id}/suggestions``) and the nightly batch both call
``SuggestionEngine.suggest``.

How a suggestion is scored
--------------------------
* **Relevance** is the index's hybrid score of the best-matching passage (article) or expertise
  line (introduction) for one of the contact's active pain points: ``(1 - w) * cosine + w *
  keyword``, keyword being BM25 normalised to [0, 1] (``embeddings.index``).
* **The relevance floor.** A candidate whose relevance is below ``relevance_floor`` is never
  shown: a weak gift is worse than a check-in. The floor is calibrated on the graded pairs of the
  HR evaluation set (``tests/fixtures/hr_eval``, ``scripts/calibrate_floor.py``).
* **Age decay.** A pain point weighs ``0.5 ** (age_days / half_life_days)`` (default half-life
  365 days): what someone struggled with last month matters more than what they said two years
  ago. Pain points older than ``stale_after_days`` (default 365) do not drive gifts at all; a
  contact whose pain points are all that old gets a check-in asking what is new.
* **Learning from the user.** What was sent to a contact and what was dismissed for them as
  ``not_relevant`` reorder their next articles: an article gains ``sent_pull`` times its mean
  headline similarity to the articles sent and loses ``dismissed_push`` times its mean similarity
  to those dismissed (``_Feedback``). On the HR set's simulated user the sent articles are what
  helps; a dismissal alone, as a penalty, made the next page worse (``docs/benchmarks.md``).
* **Diversity.** An article whose headline passage is a near-duplicate (cosine above
  ``duplicate_cosine``) of one already chosen is skipped.

How it runs
-----------
All the searches for a batch of contacts go to the index together (``VectorIndex.search_many``: one
batch of queries per kind), so the nightly batch ranks thousands of contacts in one pass and the API
ranks one contact with the same code. A pain point's articles are ranked by ``rank_articles``
(each article by its best passage), the ranking ``givefirst eval`` measures on public datasets
(``app.evaluation``). Candidates are ranked on their scores first; only the few that
can make the list are then read from the database and given vectors and drafts. The other way
round, "who needs this article?" is ranked here too (``rank_recipients``), with the same score,
floor and age decay.
"""

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from app.models import (
    Article,
    Contact,
    PainPoint,
    SuggestionKind,
    target_key,
)
from app.suggestions import drafts
from app.suggestions.config import EngineConfig
from app.suggestions.records import SuggestionRecords
from embeddings.embedder import Embedder
from embeddings.index import VectorIndex
from embeddings.lexicon import spell_out
from embeddings.points import Hit, Query
from embeddings.text import (
    SparseVector,
    passage_text,
    sparse_query,
    split_passages,
    window_text,
)

log = logging.getLogger(__name__)


@dataclass
class Candidate:
    """One ranked suggestion, before it is stored."""

    kind: SuggestionKind
    contact: Contact
    score: float
    relevance: float
    reason: str
    drafts: dict[str, str]
    pain_point: PainPoint | None = None
    article: Article | None = None
    introduce: Contact | None = None
    matched_text: str | None = None
    vector: np.ndarray | None = field(default=None, repr=False)

    @property
    def target_key(self) -> str:
        if self.kind == SuggestionKind.article and self.article is not None:
            return target_key(SuggestionKind.article, self.article.id)
        if self.kind == SuggestionKind.introduction and self.introduce is not None:
            return target_key(SuggestionKind.introduction, self.introduce.id)
        return SuggestionKind.check_in


@dataclass(frozen=True)
class _Feedback:
    """What the user sent a contact and dismissed for them, as headline vectors: Rocchio's
    relevance feedback applied to the article scores."""

    sent: np.ndarray | None
    dismissed: np.ndarray | None
    sent_pull: float
    dismissed_push: float

    def shift(self, headline: np.ndarray) -> float:
        """How much an article's score moves: towards what was sent, away from what was not
        wanted (mean cosine similarities of its headline vector)."""
        shift = 0.0
        if self.sent is not None:
            shift += self.sent_pull * max(float(np.mean(self.sent @ headline)), 0.0)
        if self.dismissed is not None:
            shift -= self.dismissed_push * max(float(np.mean(self.dismissed @ headline)), 0.0)
        return shift


@dataclass(frozen=True)
class _Match:
    """The best match of one article (or one other contact's expertise) for this contact."""

    kind: SuggestionKind  # an article or an introduction
    target_id: int  # the article, or the contact to introduce
    score: float  # relevance x the pain point's age weight
    relevance: float
    pain_point: PainPoint
    hit: Hit


@dataclass(frozen=True)
class RecipientMatch:
    """A contact an article would help: their pain point, the article's best passage for it,
    and the score (relevance x the pain point's age weight)."""

    pain_point: PainPoint
    hit: Hit
    score: float


@dataclass(frozen=True)
class ContactRequest:
    """One contact to rank for, and whether they are due a touch today."""

    contact: Contact
    due: bool


def pain_point_weight(pain_point: PainPoint, today: date, half_life_days: float) -> float:
    age = max((today - pain_point.noted_on).days, 0)
    return float(0.5 ** (age / half_life_days))


class SuggestionEngine:
    def __init__(
        self, embedder: Embedder, index: VectorIndex, config: EngineConfig | None = None
    ) -> None:
        self.embedder = embedder
        self.index = index
        self.config = config or EngineConfig()

    # -- public -------------------------------------------------------------------------------

    def suggest(
        self,
        *,
        records: SuggestionRecords,
        contact: Contact,
        today: date,
        due: bool,
        limit: int = 3,
    ) -> list[Candidate]:
        """The best ``limit`` things to send ``contact`` today, best first."""
        requests = [ContactRequest(contact, due)]
        return next(self.suggest_many(records=records, requests=requests, today=today, limit=limit))

    def suggest_many(
        self,
        *,
        records: SuggestionRecords,
        requests: Sequence[ContactRequest],
        today: date,
        limit: int = 3,
    ) -> Iterator[list[Candidate]]:
        """``suggest`` for many contacts of one workspace, in order; searches run in batches."""
        size = self.config.contacts_per_batch
        for start in range(0, len(requests), size):
            batch = requests[start : start + size]
            fresh = {r.contact.id: self._fresh_pain_points(r.contact, today) for r in batch}
            pain_points = [p for r in batch for p in fresh[r.contact.id]]
            hits = self._search_all(pain_points)
            for request in batch:
                yield self._rank(records, request, fresh[request.contact.id], hits, today, limit)

    def rank_articles(
        self, *, workspace_id: int, texts: Sequence[str], limit: int
    ) -> list[list[Hit]]:
        """Per pain point text, the ``limit`` best articles of the workspace, best first.

        Each article is scored by its best passage, as ``suggest`` scores it, before the
        relevance floor, age decay and the never-twice rules (which ``suggest`` applies after).
        """
        if not texts:
            return []
        return self._rank_articles(workspace_id, self._queries(texts), limit)

    def recipient_candidates(self, *, article: Article, limit: int) -> set[int]:
        """Ids of the workspace's pain points nearest to any passage of ``article`` (by meaning
        alone): the pain points ``rank_recipients`` then scores exactly."""
        passages = self.embedder.embed_documents(
            [p.text for p in split_passages(article.title, article.summary, article.text)]
        )
        found = self.index.search_many(
            article.workspace_id,
            "pain_point",
            [Query(vector, SparseVector.empty()) for vector in passages],
            limit=max(limit * 5, 50),
            keyword_weight=0.0,
        )
        return {hit.record_id for hits in found for hit in hits}

    def rank_recipients(
        self, *, article: Article, pain_points: Sequence[PainPoint], today: date, limit: int
    ) -> list[RecipientMatch]:
        """Who ``article`` would help most, best first: per contact, their best fresh pain point,
        with the article's best passage scored exactly as ``suggest`` scores it (the same
        relevance floor and age decay)."""
        found = self.recipients_of_articles(
            workspace_id=article.workspace_id,
            article_ids={article.id},
            pain_points=pain_points,
            today=today,
            per_pain_point=1,
        )
        return found.get(article.id, [])[:limit]

    def recipients_of_articles(
        self,
        *,
        workspace_id: int,
        article_ids: set[int],
        pain_points: Sequence[PainPoint],
        today: date,
        per_pain_point: int,
    ) -> dict[int, list[RecipientMatch]]:
        """``rank_recipients`` for many articles at once (one search per pain point, among
        ``article_ids`` only): each fresh pain point is matched with its ``per_pain_point`` best
        articles. Per article, the contacts it would help, best first; articles that clear the
        relevance floor for no one are left out."""
        fresh = [
            p
            for p in pain_points
            if p.active and (today - p.noted_on).days <= self.config.stale_after_days
        ]
        if not fresh or not article_ids:
            return {}
        found = self.index.search_many(
            workspace_id,
            "article",
            self._queries([p.text for p in fresh]),
            # Deep enough for ``per_pain_point`` distinct articles of a few passages each.
            limit=per_pain_point if per_pain_point == 1 else per_pain_point * 4,
            keyword_weight=self.config.keyword_weight,
            record_ids=article_ids,
        )
        best: dict[int, dict[int, RecipientMatch]] = {}
        for pain_point, passages in zip(fresh, found, strict=True):
            weight = pain_point_weight(pain_point, today, self.config.half_life_days)
            for hit in _best_per_article(passages)[:per_pain_point]:
                if hit.score < self.config.relevance_floor:
                    break
                match = RecipientMatch(pain_point, hit, hit.score * weight)
                helped = best.setdefault(hit.record_id, {})
                current = helped.get(pain_point.contact_id)
                if current is None or match.score > current.score:
                    helped[pain_point.contact_id] = match
        return {
            article_id: sorted(helped.values(), key=lambda m: m.score, reverse=True)
            for article_id, helped in best.items()
        }

    def article_for(
        self, *, records: SuggestionRecords, contact: Contact, article: Article, today: date
    ) -> Candidate | None:
        """``article`` as a suggestion for ``contact`` ("who needs this article?" the other way
        round): matched to their best fresh pain point with ``rank_recipients``'s score, and
        explained and drafted as ``suggest`` does; None when it clears the relevance floor for
        none of their pain points."""
        found = self.rank_recipients(
            article=article, pain_points=contact.pain_points, today=today, limit=1
        )
        if not found:
            return None
        best = found[0]
        match = _Match(
            SuggestionKind.article,
            article.id,
            best.score,
            best.hit.score,
            best.pain_point,
            best.hit,
        )
        candidates = self._candidates(records, contact, [match])
        for candidate in candidates:
            candidate.drafts = self._drafts(candidate)
        return candidates[0] if candidates else None

    # -- ranking ------------------------------------------------------------------------------

    def _fresh_pain_points(self, contact: Contact, today: date) -> list[PainPoint]:
        return [
            p
            for p in contact.pain_points
            if p.active and (today - p.noted_on).days <= self.config.stale_after_days
        ]

    def _search_all(self, pain_points: Sequence[PainPoint]) -> dict[tuple[str, int], list[Hit]]:
        """Hits per (kind, pain point id): articles and expertise, all pain points at once. A
        text said by several contacts of a batch (a pain point imported for many) is embedded
        and searched once."""
        if not pain_points:
            return {}
        texts = list(dict.fromkeys(p.text for p in pain_points))
        queries = dict(zip(texts, self._queries(texts), strict=True))
        by_workspace: dict[int, dict[str, list[PainPoint]]] = {}
        for pain_point in pain_points:
            same = by_workspace.setdefault(pain_point.workspace_id, {})
            same.setdefault(pain_point.text, []).append(pain_point)
        hits: dict[tuple[str, int], list[Hit]] = {}
        for workspace_id, saying in by_workspace.items():
            batch = [queries[text] for text in saying]
            articles, expertise = self._search_workspace(workspace_id, batch)
            for said_by, article_hits, expertise_hits in zip(
                saying.values(), articles, expertise, strict=True
            ):
                for pain_point in said_by:
                    hits[("article", pain_point.id)] = article_hits
                    hits[("expertise", pain_point.id)] = expertise_hits
        return hits

    def search_pain_points(
        self, *, workspace_id: int, texts: Sequence[str]
    ) -> tuple[list[list[Hit]], list[list[Hit]]]:
        """Per pain point text, what ``suggest`` searches for it: its best articles (each by its
        best passage) and its best expertise lines, before the floor, decay and rules."""
        return self._search_workspace(workspace_id, self._queries(texts))

    def _search_workspace(
        self, workspace_id: int, queries: Sequence[Query]
    ) -> tuple[list[list[Hit]], list[list[Hit]]]:
        articles = self._rank_articles(workspace_id, queries, self.config.articles_per_query)
        expertise = self.index.search_many(
            workspace_id,
            "expertise",
            queries,
            limit=self.config.expertise_per_query,
            keyword_weight=self.config.keyword_weight,
        )
        return articles, expertise

    def _queries(self, texts: Sequence[str]) -> list[Query]:
        """Pain points as searches: shorthand spelled out ("RIF" -> reduction in force) for
        both the model and the keywords (``embeddings.lexicon``)."""
        searched = [spell_out(t) for t in texts]
        vectors = self.embedder.embed_queries(searched)
        return [Query(v, sparse_query(t)) for v, t in zip(vectors, searched, strict=True)]

    def _rank_articles(
        self, workspace_id: int, queries: Sequence[Query], limit: int
    ) -> list[list[Hit]]:
        """Per query, the ``limit`` best articles, each by its best passage, best first.

        The passage search deepens until it holds ``limit`` distinct articles (or every passage):
        the first ``limit`` distinct articles of the passage ranking are exactly the ``limit``
        best articles by best passage.
        """
        found: list[list[Hit]] = [[] for _ in queries]
        pending = list(range(len(queries)))
        depth = max(limit * 4, self.config.articles_per_query)
        while pending:
            batch = self.index.search_many(
                workspace_id,
                "article",
                [queries[i] for i in pending],
                limit=depth,
                keyword_weight=self.config.keyword_weight,
            )
            deeper = []
            for i, passages in zip(pending, batch, strict=True):
                best = _best_per_article(passages)
                if len(best) < limit and len(passages) == depth:
                    deeper.append(i)
                found[i] = best[:limit]
            pending, depth = deeper, depth * 4
        return found

    def _rank(
        self,
        records: SuggestionRecords,
        request: ContactRequest,
        fresh: Sequence[PainPoint],
        hits: dict[tuple[str, int], list[Hit]],
        today: date,
        limit: int,
    ) -> list[Candidate]:
        contact = request.contact
        blocked = records.blocked(contact, today)
        # Today's check-in, once sent or dismissed, is not offered again the same day.
        check_in_done = target_key(SuggestionKind.check_in, today) in blocked
        if not fresh:
            active = [p for p in contact.pain_points if p.active]
            stale = max(active, key=lambda p: p.noted_on) if active else None
            return [] if check_in_done else [self._check_in(contact, stale)]
        matches = self._best_matches(contact, fresh, hits, today, SuggestionKind.article, blocked)
        matches += self._best_matches(
            contact, fresh, hits, today, SuggestionKind.introduction, blocked
        )
        matches.sort(key=lambda m: m.score, reverse=True)
        chosen = self._choose(records, contact, matches, limit)
        if not chosen and request.due and not check_in_done:
            return [self._check_in(contact, None)]
        for candidate in chosen:
            candidate.drafts = self._drafts(candidate)
        return chosen

    def _best_matches(
        self,
        contact: Contact,
        pain_points: Sequence[PainPoint],
        hits: dict[tuple[str, int], list[Hit]],
        today: date,
        kind: SuggestionKind,
        blocked: set[str],
    ) -> list[_Match]:
        """Per article (or per other contact): the best match that clears the relevance floor
        and is not blocked."""
        best: dict[int, _Match] = {}
        index_kind = "article" if kind == SuggestionKind.article else "expertise"
        for pain_point in pain_points:
            weight = pain_point_weight(pain_point, today, self.config.half_life_days)
            for hit in hits.get((index_kind, pain_point.id), []):
                target = hit.record_id if kind == SuggestionKind.article else hit.owner_id
                if hit.score < self.config.relevance_floor or target_key(kind, target) in blocked:
                    continue
                if kind == SuggestionKind.introduction and target == contact.id:
                    continue
                score = hit.score * weight
                if target not in best or score > best[target].score:
                    best[target] = _Match(kind, target, score, hit.score, pain_point, hit)
        return list(best.values())

    def _choose(
        self, records: SuggestionRecords, contact: Contact, matches: Sequence[_Match], limit: int
    ) -> list[Candidate]:
        """The ``limit`` best candidates, diverse; rows and vectors are read only for those that
        can make the list.

        What the user sent this contact and dismissed as not relevant can reorder candidates
        (``_Feedback``), so when there is any, every match is read; otherwise matches are read
        best first, a few at a time.
        """
        feedback = self._feedback(records, contact)
        step = len(matches) if feedback is not None else max(4 * limit, 12)
        candidates: list[Candidate] = []
        for start in range(0, len(matches), max(step, 1)):
            candidates += self._candidates(records, contact, matches[start : start + step])
            if feedback is not None:
                for candidate in candidates:
                    if candidate.vector is not None:
                        candidate.score += feedback.shift(candidate.vector)
                candidates.sort(key=lambda c: c.score, reverse=True)
            chosen = self._diverse(candidates, limit)
            if len(chosen) >= limit:
                return chosen
        return self._diverse(candidates, limit)

    def _candidates(
        self, records: SuggestionRecords, contact: Contact, matches: Sequence[_Match]
    ) -> list[Candidate]:
        """Matches as candidates (in the same order), their rows read in two queries."""
        article_ids = {m.target_id for m in matches if m.kind == SuggestionKind.article}
        contact_ids = {m.target_id for m in matches if m.kind == SuggestionKind.introduction}
        articles = records.articles(contact.workspace_id, article_ids)
        others = records.contacts(contact.workspace_id, contact_ids)
        log_missing_records(contact.workspace_id, "article", article_ids - articles.keys())
        log_missing_records(contact.workspace_id, "contact", contact_ids - others.keys())
        vectors = self._headline_vectors(list(articles.values()))
        out = []
        for m in matches:
            if m.kind == SuggestionKind.article and m.target_id in articles:
                article = articles[m.target_id]
                out.append(
                    Candidate(
                        kind=SuggestionKind.article,
                        contact=contact,
                        score=m.score,
                        relevance=m.relevance,
                        reason=(
                            f'"{article.title}" speaks to {contact.name}\'s pain point '
                            f'"{m.pain_point.text}" (relevance {m.relevance:.2f}).'
                        ),
                        drafts={},
                        pain_point=m.pain_point,
                        article=article,
                        matched_text=(
                            window_text(article.title, article_passage(article, m.hit.passage))
                            if m.hit.passage > 0
                            else (article.summary or article.title)
                        ),
                        vector=vectors.get(article.id),
                    )
                )
            elif m.kind == SuggestionKind.introduction and m.target_id in others:
                other = others[m.target_id]
                out.append(
                    Candidate(
                        kind=SuggestionKind.introduction,
                        contact=contact,
                        score=m.score,
                        relevance=m.relevance,
                        reason=(
                            f"{other.name} can help with {contact.name}'s pain point "
                            f'"{m.pain_point.text}": "{m.hit.text}" '
                            f"(relevance {m.relevance:.2f})."
                        ),
                        drafts={},
                        pain_point=m.pain_point,
                        introduce=other,
                        matched_text=m.hit.text,
                    )
                )
        return out

    def _drafts(self, candidate: Candidate) -> dict[str, str]:
        assert candidate.pain_point is not None
        if candidate.article is not None:
            return drafts.article_drafts(
                candidate.contact, candidate.article, candidate.pain_point.text
            )
        assert candidate.introduce is not None and candidate.matched_text is not None
        return drafts.introduction_drafts(
            candidate.contact,
            candidate.introduce,
            candidate.pain_point.text,
            candidate.matched_text,
        )

    def _check_in(self, contact: Contact, stale: PainPoint | None) -> Candidate:
        if stale is not None:
            reason = (
                f"{contact.name}'s pain points are all over a year old: ask what is new "
                "before sending anything."
            )
        elif not contact.pain_points:
            reason = f"No pain points known for {contact.name} yet: a check-in keeps in touch."
        else:
            reason = f"{contact.name} is due a touch and nothing saved is a strong enough match."
        return Candidate(
            kind=SuggestionKind.check_in,
            contact=contact,
            score=0.0,
            relevance=0.0,
            reason=reason,
            drafts=drafts.check_in_drafts(contact, stale.text if stale else None),
            pain_point=stale,
        )

    # -- ranking helpers ----------------------------------------------------------------------

    def _headline_vectors(self, articles: Sequence[Article]) -> dict[int, np.ndarray]:
        """Each article's title-and-summary vector (from the embedding cache, not the model)."""
        if not articles:
            return {}
        texts = [split_passages(a.title, a.summary, None)[0].text for a in articles]
        vectors = self.embedder.embed_documents(texts)
        return {a.id: vectors[i] for i, a in enumerate(articles)}

    def _feedback(self, records: SuggestionRecords, contact: Contact) -> "_Feedback | None":
        """Headline vectors of the articles sent to this contact and of those dismissed for
        them as not relevant, if there are any."""
        sent_articles, dismissed_articles = records.sent_and_dismissed(contact)
        if not sent_articles and not dismissed_articles:
            return None
        vectors = self._headline_vectors([*sent_articles, *dismissed_articles])
        sent = [vectors[a.id] for a in sent_articles]
        dismissed = [vectors[a.id] for a in dismissed_articles]
        return _Feedback(
            np.vstack(sent) if sent else None,
            np.vstack(dismissed) if dismissed else None,
            self.config.sent_pull,
            self.config.dismissed_push,
        )

    def _diverse(self, candidates: Sequence[Candidate], limit: int) -> list[Candidate]:
        chosen: list[Candidate] = []
        for candidate in candidates:
            if len(chosen) >= limit:
                break
            if candidate.vector is not None and any(
                c.vector is not None
                and float(c.vector @ candidate.vector) > self.config.duplicate_cosine
                for c in chosen
            ):
                continue
            chosen.append(candidate)
        return chosen


def log_missing_records(workspace_id: int, kind: str, record_ids: set[int]) -> None:
    """Index hits whose record is not in the workspace are dropped: say so, as the index is out
    of step with the records (``reconcile`` at the next start repairs it)."""
    if record_ids:
        log.warning(
            "Index inconsistency: %d %s hit(s) of workspace %d name no record of that workspace "
            "(ids %s); dropped",
            len(record_ids),
            kind,
            workspace_id,
            sorted(record_ids)[:10],
        )


def article_passage(article: Article, passage: int) -> str:
    """The text of an article's passage a hit names (article hits carry no text: it is read
    from the record, scoped to the workspace, not from the index)."""
    return passage_text(article.title, article.summary, article.text, passage)


def _best_per_article(passages: Sequence[Hit]) -> list[Hit]:
    """Each article's first (best) passage of a ranked list, in order."""
    seen: set[int] = set()
    best = []
    for hit in passages:
        if hit.record_id not in seen:
            seen.add(hit.record_id)
            best.append(hit)
    return best
