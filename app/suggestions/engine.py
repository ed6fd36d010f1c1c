"""The recommendation engine: for one contact, rank what the user could send that helps.

Plain Python over a session, an embedder and the vector index; it knows nothing of HTTP. The API
(``GET /contacts/{id}/suggestions``) and the nightly batch both call ``SuggestionEngine.suggest``.

How a suggestion is scored
--------------------------
* **Relevance** is the index's hybrid score of the best-matching passage (article) or expertise
  line (introduction) for one of the contact's active pain points: ``(1 - w) * cosine + w *
  keyword``, keyword being BM25 normalised to [0, 1] (``embeddings.index``).
* **The relevance floor.** A candidate whose relevance is below ``relevance_floor`` is never
  shown: a weak gift is worse than a check-in. The floor is calibrated on hand-labelled HR pairs
  (the HR fixture in ``tests/fixtures/hr_network.py``).
* **Age decay.** A pain point weighs ``0.5 ** (age_days / half_life_days)`` (default half-life
  365 days): what someone struggled with last month matters more than what they said two years
  ago. Pain points older than ``stale_after_days`` (default 365) do not drive gifts at all; a
  contact whose pain points are all that old gets a check-in asking what is new.
* **Learning from dismissals.** Articles similar to ones dismissed as ``not_relevant`` for this
  contact lose up to half their score, in proportion to how similar they are.
* **Diversity.** An article whose headline passage is a near-duplicate (cosine above
  ``duplicate_cosine``) of one already chosen is skipped.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models import Article, Contact, Give, PainPoint, Suggestion
from app.suggestions import drafts
from embeddings.embedder import Embedder
from embeddings.index import Hit, VectorIndex
from embeddings.text import sparse_query, split_passages

SuggestionKind = Literal["article", "introduction", "check_in"]


@dataclass(frozen=True)
class EngineConfig:
    relevance_floor: float = 0.35
    keyword_weight: float = 0.3
    half_life_days: float = 365.0
    stale_after_days: int = 365
    duplicate_cosine: float = 0.9
    dismissal_similarity_floor: float = 0.5
    passages_per_query: int = 40


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
        if self.kind == "article" and self.article is not None:
            return f"article:{self.article.id}"
        if self.kind == "introduction" and self.introduce is not None:
            return f"introduction:{self.introduce.id}"
        return "check_in"


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
        self, *, session: Session, contact: Contact, today: date, due: bool, limit: int = 3
    ) -> list[Candidate]:
        """The best ``limit`` things to send ``contact`` today, best first."""
        config = self.config
        active = [p for p in contact.pain_points if p.active]
        fresh = [p for p in active if (today - p.noted_on).days <= config.stale_after_days]
        if not fresh:
            stale = max(active, key=lambda p: p.noted_on) if active else None
            return [self._check_in(contact, stale)]

        blocked = _blocked_targets(session, contact)
        candidates = self._article_candidates(session, contact, fresh, today, blocked)
        candidates += self._introduction_candidates(session, contact, fresh, today, blocked)
        candidates.sort(key=lambda c: c.score, reverse=True)
        chosen = self._diverse(candidates, limit)
        if not chosen and due:
            return [self._check_in(contact, None)]
        return chosen

    def score_article_for(
        self, *, pain_point: PainPoint, article_id: int, workspace_id: int
    ) -> Hit | None:
        """The best passage of one article for one pain point, scored as ``suggest`` would."""
        hits = self._search(workspace_id, "article", pain_point.text, record_ids={article_id})
        return hits[0] if hits else None

    # -- candidates ---------------------------------------------------------------------------

    def _search(
        self,
        workspace_id: int,
        kind: Literal["article", "expertise"],
        text: str,
        record_ids: set[int] | None = None,
    ) -> list[Hit]:
        vector = self.embedder.embed_queries([text])[0]
        return self.index.search(
            workspace_id,
            kind,
            vector,
            sparse_query(text),
            limit=self.config.passages_per_query,
            keyword_weight=self.config.keyword_weight,
            record_ids=record_ids,
        )

    def _best_matches(
        self,
        contact: Contact,
        pain_points: Sequence[PainPoint],
        today: date,
        kind: Literal["article", "expertise"],
        blocked: set[str],
    ) -> dict[int, tuple[float, float, PainPoint, Hit]]:
        """Per article (or per other contact): the best (score, relevance, pain point, hit) that
        clears the relevance floor and is not blocked."""
        best: dict[int, tuple[float, float, PainPoint, Hit]] = {}
        for pain_point in pain_points:
            weight = pain_point_weight(pain_point, today, self.config.half_life_days)
            for hit in self._search(contact.workspace_id, kind, pain_point.text):
                target = hit.record_id if kind == "article" else hit.owner_id
                key = f"article:{target}" if kind == "article" else f"introduction:{target}"
                if hit.score < self.config.relevance_floor or key in blocked:
                    continue
                if kind == "expertise" and target == contact.id:
                    continue
                score = hit.score * weight
                if target not in best or score > best[target][0]:
                    best[target] = (score, hit.score, pain_point, hit)
        return best

    def _article_candidates(
        self,
        session: Session,
        contact: Contact,
        pain_points: Sequence[PainPoint],
        today: date,
        blocked: set[str],
    ) -> list[Candidate]:
        best = self._best_matches(contact, pain_points, today, "article", blocked)
        if not best:
            return []
        articles = {
            a.id: a for a in session.scalars(select(Article).where(Article.id.in_(best.keys())))
        }
        vectors = self._headline_vectors([articles[i] for i in best if i in articles])
        penalties = self._dismissal_penalties(session, contact, vectors)
        out = []
        for article_id, (score, relevance, pain_point, hit) in best.items():
            article = articles.get(article_id)
            if article is None:
                continue
            passage = hit.text if hit.passage > 0 else (article.summary or article.title)
            out.append(
                Candidate(
                    kind="article",
                    contact=contact,
                    score=score * penalties.get(article_id, 1.0),
                    relevance=relevance,
                    reason=(
                        f'"{article.title}" speaks to {contact.name}\'s pain point '
                        f'"{pain_point.text}" (relevance {relevance:.2f}).'
                    ),
                    drafts={"draft": drafts.article_draft(contact, article, pain_point.text)},
                    pain_point=pain_point,
                    article=article,
                    matched_text=passage,
                    vector=vectors.get(article_id),
                )
            )
        return out

    def _introduction_candidates(
        self,
        session: Session,
        contact: Contact,
        pain_points: Sequence[PainPoint],
        today: date,
        blocked: set[str],
    ) -> list[Candidate]:
        best = self._best_matches(contact, pain_points, today, "expertise", blocked)
        if not best:
            return []
        others = {
            c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(best.keys())))
        }
        out = []
        for other_id, (score, relevance, pain_point, hit) in best.items():
            other = others.get(other_id)
            if other is None:
                continue
            out.append(
                Candidate(
                    kind="introduction",
                    contact=contact,
                    score=score,
                    relevance=relevance,
                    reason=(
                        f"{other.name} can help with {contact.name}'s pain point "
                        f'"{pain_point.text}": "{hit.text}" (relevance {relevance:.2f}).'
                    ),
                    drafts=drafts.introduction_drafts(contact, other, pain_point.text, hit.text),
                    pain_point=pain_point,
                    introduce=other,
                    matched_text=hit.text,
                )
            )
        return out

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
            kind="check_in",
            contact=contact,
            score=0.0,
            relevance=0.0,
            reason=reason,
            drafts={"draft": drafts.check_in_draft(contact, stale.text if stale else None)},
            pain_point=stale,
        )

    # -- ranking helpers ----------------------------------------------------------------------

    def _headline_vectors(self, articles: Sequence[Article]) -> dict[int, np.ndarray]:
        """Each article's title-and-summary vector (from the embedding cache, not the model)."""
        texts = [split_passages(a.title, a.summary, None)[0].text for a in articles]
        vectors = self.embedder.embed_documents(texts)
        return {a.id: vectors[i] for i, a in enumerate(articles)}

    def _dismissal_penalties(
        self, session: Session, contact: Contact, vectors: dict[int, np.ndarray]
    ) -> dict[int, float]:
        dismissed = list(
            session.scalars(
                select(Article)
                .join(Suggestion, Suggestion.article_id == Article.id)
                .where(
                    Suggestion.contact_id == contact.id,
                    Suggestion.status == "dismissed",
                    Suggestion.dismiss_reason == "not_relevant",
                )
            )
        )
        if not dismissed or not vectors:
            return {}
        disliked = np.vstack(list(self._headline_vectors(dismissed).values()))
        floor = self.config.dismissal_similarity_floor
        penalties = {}
        for article_id, vector in vectors.items():
            similarity = float(np.max(disliked @ vector))
            if similarity > floor:
                # 1.0 at the floor, 0.5 for an identical article.
                penalties[article_id] = 1.0 - 0.5 * (similarity - floor) / (1.0 - floor)
        return penalties

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


def _blocked_targets(session: Session, contact: Contact) -> set[str]:
    """What must not be suggested to this contact again.

    Articles already given, anything sent or dismissed before, and introductions whose pair was
    suggested in either direction and acted on.
    """
    blocked = {
        f"article:{article_id}"
        for article_id in session.scalars(
            select(Give.article_id).where(
                Give.contact_id == contact.id, Give.article_id.is_not(None)
            )
        )
    }
    acted = session.execute(
        select(Suggestion.contact_id, Suggestion.target_key, Suggestion.introduce_contact_id).where(
            Suggestion.status != "open",
            or_(
                Suggestion.contact_id == contact.id,
                Suggestion.introduce_contact_id == contact.id,
            ),
        )
    )
    for owner_id, target_key, introduce_id in acted:
        if owner_id == contact.id:
            blocked.add(target_key)
        elif introduce_id == contact.id:  # the same pair, suggested from the other side
            blocked.add(f"introduction:{owner_id}")
    return blocked
