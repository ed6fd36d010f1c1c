"""Suggestions: run the engine, store what it proposes, act on it (sent, dismissed)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.contacts.service import is_snoozed, next_due_on
from app.ledger.service import log_give, touch
from app.models import (
    Article,
    Contact,
    DismissReason,
    GiveKind,
    PainPoint,
    Suggestion,
    SuggestionKind,
    SuggestionStatus,
    Workspace,
    still_closed,
    target_key,
    utcnow,
)
from app.scoped import Owned, get_scoped, load_scoped, scoped
from app.suggestions import drafts
from app.suggestions.engine import (
    Candidate,
    RecipientMatch,
    SuggestionEngine,
    article_passage,
    log_missing_records,
)
from app.suggestions.records import StoredRecords
from app.suggestions.schemas import (
    ArticleRef,
    ContactRef,
    PainPointRef,
    Recipient,
    SuggestionPublic,
)
from app.workspaces.service import Cadences
from embeddings.text import window_text


class SuggestionClosedError(ValueError):
    """The suggestion was already sent or dismissed."""


class NotARecipientError(ValueError):
    """The article answers none of the contact's active pain points well enough to be a gift."""


def contact_ref(contact: Contact) -> ContactRef:
    return ContactRef(
        id=contact.id, name=contact.name, title=contact.title, company=contact.company
    )


def store_candidate(session: Session, candidate: Candidate, today: date) -> Suggestion:
    """Save a candidate, reusing the open suggestion with the same target."""
    contact = candidate.contact
    query = scoped(Suggestion, contact.workspace_id).where(Suggestion.contact_id == contact.id)
    if candidate.kind == SuggestionKind.check_in:
        query = query.where(
            Suggestion.kind == SuggestionKind.check_in,
            Suggestion.status == SuggestionStatus.open,
        )
        key = target_key(SuggestionKind.check_in, today)
    else:
        key = candidate.target_key
        query = query.where(Suggestion.target_key == key)
    suggestion = session.scalars(query.limit(1)).first()
    if suggestion is not None and suggestion.status != SuggestionStatus.open:
        # Only a bad-timing dismissal that has ended gets here (the engine leaves out every
        # target still closed): the suggestion is offered again.
        suggestion.status = SuggestionStatus.open
        suggestion.dismiss_reason = None
        suggestion.dismissed_until = None
        suggestion.acted_at = None
    if suggestion is None:
        suggestion = Suggestion(
            workspace_id=contact.workspace_id,
            contact_id=contact.id,
            kind=candidate.kind,
            target_key=key,
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
    candidates = engine.suggest(
        records=StoredRecords(session), contact=contact, today=today, due=due, limit=limit
    )
    stored = [store_candidate(session, c, today) for c in candidates]
    session.flush()
    return stored


def get_suggestion(
    *, session: Session, workspace: Workspace, suggestion_id: int
) -> Suggestion | None:
    return get_scoped(session, Suggestion, workspace.id, suggestion_id)


def mark_sent(*, session: Session, suggestion: Suggestion, today: date) -> None:
    """Log the give (for both people of an introduction) and restart their cadences."""
    if suggestion.status != SuggestionStatus.open:
        raise SuggestionClosedError(f"Suggestion {suggestion.id} is already {suggestion.status}.")
    records = _SuggestionRecords.of(session, suggestion)
    contact = records.contact
    suggestion.status = SuggestionStatus.sent
    suggestion.acted_at = utcnow()
    if suggestion.kind == SuggestionKind.article and records.article is not None:
        description = f'Sent "{records.article.title}"'
    elif suggestion.kind == SuggestionKind.introduction and records.introduce is not None:
        other = records.introduce
        description = f"Offered an introduction to {other.name}"
        log_give(
            session=session,
            contact=other,
            description=f"Offered an introduction to {contact.name}",
            kind=GiveKind.introduction,
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
        article=records.article,
        introduced_contact_id=records.introduce.id if records.introduce else None,
        suggestion_id=suggestion.id,
    )
    touch(contact, today)


def _dismissed_until(
    *, reason: str, until: date | None, today: date, bad_timing_days: int
) -> date | None:
    """The day a dismissal ends: bad timing sets the gift aside (``until``, or
    ``bad_timing_days`` from ``today``); every other reason is for ever (None)."""
    if reason != DismissReason.bad_timing:
        return None
    return until or today + timedelta(bad_timing_days)


def dismiss(
    *,
    session: Session,
    suggestion: Suggestion,
    reason: str,
    until: date | None,
    today: date,
    bad_timing_days: int,
) -> date | None:
    """Not this one: never again, or (bad timing) only before ``until`` (default:
    ``bad_timing_days`` from ``today``). Returns the day the dismissal ends, if it does."""
    if suggestion.status != SuggestionStatus.open:
        raise SuggestionClosedError(f"Suggestion {suggestion.id} is already {suggestion.status}.")
    ends = _dismissed_until(
        reason=reason, until=until, today=today, bad_timing_days=bad_timing_days
    )
    suggestion.status = SuggestionStatus.dismissed
    suggestion.dismiss_reason = reason
    suggestion.dismissed_until = ends
    suggestion.acted_at = utcnow()
    session.flush()
    return ends


def recipients_for_article(
    *,
    session: Session,
    engine: SuggestionEngine,
    article: Article,
    today: date,
    limit: int,
) -> list[Recipient]:
    """The contacts this article would help most (``SuggestionEngine.rank_recipients``), leaving
    out those it was already sent to or dismissed for."""
    candidate_ids = engine.recipient_candidates(article=article, limit=limit)
    if not candidate_ids:
        return []
    given_to = set(
        session.scalars(
            select(Suggestion.contact_id).where(
                Suggestion.workspace_id == article.workspace_id,
                Suggestion.article_id == article.id,
                still_closed(today),
            )
        )
    )
    loaded = load_scoped(session, PainPoint, article.workspace_id, candidate_ids)
    log_missing_records(article.workspace_id, "pain point", candidate_ids - loaded.keys())
    matches = engine.rank_recipients(
        article=article,
        pain_points=[p for p in loaded.values() if p.contact_id not in given_to],
        today=today,
        limit=limit,
    )
    return [recipient(article, m, today) for m in matches]


def recipient(article: Article, match: RecipientMatch, today: date) -> Recipient:
    """A contact ``article`` would help, as the API shows it (with the end of their snooze,
    if they are snoozed ``today``)."""
    contact = match.pain_point.contact
    return Recipient(
        contact=contact_ref(contact),
        score=round(match.score, 4),
        pain_point=PainPointRef(
            id=match.pain_point.id, text=match.pain_point.text, noted_on=match.pain_point.noted_on
        ),
        matched_text=window_text(article.title, article_passage(article, match.hit.passage)),
        snoozed_until=contact.snoozed_until if is_snoozed(contact, today) else None,
    )


def suggest_article_to(
    *,
    session: Session,
    engine: SuggestionEngine,
    article: Article,
    contacts: Sequence[Contact],
    today: date,
) -> list[Suggestion]:
    """ "Who needs this article?" answered by the user: ``article`` suggested to each of
    ``contacts``, explained, drafted and stored as ``suggest_for_contact`` stores its own (an
    open suggestion of the article is reused). A snoozed contact may have one: it waits on their
    page, as a snooze keeps them off the lists, not out of reach. Nothing is stored when one of
    them cannot have it: already sent it or dismissed it (``SuggestionClosedError``), or it
    answers none of their active pain points (``NotARecipientError``)."""
    candidates = []
    key = target_key(SuggestionKind.article, article.id)
    records = StoredRecords(session)
    for contact in contacts:
        if key in records.blocked(contact, today):
            raise SuggestionClosedError(
                f'"{article.title}" was already sent to {contact.name} or dismissed for them '
                f"(contact {contact.id}); nothing was suggested."
            )
        candidate = engine.article_for(
            records=records, contact=contact, article=article, today=today
        )
        if candidate is None:
            raise NotARecipientError(
                f'"{article.title}" answers none of {contact.name}\'s active pain points well '
                f"enough to be a gift (contact {contact.id}); nothing was suggested."
            )
        candidates.append(candidate)
    stored = [store_candidate(session, c, today) for c in candidates]
    session.flush()
    return stored


@dataclass(frozen=True)
class _SuggestionRecords:
    """The records a stored suggestion refers to, each read within the suggestion's workspace."""

    contact: Contact
    pain_point: PainPoint | None
    article: Article | None
    introduce: Contact | None

    @classmethod
    def of(cls, session: Session, suggestion: Suggestion) -> "_SuggestionRecords":
        workspace_id = suggestion.workspace_id

        def read(model: type[Owned], record_id: int | None) -> Owned | None:
            if record_id is None:
                return None
            return get_scoped(session, model, workspace_id, record_id)

        contact = read(Contact, suggestion.contact_id)
        if contact is None:  # the foreign key and the scoping both say this cannot happen
            raise LookupError(f"Suggestion {suggestion.id} has no contact in its workspace.")
        return cls(
            contact=contact,
            pain_point=read(PainPoint, suggestion.pain_point_id),
            article=read(Article, suggestion.article_id),
            introduce=read(Contact, suggestion.introduce_contact_id),
        )


def to_public(
    session: Session, suggestion: Suggestion, *, signature: str | None
) -> SuggestionPublic:
    """The suggestion as the API shows it; e-mail drafts end with the workspace's ``signature``."""
    records = _SuggestionRecords.of(session, suggestion)
    pain_point, article, other = records.pain_point, records.article, records.introduce
    shown = drafts.as_shown(suggestion.drafts, signature)
    return SuggestionPublic(
        id=suggestion.id,
        kind=suggestion.kind,
        contact_id=suggestion.contact_id,
        status=suggestion.status,
        dismissed_until=suggestion.dismissed_until,
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
        draft=shown.get("email"),
        drafts=shown,
    )
