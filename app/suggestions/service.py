"""Suggestions: run the engine, store what it proposes, act on it (sent, dismissed)."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.contacts.service import next_due_on
from app.ledger.service import log_give, touch
from app.models import Article, Contact, PainPoint, Suggestion, Workspace, utcnow
from app.suggestions.engine import Candidate, SuggestionEngine, pain_point_weight
from app.suggestions.schemas import (
    ArticleRef,
    ContactRef,
    PainPointRef,
    Recipient,
    SuggestionPublic,
)
from app.workspaces.service import Cadences
from embeddings.points import Query
from embeddings.text import SparseVector, split_passages, window_text


class SuggestionClosedError(ValueError):
    """The suggestion was already sent or dismissed."""


def contact_ref(contact: Contact) -> ContactRef:
    return ContactRef(
        id=contact.id, name=contact.name, title=contact.title, company=contact.company
    )


def store_candidate(session: Session, candidate: Candidate, today: date) -> Suggestion:
    """Save a candidate, reusing the open suggestion with the same target."""
    contact = candidate.contact
    query = select(Suggestion).where(Suggestion.contact_id == contact.id)
    if candidate.kind == "check_in":
        query = query.where(Suggestion.kind == "check_in", Suggestion.status == "open")
        target_key = f"check_in:{today.isoformat()}"
    else:
        target_key = candidate.target_key
        query = query.where(Suggestion.target_key == target_key)
    suggestion = session.scalars(query.limit(1)).first()
    if suggestion is None:
        suggestion = Suggestion(
            workspace_id=contact.workspace_id,
            contact_id=contact.id,
            kind=candidate.kind,
            target_key=target_key,
        )
        session.add(suggestion)
    suggestion.article_id = candidate.article.id if candidate.article else None
    suggestion.introduce_contact_id = candidate.introduce.id if candidate.introduce else None
    suggestion.pain_point_id = candidate.pain_point.id if candidate.pain_point else None
    suggestion.score = round(candidate.score, 4)
    suggestion.reason = candidate.reason
    suggestion.matched_text = candidate.matched_text
    suggestion.drafts = candidate.drafts
    return suggestion


def suggest_for_contact(
    *,
    session: Session,
    engine: SuggestionEngine,
    contact: Contact,
    cadences: Cadences,
    today: date,
    limit: int,
) -> list[Suggestion]:
    """Rank gifts for ``contact`` and store them, best first."""
    due = next_due_on(contact, cadences) <= today
    candidates = engine.suggest(session=session, contact=contact, today=today, due=due, limit=limit)
    stored = [store_candidate(session, c, today) for c in candidates]
    session.flush()
    return stored


def get_suggestion(
    *, session: Session, workspace: Workspace, suggestion_id: int
) -> Suggestion | None:
    suggestion = session.get(Suggestion, suggestion_id)
    if suggestion is None or suggestion.workspace_id != workspace.id:
        return None
    return suggestion


def mark_sent(*, session: Session, suggestion: Suggestion, today: date) -> None:
    """Log the give (for both people of an introduction) and restart their cadences."""
    if suggestion.status != "open":
        raise SuggestionClosedError(f"Suggestion {suggestion.id} is already {suggestion.status}.")
    contact = session.get_one(Contact, suggestion.contact_id)
    suggestion.status = "sent"
    suggestion.acted_at = utcnow()
    if suggestion.kind == "article" and suggestion.article_id is not None:
        article = session.get_one(Article, suggestion.article_id)
        description = f'Sent "{article.title}"'
    elif suggestion.kind == "introduction" and suggestion.introduce_contact_id is not None:
        other = session.get_one(Contact, suggestion.introduce_contact_id)
        description = f"Offered an introduction to {other.name}"
        log_give(
            session=session,
            contact=other,
            description=f"Offered an introduction to {contact.name}",
            kind="introduction",
            given_on=today,
            introduced_contact_id=contact.id,
            suggestion_id=suggestion.id,
        )
    else:
        description = "Checked in"
    log_give(
        session=session,
        contact=contact,
        description=description,
        kind=suggestion.kind,
        given_on=today,
        article_id=suggestion.article_id,
        introduced_contact_id=suggestion.introduce_contact_id,
        suggestion_id=suggestion.id,
    )
    touch(contact, today)


def dismiss(*, session: Session, suggestion: Suggestion, reason: str) -> None:
    if suggestion.status != "open":
        raise SuggestionClosedError(f"Suggestion {suggestion.id} is already {suggestion.status}.")
    suggestion.status = "dismissed"
    suggestion.dismiss_reason = reason
    suggestion.acted_at = utcnow()
    session.flush()


def recipients_for_article(
    *,
    session: Session,
    engine: SuggestionEngine,
    article: Article,
    today: date,
    limit: int,
) -> list[Recipient]:
    """The contacts this article would help most: each one's best pain point, scored exactly as
    the engine scores the article for that pain point (so the same relevance floor applies)."""
    config = engine.config
    passages = engine.embedder.embed_documents(
        [p.text for p in split_passages(article.title, article.summary, article.text)]
    )
    found = engine.index.search_many(
        article.workspace_id,
        "pain_point",
        [Query(vector, SparseVector.empty()) for vector in passages],
        limit=max(limit * 5, 50),
        keyword_weight=0.0,
    )
    candidate_ids = {h.record_id for hits in found for h in hits}
    if not candidate_ids:
        return []
    given_to = set(
        session.scalars(
            select(Suggestion.contact_id).where(
                Suggestion.article_id == article.id, Suggestion.status != "open"
            )
        )
    )
    pain_points = [
        p
        for p in session.scalars(
            select(PainPoint).where(PainPoint.id.in_(candidate_ids), PainPoint.active)
        )
        if p.contact_id not in given_to and (today - p.noted_on).days <= config.stale_after_days
    ]
    scored = engine.score_article_for(
        pain_points=pain_points, article_id=article.id, workspace_id=article.workspace_id
    )
    best: dict[int, Recipient] = {}
    for pain_point in pain_points:
        hit = scored.get(pain_point.id)
        if hit is None or hit.score < config.relevance_floor:
            continue
        score = hit.score * pain_point_weight(pain_point, today, config.half_life_days)
        current = best.get(pain_point.contact_id)
        if current is None or score > current.score:
            best[pain_point.contact_id] = Recipient(
                contact=contact_ref(pain_point.contact),
                score=round(score, 4),
                pain_point=PainPointRef(
                    id=pain_point.id, text=pain_point.text, noted_on=pain_point.noted_on
                ),
                matched_text=window_text(article.title, hit.text),
            )
    ranked = sorted(best.values(), key=lambda r: r.score, reverse=True)
    return ranked[:limit]


def to_public(session: Session, suggestion: Suggestion) -> SuggestionPublic:
    pain_point = (
        session.get(PainPoint, suggestion.pain_point_id) if suggestion.pain_point_id else None
    )
    article = session.get(Article, suggestion.article_id) if suggestion.article_id else None
    other = (
        session.get(Contact, suggestion.introduce_contact_id)
        if suggestion.introduce_contact_id
        else None
    )
    is_introduction = suggestion.kind == "introduction"
    return SuggestionPublic(
        id=suggestion.id,
        kind=suggestion.kind,
        contact_id=suggestion.contact_id,
        status=suggestion.status,
        score=suggestion.score,
        reason=suggestion.reason,
        pain_point=PainPointRef(
            id=pain_point.id, text=pain_point.text, noted_on=pain_point.noted_on
        )
        if pain_point
        else None,
        matched_text=suggestion.matched_text,
        article=ArticleRef(id=article.id, title=article.title, url=article.url)
        if article
        else None,
        introduce=contact_ref(other) if other else None,
        draft=None if is_introduction else suggestion.drafts.get("draft"),
        drafts=suggestion.drafts if is_introduction else None,
    )
