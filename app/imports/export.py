"""The whole workspace as one document, and back; contacts as vCard and CSV.

Records refer to each other by ``ref`` numbers given in a fixed order (contacts and articles by
id, pain points contact by contact), so restoring a document and exporting again gives the same
document.
"""

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import cast

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.articles import service as articles
from app.articles.schemas import ArticleCreate
from app.contacts import service as contacts
from app.contacts.schemas import MAX_PAIN_POINTS, ContactCreate, PainPointCreate
from app.feeds import service as feeds
from app.imports.parsers.common import FileRejected
from app.imports.parsers.contact_csv import GIVEFIRST_COLUMNS, inert_cell
from app.imports.parsers.vcard import CardFields, write_vcards
from app.imports.schemas import (
    ActedStatus,
    ExportedArticle,
    ExportedAsk,
    ExportedContact,
    ExportedFeed,
    ExportedFeedItem,
    ExportedGive,
    ExportedPainPoint,
    ExportedSuggestion,
    ExportedTouch,
    ExportedWorkspace,
    WorkspaceDocument,
)
from app.imports.service import validation_reason
from app.indexing import RecordIndexer
from app.models import (
    Article,
    Ask,
    Contact,
    Feed,
    FeedItem,
    Give,
    GiveKind,
    Suggestion,
    SuggestionKind,
    SuggestionStatus,
    Touch,
    TouchKind,
    TouchSource,
    Workspace,
    target_key,
)
from app.schemas import normalize_url


def _contacts(session: Session, workspace: Workspace) -> Sequence[Contact]:
    return session.scalars(
        select(Contact).where(Contact.workspace_id == workspace.id).order_by(Contact.id)
    ).all()


def _gives(session: Session, workspace: Workspace) -> Sequence[Give]:
    return session.scalars(
        select(Give).where(Give.workspace_id == workspace.id).order_by(Give.id)
    ).all()


def _asks(session: Session, workspace: Workspace) -> Sequence[Ask]:
    return session.scalars(
        select(Ask).where(Ask.workspace_id == workspace.id).order_by(Ask.id)
    ).all()


def _touches(session: Session, workspace: Workspace) -> Sequence[Touch]:
    return session.scalars(
        select(Touch).where(Touch.workspace_id == workspace.id).order_by(Touch.id)
    ).all()


def _feeds(session: Session, workspace: Workspace) -> Sequence[Feed]:
    return session.scalars(
        select(Feed).where(Feed.workspace_id == workspace.id).order_by(Feed.id)
    ).all()


def _feed_items(session: Session, workspace: Workspace) -> dict[int, list[FeedItem]]:
    items: dict[int, list[FeedItem]] = {}
    query = select(FeedItem).where(FeedItem.workspace_id == workspace.id).order_by(FeedItem.id)
    for item in session.scalars(query):
        items.setdefault(item.feed_id, []).append(item)
    return items


class _Refs:
    """Numbers 1, 2, 3… for ids in the order they are given."""

    def __init__(self, ids: Sequence[int]) -> None:
        self.numbers = {record_id: n for n, record_id in enumerate(ids, start=1)}

    def __call__(self, record_id: int | None) -> int | None:
        return self.numbers.get(record_id) if record_id is not None else None

    def of(self, record_id: int) -> int:
        return self.numbers[record_id]


def _check_in_day(target_key: str) -> date | None:
    _, _, day = target_key.partition(":")
    try:
        return date.fromisoformat(day)
    except ValueError:
        return None


def export_workspace(*, session: Session, workspace: Workspace, now: datetime) -> WorkspaceDocument:
    people = _contacts(session, workspace)
    saved = session.scalars(
        select(Article).where(Article.workspace_id == workspace.id).order_by(Article.id)
    ).all()
    acted = session.scalars(
        select(Suggestion)
        .where(Suggestion.workspace_id == workspace.id, Suggestion.status != SuggestionStatus.open)
        .order_by(Suggestion.id)
    ).all()
    contact_ref = _Refs([c.id for c in people])
    article_ref = _Refs([a.id for a in saved])
    pain_ref = _Refs([p.id for c in people for p in c.pain_points])
    suggestion_ref = _Refs([s.id for s in acted])
    return WorkspaceDocument(
        exported_at=now,
        workspace=ExportedWorkspace(
            name=workspace.name,
            default_tier=workspace.default_tier,
            cadence_a_days=workspace.cadence_a_days,
            cadence_b_days=workspace.cadence_b_days,
            cadence_c_days=workspace.cadence_c_days,
            signature=workspace.signature,
        ),
        contacts=[
            ExportedContact(
                ref=contact_ref.of(c.id),
                name=c.name,
                email=c.email,
                company=c.company,
                title=c.title,
                field=c.field,
                tier=c.tier,
                notes=c.notes,
                linkedin_url=c.linkedin_url,
                phones=c.phones,
                last_contacted_on=c.last_contacted_on,
                snoozed_until=c.snoozed_until,
                pain_points=[
                    ExportedPainPoint(
                        ref=pain_ref.of(p.id),
                        text=p.text,
                        noted_on=p.noted_on,
                        active=p.active,
                        created_at=p.created_at,
                    )
                    for p in c.pain_points
                ],
                expertise=[e.text for e in c.expertise],
                created_at=c.created_at,
                updated_at=c.updated_at,
            )
            for c in people
        ],
        articles=[
            ExportedArticle(
                ref=article_ref.of(a.id),
                title=a.title,
                url=a.url,
                summary=a.summary,
                text=a.text,
                tags=a.tags,
                saved_on=a.saved_on,
                created_at=a.created_at,
                updated_at=a.updated_at,
            )
            for a in saved
        ],
        suggestions=[
            ExportedSuggestion(
                ref=suggestion_ref.of(s.id),
                contact=contact_ref.of(s.contact_id),
                kind=SuggestionKind(s.kind),
                article=article_ref(s.article_id),
                introduce_contact=contact_ref(s.introduce_contact_id),
                pain_point=pain_ref(s.pain_point_id),
                check_in_on=(
                    _check_in_day(s.target_key) if s.kind == SuggestionKind.check_in else None
                ),
                score=s.score,
                reason=s.reason,
                matched_text=s.matched_text,
                drafts=s.drafts,
                status=cast(ActedStatus, s.status),
                dismiss_reason=s.dismiss_reason,
                dismissed_until=s.dismissed_until,
                created_at=s.created_at,
                acted_at=s.acted_at,
            )
            for s in acted
        ],
        gives=[
            ExportedGive(
                contact=contact_ref.of(g.contact_id),
                given_on=g.given_on,
                kind=GiveKind(g.kind),
                description=g.description,
                article=article_ref(g.article_id),
                article_url=g.article_url,
                article_text_hash=g.article_text_hash,
                introduced_contact=contact_ref(g.introduced_contact_id),
                suggestion=suggestion_ref(g.suggestion_id),
                created_at=g.created_at,
            )
            for g in _gives(session, workspace)
        ],
        asks=[
            ExportedAsk(
                contact=contact_ref.of(a.contact_id),
                asked_on=a.asked_on,
                description=a.description,
                created_at=a.created_at,
            )
            for a in _asks(session, workspace)
        ],
        touches=[
            ExportedTouch(
                contact=contact_ref.of(t.contact_id),
                kind=TouchKind(t.kind),
                happened_on=t.happened_on,
                happened_at=t.happened_at,
                source=TouchSource(t.source),
                subject=t.subject,
                dedupe_key=t.dedupe_key,
                created_at=t.created_at,
            )
            for t in _touches(session, workspace)
        ],
        feeds=_exported_feeds(session, workspace, article_ref),
    )


def _exported_feeds(
    session: Session, workspace: Workspace, article_ref: "_Refs"
) -> list[ExportedFeed]:
    items = _feed_items(session, workspace)
    return [
        ExportedFeed(
            url=f.url,
            title=f.title,
            site_url=f.site_url,
            tags=f.tags,
            created_at=f.created_at,
            items=[
                ExportedFeedItem(
                    key=i.key,
                    article=article_ref(i.article_id),
                    saved_article=i.saved_article,
                    published_at=i.published_at,
                    seen_at=i.seen_at,
                )
                for i in items.get(f.id, [])
            ],
        )
        for f in _feeds(session, workspace)
    ]


# --- restore --------------------------------------------------------------------------------


def read_document(data: bytes) -> WorkspaceDocument:
    """The workspace document in ``data``; ``FileRejected`` when it is not one."""
    if not data.strip():
        raise FileRejected("The file is empty.")
    try:
        document = WorkspaceDocument.model_validate_json(data)
    except ValidationError as error:
        raise FileRejected(
            f"The file is not a Givefirst workspace export: {validation_reason(error)}"
        ) from error
    _check_refs(document)
    _check_limits(document)
    return document


def _unique(refs: list[int], what: str) -> set[int]:
    if len(set(refs)) != len(refs):
        raise FileRejected(f"The file is not a consistent export: two {what} share a ref.")
    return set(refs)


def _check_refs(document: WorkspaceDocument) -> None:
    """Every ref is unique and names a record of the document (nothing is written otherwise)."""
    contacts_ = _unique([c.ref for c in document.contacts], "contacts")
    articles_ = _unique([a.ref for a in document.articles], "articles")
    pains = _unique([p.ref for c in document.contacts for p in c.pain_points], "pain points")
    suggestions = _unique([s.ref for s in document.suggestions], "suggestions")
    urls = [a.url for a in document.articles if a.url]
    if len({normalize_url(u) for u in urls}) != len(urls):
        raise FileRejected("The file is not a consistent export: two articles share a URL.")
    references = [
        *[("contact", s.contact, contacts_) for s in document.suggestions],
        *[("contact", s.introduce_contact, contacts_) for s in document.suggestions],
        *[("article", s.article, articles_) for s in document.suggestions],
        *[("pain point", s.pain_point, pains) for s in document.suggestions],
        *[("contact", g.contact, contacts_) for g in document.gives],
        *[("contact", g.introduced_contact, contacts_) for g in document.gives],
        *[("article", g.article, articles_) for g in document.gives],
        *[("suggestion", g.suggestion, suggestions) for g in document.gives],
        *[("contact", a.contact, contacts_) for a in document.asks],
        *[("contact", t.contact, contacts_) for t in document.touches],
        *[("article", i.article, articles_) for f in document.feeds for i in f.items],
    ]
    for what, ref, known in references:
        if ref is not None and ref not in known:
            raise FileRejected(f"The file is not a consistent export: no {what} with ref {ref}.")
    _check_suggestions(document.suggestions)
    _check_touches(document.touches)
    _check_feeds(document.feeds)


def _check_feeds(exported: Sequence[ExportedFeed]) -> None:
    """One subscription per feed URL, one item per key of a feed, and not too many feeds."""
    if len(exported) > feeds.MAX_FEEDS:
        raise FileRejected(f"The file has {len(exported):,} feeds; at most {feeds.MAX_FEEDS:,}.")
    if len({normalize_url(f.url) for f in exported}) != len(exported):
        raise FileRejected("The file is not a consistent export: two feeds share a URL.")
    for number, feed in enumerate(exported):
        if len({i.key for i in feed.items}) != len(feed.items):
            raise FileRejected(f"feeds[{number}]: two items share a key.")


def _check_touches(touches: Sequence[ExportedTouch]) -> None:
    """A contact has one touch per thing read (``uq_touches_contact_key``)."""
    seen: set[tuple[int, str]] = set()
    for number, t in enumerate(touches):
        if t.dedupe_key is None:
            continue
        if (t.contact, t.dedupe_key) in seen:
            raise FileRejected(
                f"touches[{number}]: two touches of contact ref {t.contact} read from the same "
                "event or message (the same dedupe_key)."
            )
        seen.add((t.contact, t.dedupe_key))


def _check_limits(document: WorkspaceDocument) -> None:
    """What no single record's schema can see: the limits per contact."""
    for number, contact in enumerate(document.contacts):
        active = sum(p.active for p in contact.pain_points)
        if active > MAX_PAIN_POINTS:
            raise FileRejected(
                f"contacts[{number}] (ref {contact.ref}): {active} active pain points; a contact "
                f"has at most {MAX_PAIN_POINTS} (resolved ones do not count)."
            )


_NEEDS = {SuggestionKind.article: "article", SuggestionKind.introduction: "introduce_contact"}


def _exported_target_key(
    suggestion: ExportedSuggestion, articles_: Mapping[int, int], contacts_: Mapping[int, int]
) -> str:
    """What ``suggestion`` offers, with its refs mapped to ids (a contact has one suggestion per
    target: ``uq_suggestions_contact_target``)."""
    if suggestion.kind == SuggestionKind.article and suggestion.article is not None:
        return target_key(SuggestionKind.article, articles_[suggestion.article])
    if suggestion.kind == SuggestionKind.introduction and suggestion.introduce_contact is not None:
        return target_key(SuggestionKind.introduction, contacts_[suggestion.introduce_contact])
    return target_key(SuggestionKind.check_in, suggestion.check_in_on)


def _check_suggestions(suggestions: Sequence[ExportedSuggestion]) -> None:
    """Each suggestion names what its kind offers, and no contact has two for one target."""
    as_refs: Mapping[int, int] = _SameRef()
    seen: set[tuple[int, str]] = set()
    for number, s in enumerate(suggestions):
        field = _NEEDS.get(s.kind)
        if field is not None and getattr(s, field) is None:
            raise FileRejected(
                f"suggestions[{number}]: an {s.kind} suggestion without its {field} ref."
            )
        target = _exported_target_key(s, as_refs, as_refs)
        if (s.contact, target) in seen:
            raise FileRejected(
                f"suggestions[{number}]: two acted suggestions for the same target "
                f"({_in_words(target)}) of contact ref {s.contact}."
            )
        seen.add((s.contact, target))


def _in_words(target: str) -> str:
    kind, _, value = target.partition(":")
    if kind == SuggestionKind.article:
        return f"article ref {value}"
    if kind == SuggestionKind.introduction:
        return f"introduction to contact ref {value}"
    return f"check-in on {value}" if value else "check-in"


class _SameRef(dict[int, int]):
    """Refs mapped to themselves: targets compared within the document."""

    def __missing__(self, ref: int) -> int:
        return ref


_BOOKKEEPING = {"ref", "created_at", "updated_at"}
# Pain points are added one by one, with their dates; a snooze is set afterwards.
_NOT_IN_CONTACT_CREATE = {*_BOOKKEEPING, "pain_points", "snoozed_until"}


class WorkspaceNotEmptyError(ValueError):
    """A restore goes into an empty workspace only."""


def restore_workspace(
    *,
    session: Session,
    indexer: RecordIndexer,
    workspace: Workspace,
    document: WorkspaceDocument,
    today: date,
    now: datetime,
    feed_poll_minutes: float = 60,
) -> dict[str, int]:
    """Recreate every record of ``document`` in the empty ``workspace``; counts by kind."""
    held = (
        session.scalar(
            select(func.count()).select_from(Contact).where(Contact.workspace_id == workspace.id)
        )
        or 0
    )
    held += (
        session.scalar(
            select(func.count()).select_from(Article).where(Article.workspace_id == workspace.id)
        )
        or 0
    )
    if held:
        raise WorkspaceNotEmptyError(
            f"A restore needs an empty workspace; '{workspace.name}' holds {held} contacts and "
            "articles. Restore into a new workspace (givefirst keys create NAME)."
        )
    prefs = document.workspace
    workspace.default_tier = prefs.default_tier
    workspace.cadence_a_days = prefs.cadence_a_days
    workspace.cadence_b_days = prefs.cadence_b_days
    workspace.cadence_c_days = prefs.cadence_c_days
    workspace.signature = prefs.signature or None

    contact_ids: dict[int, int] = {}
    pain_ids: dict[int, int] = {}
    for item in document.contacts:
        contact = contacts.create_contact(
            session=session,
            indexer=indexer,
            workspace=workspace,
            data=ContactCreate(**item.model_dump(exclude=_NOT_IN_CONTACT_CREATE)),
            today=today,
        )
        for spec in item.pain_points:
            pain_point = contacts.add_pain_point(
                session=session,
                indexer=indexer,
                contact=contact,
                data=PainPointCreate(text=spec.text, noted_on=spec.noted_on, active=spec.active),
                today=today,
            )
            pain_point.created_at = spec.created_at
            pain_ids[spec.ref] = pain_point.id
        contact.snoozed_until = item.snoozed_until
        contact.created_at, contact.updated_at = item.created_at, item.updated_at
        contact_ids[item.ref] = contact.id

    article_ids: dict[int, int] = {}
    for entry in document.articles:
        article, _ = articles.save_article(
            session=session,
            indexer=indexer,
            workspace=workspace,
            # Validated already, as stored: a URL may be 2,000 characters once normalized,
            # one more than a new article's may be before.
            data=ArticleCreate.model_construct(**entry.model_dump(exclude=_BOOKKEEPING)),
            today=today,
        )
        article.created_at, article.updated_at = entry.created_at, entry.updated_at
        article_ids[entry.ref] = article.id

    def mapped(ids: dict[int, int], ref: int | None) -> int | None:
        return ids[ref] if ref is not None else None

    suggestion_ids: dict[int, int] = {}
    for s in document.suggestions:
        suggestion = Suggestion(
            workspace_id=workspace.id,
            contact_id=contact_ids[s.contact],
            kind=s.kind,
            target_key=_exported_target_key(s, article_ids, contact_ids),
            article_id=mapped(article_ids, s.article),
            introduce_contact_id=mapped(contact_ids, s.introduce_contact),
            pain_point_id=mapped(pain_ids, s.pain_point),
            score=s.score,
            reason=s.reason,
            matched_text=s.matched_text,
            drafts=s.drafts,
            status=s.status,
            dismiss_reason=s.dismiss_reason,
            dismissed_until=s.dismissed_until,
            created_at=s.created_at,
            acted_at=s.acted_at,
        )
        session.add(suggestion)
        session.flush()
        suggestion_ids[s.ref] = suggestion.id

    for g in document.gives:
        session.add(
            Give(
                workspace_id=workspace.id,
                contact_id=contact_ids[g.contact],
                given_on=g.given_on,
                kind=g.kind,
                description=g.description,
                article_id=mapped(article_ids, g.article),
                article_url=g.article_url,
                article_text_hash=g.article_text_hash,
                introduced_contact_id=mapped(contact_ids, g.introduced_contact),
                suggestion_id=mapped(suggestion_ids, g.suggestion),
                created_at=g.created_at,
            )
        )
    for a in document.asks:
        session.add(
            Ask(
                workspace_id=workspace.id,
                contact_id=contact_ids[a.contact],
                asked_on=a.asked_on,
                description=a.description,
                created_at=a.created_at,
            )
        )
    for t in document.touches:
        # The contact's last_contacted_on came with it: the touches are history, not news.
        session.add(
            Touch(
                workspace_id=workspace.id,
                contact_id=contact_ids[t.contact],
                kind=t.kind.value,
                happened_on=t.happened_on,
                happened_at=t.happened_at,
                source=t.source.value,
                subject=t.subject,
                dedupe_key=t.dedupe_key,
                created_at=t.created_at,
            )
        )
    for entry_feed in document.feeds:
        feed, _ = feeds.subscribe(
            session=session,
            workspace=workspace,
            url=entry_feed.url,
            tags=entry_feed.tags,
            now=now,
            poll_minutes=feed_poll_minutes,
            title=entry_feed.title,
            site_url=entry_feed.site_url,
        )
        feed.created_at = entry_feed.created_at
        for i in entry_feed.items:
            session.add(
                FeedItem(
                    workspace_id=workspace.id,
                    feed_id=feed.id,
                    key=i.key,
                    article_id=mapped(article_ids, i.article),
                    saved_article=i.saved_article,
                    published_at=i.published_at,
                    seen_at=i.seen_at,
                )
            )
    session.flush()
    return {
        "contacts": len(document.contacts),
        "articles": len(document.articles),
        "suggestions": len(document.suggestions),
        "gives": len(document.gives),
        "asks": len(document.asks),
        "touches": len(document.touches),
        "feeds": len(document.feeds),
    }


# --- contacts as vCard and CSV --------------------------------------------------------------


def contacts_vcard(*, session: Session, workspace: Workspace) -> str:
    """Every contact of the workspace as vCard 3.0."""
    return write_vcards(
        CardFields(
            name=c.name,
            email=c.email,
            company=c.company,
            title=c.title,
            linkedin_url=c.linkedin_url,
            notes=c.notes,
            categories=(f"Tier {c.tier}",),
            phones=tuple(c.phones),
            field=c.field,
            tier=c.tier,
            pain_points=tuple(p.text for p in c.pain_points if p.active),
            expertise=tuple(e.text for e in c.expertise),
        )
        for c in _contacts(session, workspace)
    )


def contacts_csv(*, session: Session, workspace: Workspace) -> str:
    """Every contact of the workspace as CSV (a header row, then one row per contact), each cell
    made inert for spreadsheets (``inert_cell``); ``POST /imports/contacts`` reads it back."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(GIVEFIRST_COLUMNS)
    for c in _contacts(session, workspace):
        cells = [
            c.name,
            c.email or "",
            c.company or "",
            c.title or "",
            c.field or "",
            c.tier,
            c.linkedin_url or "",
            "\n".join(c.phones),
            c.last_contacted_on.isoformat() if c.last_contacted_on else "",
            "\n".join(p.text for p in c.pain_points if p.active),
            "\n".join(e.text for e in c.expertise),
            c.notes or "",
        ]
        writer.writerow([inert_cell(cell) for cell in cells])
    return out.getvalue()
