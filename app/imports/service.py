"""Applying imported files through the contact and article services (so the index follows).

A file is read whole before anything is written: a file that cannot be read changes nothing. Each
row is then validated like an API request; a bad row is reported and skipped, the others kept.
The caller commits once for the whole import.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.articles import service as articles
from app.articles.schemas import ArticleCreate, ArticleUpdate
from app.contacts import service as contacts
from app.contacts.schemas import ContactCreate, ContactUpdate, PainPointCreate
from app.feeds import service as feeds
from app.imports.fetch import (
    ExtractedArticle,
    FetchError,
    FetchPolicy,
    extract_article,
    fetch_page,
)
from app.imports.parsers.articles import parse_articles
from app.imports.parsers.common import (
    MAX_TAGS,
    ArticleRow,
    ContactRow,
    Parsed,
    Problem,
    Row,
    shorten,
)
from app.imports.parsers.contacts import parse_contacts
from app.imports.schemas import ImportReport, RowProblem
from app.indexing import RecordIndexer
from app.models import Article, Contact, Workspace, article_text_hash
from app.schemas import MAX_URL_LENGTH, normalize_url

T = TypeVar("T")
_MAX_TAG_LENGTH = 100


def validation_reason(error: ValidationError) -> str:
    """A pydantic error as one line naming the fields."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else e["msg"]
        for e in error.errors()
    )


@dataclass
class _Tally:
    format: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Problem] = field(default_factory=list)

    def report(self, parsed: Parsed[T]) -> ImportReport:
        skipped = sorted([*parsed.skipped, *self.skipped], key=lambda p: p.record)
        return ImportReport(
            format=self.format,
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
            skipped=len(skipped),
            skipped_rows=[
                RowProblem(record=p.record, line=p.line, reason=p.reason) for p in skipped
            ],
            warnings=[
                RowProblem(record=p.record, line=p.line, reason=p.reason) for p in parsed.warnings
            ],
        )


# --- contacts -------------------------------------------------------------------------------


def _linkedin_key(url: str | None) -> str | None:
    """One spelling per profile: no scheme, no ``www.``, no query, no trailing slash."""
    if not url:
        return None
    key = url.strip().lower().split("?")[0].split("#")[0].rstrip("/")
    for prefix in ("https://", "http://", "www."):
        key = key.removeprefix(prefix)
    return key


def _name_key(name: str, company: str | None) -> tuple[str, str]:
    return " ".join(name.lower().split()), " ".join((company or "").lower().split())


class _ContactMatcher:
    """Finds the stored contact a row describes: by e-mail, then LinkedIn URL, then name and
    company (never one whose e-mail or profile says it is someone else)."""

    def __init__(self, existing: Iterable[Contact]) -> None:
        self.by_email: dict[str, Contact] = {}
        self.by_linkedin: dict[str, Contact] = {}
        self.by_name: dict[tuple[str, str], Contact] = {}
        for contact in existing:
            self.add(contact)

    def add(self, contact: Contact) -> None:
        if contact.email:
            self.by_email.setdefault(contact.email.lower(), contact)
        if key := _linkedin_key(contact.linkedin_url):
            self.by_linkedin.setdefault(key, contact)
        self.by_name.setdefault(_name_key(contact.name, contact.company), contact)

    @staticmethod
    def _someone_else(contact: Contact, row: ContactRow) -> bool:
        emails = {e.lower() for e in row.emails}
        if contact.email and emails and contact.email.lower() not in emails:
            return True
        theirs, ours = _linkedin_key(contact.linkedin_url), _linkedin_key(row.linkedin_url)
        return bool(theirs and ours and theirs != ours)

    def find(self, row: ContactRow) -> Contact | None:
        for email in row.emails:
            if (found := self.by_email.get(email.lower())) is not None:
                return found
        key = _linkedin_key(row.linkedin_url)
        found = self.by_linkedin.get(key) if key else None
        if found is not None and not self._someone_else(found, row):
            return found
        found = self.by_name.get(_name_key(row.name, row.company))
        if found is not None and not self._someone_else(found, row):
            return found
        return None


def _contact_fields(row: ContactRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "email": row.emails[0] if row.emails else None,
        "company": row.company,
        "title": row.title,
        "linkedin_url": row.linkedin_url,
        "notes": row.notes,
        "phones": list(row.phones),
        "field": row.field,
        "tier": row.tier,
        "pain_points": list(row.pain_points),
        "expertise": list(row.expertise),
        "last_contacted_on": row.last_contacted_on,
    }


def _contact_changes(contact: Contact, row: ContactRow) -> dict[str, Any]:
    """What the row adds to a stored contact.

    Company and title follow the file (people change jobs); e-mail, LinkedIn URL and field only
    fill what is empty; phones and expertise gain the file's new ones; the file's notes are added
    to the stored ones (``merged_notes``); the name and tier are left as the user set them.
    """
    changes: dict[str, Any] = {}
    for name in ("company", "title"):
        value = getattr(row, name)
        if value is not None and value != getattr(contact, name):
            changes[name] = value
    fills = {
        "email": row.emails[0] if row.emails else None,
        "linkedin_url": row.linkedin_url,
        "field": row.field,
    }
    for name, value in fills.items():
        if value is not None and not getattr(contact, name):
            changes[name] = value
    for name, values in (("phones", row.phones), ("expertise", row.expertise)):
        stored = contact.phones if name == "phones" else [e.text for e in contact.expertise]
        if added := [v for v in values if v not in stored]:
            changes[name] = [*stored, *added]
    notes = merged_notes(contact.notes, row.notes)
    if notes != contact.notes:
        changes["notes"] = notes
    return changes


def merged_notes(stored: str | None, brought: str | None) -> str | None:
    """The stored notes with the file's appended after a blank line, unless they hold them already:
    an import never drops a note, the user's or the file's."""
    if not brought or (stored and brought.strip() in stored):
        return stored
    if not stored:
        return brought
    return f"{stored.rstrip()}\n\n{brought.strip()}"


def _first_note(row: ContactRow) -> str | None:
    if row.connected_on is None:
        return row.notes
    connected = f"Connected on LinkedIn on {row.connected_on.isoformat()}."
    return f"{row.notes}\n{connected}" if row.notes else connected


def _new_pain_points(contact: Contact, row: ContactRow) -> list[PainPointCreate]:
    """The row's pain points the contact does not have yet (active or resolved)."""
    known = {p.text for p in contact.pain_points}
    return [PainPointCreate(text=text) for text in row.pain_points if text not in known]


def import_contact_file(
    *,
    session: Session,
    indexer: RecordIndexer,
    workspace: Workspace,
    data: bytes,
    format_name: str | None,
    today: date,
) -> ImportReport:
    """Create or update the contacts of a LinkedIn, Google Contacts or vCard file, or of the
    service's own contacts CSV.

    Raises ``FileRejected`` (before writing anything) when the file cannot be read.
    """
    parsed = parse_contacts(data, format_name)
    tally = _Tally(parsed.format)
    matcher = _ContactMatcher(
        session.scalars(select(Contact).where(Contact.workspace_id == workspace.id))
    )
    for row in parsed.rows:
        contact = matcher.find(row.value)
        try:
            if contact is None:
                fields = {**_contact_fields(row.value), "notes": _first_note(row.value)}
                create = ContactCreate.model_validate(fields)
            else:
                update = ContactUpdate.model_validate(_contact_changes(contact, row.value))
                pain_points = _new_pain_points(contact, row.value)
        except ValidationError as error:
            tally.skipped.append(Problem(row.record, row.line, validation_reason(error)))
            continue
        if contact is None:
            contact = contacts.create_contact(
                session=session, indexer=indexer, workspace=workspace, data=create, today=today
            )
            tally.created += 1
        elif update.model_fields_set or pain_points:
            contacts.update_contact(session=session, indexer=indexer, contact=contact, data=update)
            for spec in pain_points:
                try:
                    contacts.add_pain_point(
                        session=session, indexer=indexer, contact=contact, data=spec, today=today
                    )
                except contacts.TooManyPainPointsError as error:
                    parsed.warnings.append(Problem(row.record, row.line, str(error)))
                    break
            tally.updated += 1
        else:
            tally.unchanged += 1
        matcher.add(contact)
    return tally.report(parsed)


# --- articles -------------------------------------------------------------------------------


def _tags(tags: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t.strip()[:_MAX_TAG_LENGTH] for t in tags if t.strip()))[:MAX_TAGS]


def _article_changes(article: Article, row: ArticleRow) -> dict[str, Any]:
    """What an imported link adds to a saved article: its tags, and what the article lacks."""
    changes: dict[str, Any] = {}
    tags = _tags([*article.tags, *row.tags])
    if tags != article.tags:
        changes["tags"] = tags
    if row.summary and not article.summary:
        changes["summary"] = shorten(row.summary, 5_000)
    if row.text and not article.text:
        changes["text"] = shorten(row.text, 200_000)
    return changes


def new_article(row: ArticleRow) -> ArticleCreate:
    """The article a link read from a file or a feed makes (long fields cut to their limits);
    ``ValidationError`` when it cannot be one."""
    return ArticleCreate.model_validate(
        {
            "title": shorten(row.title, 500),
            "url": row.url,
            "summary": shorten(row.summary, 5_000),
            "text": shorten(row.text, 200_000),
            "tags": _tags(row.tags),
            "saved_on": row.saved_on,
        }
    )


def import_article_file(
    *,
    session: Session,
    indexer: RecordIndexer,
    workspace: Workspace,
    data: bytes,
    format_name: str | None,
    today: date,
    feed_poll_minutes: float = 60,
) -> ImportReport:
    """Save the links of a bookmarks export, an OPML list or an RSS/Atom feed; subscribe to the
    feeds of an OPML list (their items are saved as they are polled, not their home pages).

    A link already saved keeps its title and text and gains the file's tags. Raises
    ``FileRejected`` (before writing anything) when the file cannot be read.
    """
    parsed = parse_articles(data, format_name)
    tally = _Tally(parsed.format)
    now = datetime.now(UTC)
    for row in parsed.rows:
        if row.value.feed_url is not None:
            _subscribe(session, workspace, row, tally, now, feed_poll_minutes)
            continue
        try:
            create = new_article(row.value)
        except ValidationError as error:
            tally.skipped.append(Problem(row.record, row.line, validation_reason(error)))
            continue
        assert create.url is not None
        url = normalize_url(create.url)
        existing = articles.find_by_url(session=session, workspace=workspace, url=url)
        if existing is None:
            articles.save_article(
                session=session, indexer=indexer, workspace=workspace, data=create, today=today
            )
            tally.created += 1
            continue
        changes = _article_changes(existing, row.value)
        if changes:
            articles.update_article(
                session=session,
                indexer=indexer,
                workspace=workspace,
                article=existing,
                data=ArticleUpdate.model_validate(changes),
            )
            tally.updated += 1
        else:
            tally.unchanged += 1
    return tally.report(parsed)


def saved_already(*, session: Session, workspace: Workspace, data: ArticleCreate) -> Article | None:
    """The workspace's article with the same link, else with the same text, if any."""
    if data.url:
        found = articles.find_by_url(
            session=session, workspace=workspace, url=normalize_url(data.url)
        )
        if found is not None:
            return found
    digest = article_text_hash(data.text, data.summary)
    if digest is None:
        return None
    return session.scalar(
        select(Article)
        .where(Article.workspace_id == workspace.id, Article.text_hash == digest)
        .order_by(Article.id)
        .limit(1)
    )


def save_link_once(
    *,
    session: Session,
    indexer: RecordIndexer,
    workspace: Workspace,
    data: ArticleCreate,
    today: date,
) -> tuple[Article, bool]:
    """Save a link found by the service itself (a feed's item) unless it is saved already, by
    link or by text: then that article is returned unchanged. Returns the article and whether it
    was created."""
    found = saved_already(session=session, workspace=workspace, data=data)
    if found is not None:
        return found, False
    return articles.save_article(
        session=session, indexer=indexer, workspace=workspace, data=data, today=today
    )


def _subscribe(
    session: Session,
    workspace: Workspace,
    row: Row[ArticleRow],
    tally: _Tally,
    now: datetime,
    poll_minutes: float,
) -> None:
    """Subscribe to an OPML outline's feed (no fetch: a feed that fails says so at its poll)."""
    link = row.value
    assert link.feed_url is not None
    if len(link.feed_url) > MAX_URL_LENGTH:
        reason = f"the feed's URL is longer than {MAX_URL_LENGTH:,} characters"
        tally.skipped.append(Problem(row.record, row.line, reason))
        return
    before = feeds.find_feed(session=session, workspace=workspace, url=link.feed_url)
    tags_before = list(before.tags) if before is not None else None
    try:
        feed, created = feeds.subscribe(
            session=session,
            workspace=workspace,
            url=link.feed_url,
            tags=_tags(link.tags),
            now=now,
            poll_minutes=poll_minutes,
            title=shorten(link.title, 500),
        )
    except feeds.TooManyFeedsError as error:
        tally.skipped.append(Problem(row.record, row.line, str(error)))
        return
    if created:
        tally.created += 1
    elif feed.tags != tags_before:
        tally.updated += 1
    else:
        tally.unchanged += 1


def read_page(url: str, policy: FetchPolicy) -> ExtractedArticle:
    """Fetch a page and read its title and main text; nothing is written.

    Raises ``FetchError`` when the page cannot be fetched or read.
    """
    return extract_article(fetch_page(url, policy), timeout_seconds=policy.extract_timeout_seconds)


def save_page(
    *,
    session: Session,
    indexer: RecordIndexer,
    workspace: Workspace,
    page: ExtractedArticle,
    tags: list[str],
    today: date,
) -> tuple[Article, bool]:
    """Save a page read by ``read_page`` as an article (a saved URL is refreshed).

    Raises ``FetchError`` when what was read does not fit an article.
    """
    fields = {
        "title": shorten(page.title, 500),
        "url": page.url,
        "summary": shorten(page.summary, 5_000),
        "text": shorten(page.text, 200_000),
    }
    existing = articles.find_by_url(
        session=session, workspace=workspace, url=normalize_url(page.url)
    )
    try:
        if existing is None:
            data = ArticleCreate.model_validate({**fields, "tags": _tags(tags)})
        else:
            update = ArticleUpdate.model_validate(
                {
                    **{k: v for k, v in fields.items() if v is not None},
                    "tags": _tags([*existing.tags, *tags]),
                }
            )
    except ValidationError as error:
        raise FetchError(f"The page cannot be saved: {validation_reason(error)}.") from error
    if existing is None:
        return articles.save_article(
            session=session, indexer=indexer, workspace=workspace, data=data, today=today
        )
    articles.update_article(
        session=session, indexer=indexer, workspace=workspace, article=existing, data=update
    )
    return existing, False
