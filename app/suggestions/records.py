"""What the suggestion engine reads of the records, behind one small interface.

The engine ranks data: the contact's pain points, the index's hits, what must not be suggested
and what the user sent or dismissed before. It asks for the records it needs through
``SuggestionRecords`` and never writes SQL; ``StoredRecords`` answers from the database, every
read scoped to the contact's workspace in the query itself (``app.scoped``).
"""

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from app.models import (
    Article,
    Contact,
    DismissReason,
    Give,
    Suggestion,
    SuggestionStatus,
    still_closed,
    target_key,
)
from app.scoped import load_scoped, scoped


class SuggestionRecords(Protocol):
    """The reads ``SuggestionEngine`` makes, each within the workspace it names."""

    def blocked(self, contact: Contact, today: date) -> set[str]:
        """The target keys (``models.target_key``) not to suggest to ``contact`` on ``today``."""
        ...

    def sent_and_dismissed(self, contact: Contact) -> tuple[list[Article], list[Article]]:
        """The articles sent to ``contact``, and those dismissed for them as not relevant."""
        ...

    def articles(self, workspace_id: int, ids: set[int]) -> dict[int, Article]:
        """The workspace's articles among ``ids``, by id."""
        ...

    def contacts(self, workspace_id: int, ids: set[int]) -> dict[int, Contact]:
        """The workspace's contacts among ``ids``, by id."""
        ...


class StoredRecords:
    """``SuggestionRecords`` read from the database through ``session``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def blocked(self, contact: Contact, today: date) -> set[str]:
        return blocked_targets(self.session, contact, today)

    def sent_and_dismissed(self, contact: Contact) -> tuple[list[Article], list[Article]]:
        def articles(*conditions: ColumnElement[bool]) -> list[Article]:
            return list(
                self.session.scalars(
                    scoped(Article, contact.workspace_id)
                    .join(Suggestion, Suggestion.article_id == Article.id)
                    .where(
                        Suggestion.workspace_id == contact.workspace_id,
                        Suggestion.contact_id == contact.id,
                        *conditions,
                    )
                )
            )

        return articles(Suggestion.status == SuggestionStatus.sent), articles(
            Suggestion.status == SuggestionStatus.dismissed,
            Suggestion.dismiss_reason == DismissReason.not_relevant,
        )

    def articles(self, workspace_id: int, ids: set[int]) -> dict[int, Article]:
        return load_scoped(self.session, Article, workspace_id, ids)

    def contacts(self, workspace_id: int, ids: set[int]) -> dict[int, Contact]:
        return load_scoped(self.session, Contact, workspace_id, ids)


def blocked_targets(session: Session, contact: Contact, today: date) -> set[str]:
    """What must not be suggested to this contact on ``today``.

    Articles already given (or saved again after one given was deleted), anything sent or
    dismissed before (a bad-timing dismissal only until its day), and introductions whose pair
    was suggested in either direction and acted on.
    """
    blocked = {
        target_key("article", article_id)
        for article_id in session.scalars(
            select(Give.article_id).where(
                Give.workspace_id == contact.workspace_id,
                Give.contact_id == contact.id,
                Give.article_id.is_not(None),
            )
        )
    }
    blocked |= {target_key("article", article_id) for article_id in _saved_again(session, contact)}
    acted = session.execute(
        select(Suggestion.contact_id, Suggestion.target_key, Suggestion.introduce_contact_id).where(
            Suggestion.workspace_id == contact.workspace_id,
            still_closed(today),
            or_(
                Suggestion.contact_id == contact.id,
                Suggestion.introduce_contact_id == contact.id,
            ),
        )
    )
    for owner_id, key, introduce_id in acted:
        if owner_id == contact.id:
            blocked.add(key)
        elif introduce_id == contact.id:  # the same pair, suggested from the other side
            blocked.add(target_key("introduction", owner_id))
    return blocked


def _saved_again(session: Session, contact: Contact) -> Sequence[int]:
    """The workspace's articles with the URL or text of one given to the contact: an article
    deleted and saved again has a new id but is the same article."""
    given = session.execute(
        select(Give.article_url, Give.article_text_hash).where(
            Give.workspace_id == contact.workspace_id,
            Give.contact_id == contact.id,
            or_(Give.article_url.is_not(None), Give.article_text_hash.is_not(None)),
        )
    ).all()
    if not given:
        return []
    urls = {url for url, _ in given if url}
    hashes = {text_hash for _, text_hash in given if text_hash}
    return session.scalars(
        scoped(Article, contact.workspace_id)
        .with_only_columns(Article.id)
        .where(or_(Article.url.in_(urls), Article.text_hash.in_(hashes)))
    ).all()
