"""Database records. Every record belongs to one workspace; records are the source of truth
(vectors can always be rebuilt from them)."""

import hashlib
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    or_,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back time-zone aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


# SQLite hands the id of a deleted row to the next row inserted, in any workspace; with
# AUTOINCREMENT it never does, so an id held anywhere (the index, a list, a client) can only ever
# name the record it was given to. (A rolled-back row's id is given again even so: nothing outside
# the database ever held it, as the index is written only after a commit.) PostgreSQL sequences
# never reuse ids.
NEVER_REUSE_IDS: dict[str, Any] = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Tier(StrEnum):
    """How close a contact is: A is seen most often (each tier has its cadence in days)."""

    A = "A"
    B = "B"
    C = "C"


class Workspace(Base):
    __tablename__ = "workspaces"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    default_tier: Mapped[str] = mapped_column(String(1), default=Tier.B)  # a Tier
    # Per-workspace cadences in days; NULL means "use the service setting".
    cadence_a_days: Mapped[int | None] = mapped_column(Integer)
    cadence_b_days: Mapped[int | None] = mapped_column(Integer)
    cadence_c_days: Mapped[int | None] = mapped_column(Integer)
    # Appended to e-mail drafts (not to one-line notes); NULL means no signature.
    signature: Mapped[str | None] = mapped_column(String(500))
    # The HMAC key of the digest's one-click links; made on first use, never shown or exported.
    link_secret: Mapped[str | None] = mapped_column(String(64))
    # Inbound e-mail: the SHA-256 of the secret in the workspace's touch address
    # (touch+<token>@…), its first characters to recognise it, and when it was made; NULL: none.
    touch_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    touch_token_prefix: Mapped[str | None] = mapped_column(String(16))
    touch_token_created_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """An API key, stored as its SHA-256 (keys are 256-bit random: a slow hash adds nothing)."""

    __tablename__ = "api_keys"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()

    workspace: Mapped[Workspace] = relationship()


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    company: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    field: Mapped[str | None] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(1), default=Tier.B)  # a Tier
    notes: Mapped[str | None] = mapped_column(Text)
    linkedin_url: Mapped[str | None] = mapped_column(String(2000))
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_contacted_on: Mapped[date | None] = mapped_column(Date)
    # Off every list (not due, not coming up) before this day; due again from it, if the cadence
    # says so. No give is logged: a snooze is "not now", not a touch.
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    pain_points: Mapped[list["PainPoint"]] = relationship(
        back_populates="contact",
        cascade="all, delete-orphan",
        order_by="PainPoint.id",
        lazy="selectin",
    )
    expertise: Mapped[list["Expertise"]] = relationship(
        back_populates="contact",
        cascade="all, delete-orphan",
        order_by="Expertise.position",
        lazy="selectin",
    )


class PainPoint(Base):
    """Something a contact struggles with: what the give-first suggestions answer."""

    __tablename__ = "pain_points"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    noted_on: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contact: Mapped[Contact] = relationship(back_populates="pain_points")


class Expertise(Base):
    """One thing a contact can help others with: what introductions are matched on."""

    __tablename__ = "expertise"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    contact: Mapped[Contact] = relationship(back_populates="expertise")


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("workspace_id", "url", name="uq_articles_workspace_url"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(2000))
    summary: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    saved_on: Mapped[date] = mapped_column(Date)
    # ``article_text_hash`` of the text (or summary): what names an article saved without a URL.
    text_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def article_text_hash(text: str | None, summary: str | None) -> str | None:
    """The SHA-256 of an article's text (its summary if it has no text), white space collapsed;
    None when it has neither."""
    words = " ".join((text or summary or "").split())
    return hashlib.sha256(words.encode()).hexdigest() if words else None


class GiveKind(StrEnum):
    """What a give was: a suggestion's kind, or something else logged by hand."""

    article = "article"
    introduction = "introduction"
    check_in = "check_in"
    other = "other"


class Give(Base):
    """Something the user gave a contact: logged by hand or by marking a suggestion sent."""

    __tablename__ = "gives"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    given_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))  # a GiveKind
    description: Mapped[str] = mapped_column(Text)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    # What named the article when it was given, kept when the article is deleted: the same
    # article saved again (a new id) is still one the contact has had.
    article_url: Mapped[str | None] = mapped_column(String(2000))
    article_text_hash: Mapped[str | None] = mapped_column(String(64))
    introduced_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    suggestion_id: Mapped[int | None] = mapped_column(
        ForeignKey("suggestions.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ask(Base):
    """Something the user asked a contact for (the ledger keeps asks and gives in balance)."""

    __tablename__ = "asks"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    asked_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def target_key(kind: str, target: int | date | None = None) -> str:
    """What a suggestion offers, as ``Suggestion.target_key`` stores it: ``article:<article id>``,
    ``introduction:<contact id>``, ``check_in:<day>`` (``check_in`` alone in old exports)."""
    if target is None:
        return kind
    return f"{kind}:{target.isoformat() if isinstance(target, date) else target}"


class TouchKind(StrEnum):
    """What kind of interaction a touch was."""

    email_sent = "email_sent"
    email_received = "email_received"
    meeting = "meeting"
    call = "call"
    message = "message"
    note = "note"


class TouchSource(StrEnum):
    """Where a touch came from: typed in, or read from a calendar or mail file, or mail received."""

    manual = "manual"
    ics = "ics"
    mbox = "mbox"
    eml = "eml"
    smtp = "smtp"


class Touch(Base):
    """An interaction with a contact (a meeting held, an e-mail sent or received, a call).

    A touch restarts the contact's cadence as a give does, but it is not a give: the give/ask
    balance does not count it. Only what happened is kept, never the body of a message.
    ``dedupe_key`` names what the touch was read from (a calendar event's occurrence, a message):
    the same one read again for the same contact is not logged twice. Touches typed in have none.
    """

    __tablename__ = "touches"
    __table_args__ = (
        UniqueConstraint("workspace_id", "contact_id", "dedupe_key", name="uq_touches_contact_key"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # a TouchKind
    happened_on: Mapped[date] = mapped_column(Date)
    # The time, when the source says it (a meeting's start, a message's Date header).
    happened_at: Mapped[datetime | None] = mapped_column()
    source: Mapped[str] = mapped_column(String(10))  # a TouchSource
    subject: Mapped[str | None] = mapped_column(String(500))
    dedupe_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SuggestionKind(StrEnum):
    """What a suggestion offers."""

    article = "article"
    introduction = "introduction"
    check_in = "check_in"


class SuggestionStatus(StrEnum):
    open = "open"
    sent = "sent"
    dismissed = "dismissed"


class DismissReason(StrEnum):
    """The reasons a dismissal is known by (the API takes any other snake_case word too)."""

    not_relevant = "not_relevant"  # also lowers similar articles for the contact
    already_has_it = "already_has_it"
    bad_timing = "bad_timing"  # set aside until a day, then it may come back


class Suggestion(Base):
    """A suggested gift for a contact, kept so it can be marked sent or dismissed.

    ``target_key`` names what is suggested ("article:12", "introduction:7", "check_in"); an open
    suggestion with the same key is reused, and a sent or dismissed one never comes back, save a
    dismissal with a ``dismissed_until`` day (bad timing): from that day it is opened again.
    """

    __tablename__ = "suggestions"
    __table_args__ = (
        UniqueConstraint("contact_id", "target_key", name="uq_suggestions_contact_target"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # a SuggestionKind
    target_key: Mapped[str] = mapped_column(String(60))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    introduce_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE")
    )
    pain_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("pain_points.id", ondelete="SET NULL")
    )
    score: Mapped[float] = mapped_column(default=0.0)
    reason: Mapped[str] = mapped_column(Text, default="")
    matched_text: Mapped[str | None] = mapped_column(Text)
    drafts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=SuggestionStatus.open)
    dismiss_reason: Mapped[str | None] = mapped_column(String(40))  # a DismissReason, or a word
    # A "bad_timing" dismissal sets the target aside until this day only; NULL: for ever.
    dismissed_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acted_at: Mapped[datetime | None] = mapped_column()


def still_closed(today: date) -> ColumnElement[bool]:
    """Suggestions sent or dismissed that still keep their target away on ``today``."""
    return and_(
        Suggestion.status != SuggestionStatus.open,
        or_(Suggestion.dismissed_until.is_(None), Suggestion.dismissed_until > today),
    )


class DailyList(Base):
    """The nightly batch's list for one workspace and one day: whom to help, and with what.

    Written in one transaction with its items, so a list either exists whole or not at all; the
    delivery times record what was sent, so a re-run never delivers twice.
    """

    __tablename__ = "daily_lists"
    __table_args__ = (
        UniqueConstraint("workspace_id", "day", name="uq_daily_lists_workspace_day"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    budget: Mapped[int] = mapped_column(Integer)
    due_count: Mapped[int] = mapped_column(Integer)  # contacts due or overdue on the day
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    webhook_delivered_at: Mapped[datetime | None] = mapped_column()
    email_delivered_at: Mapped[datetime | None] = mapped_column()
    items: Mapped[list["DailyItem"]] = relationship(
        back_populates="daily_list",
        cascade="all, delete-orphan",
        order_by="DailyItem.position",
    )
    # The due contacts that did not fit, spread over the next days.
    coming_up: Mapped[list["ComingUp"]] = relationship(
        cascade="all, delete-orphan",
        order_by="(ComingUp.day, ComingUp.position)",
    )


class DailyItem(Base):
    """One contact on a daily list, with the suggestion chosen for them."""

    __tablename__ = "daily_items"
    __table_args__ = (
        UniqueConstraint("daily_list_id", "contact_id", name="uq_daily_items_list_contact"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    daily_list_id: Mapped[int] = mapped_column(
        ForeignKey("daily_lists.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"))
    due_on: Mapped[date] = mapped_column(Date)
    daily_list: Mapped[DailyList] = relationship(back_populates="items")
    contact: Mapped[Contact] = relationship()
    suggestion: Mapped[Suggestion] = relationship()


class ComingUp(Base):
    """A due contact that did not fit on a daily list, and the day it is planned for.

    A row per contact with a foreign key (not a list of ids in the list's row): deleting the
    contact deletes its rows, so a stored list can never name a contact it no longer has.
    """

    __tablename__ = "daily_coming_up"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    daily_list_id: Mapped[int] = mapped_column(
        ForeignKey("daily_lists.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    contact: Mapped[Contact] = relationship()


class UsedActionToken(Base):
    """A one-click link of a digest that has been used: its SHA-256 and when, so that a link
    acts once only, across restarts."""

    __tablename__ = "used_action_tokens"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)


class RateLimitHit(Base):
    """One request counted against a rate limit that several processes share (on PostgreSQL:
    ``app.ratelimit.DatabaseRateLimiter``): kept for the length of the limit's window."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), index=True)  # the limit and what it counts
    at: Mapped[float] = mapped_column(Float)  # seconds since the epoch, on the database's clock


class FeedStatus(StrEnum):
    """How a feed's last poll went."""

    new = "new"  # not polled yet
    ok = "ok"  # fetched and read
    not_modified = "not_modified"  # the server answered 304: nothing new
    error = "error"  # not fetched or not readable: ``Feed.last_error`` says why


class Feed(Base):
    """An RSS or Atom feed the workspace subscribes to: polled, its new items saved as articles.

    ``etag`` and ``last_modified`` are the server's validators, sent back on the next poll (a
    304 answer costs no body). ``failures`` counts the polls that failed in a row: each one
    doubles the wait before the next (``next_poll_at``).
    """

    __tablename__ = "feeds"
    __table_args__ = (
        UniqueConstraint("workspace_id", "url", name="uq_feeds_workspace_url"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(String(500))
    site_url: Mapped[str | None] = mapped_column(String(2000))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default=FeedStatus.new)  # a FeedStatus
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_polled_at: Mapped[datetime | None] = mapped_column()
    # Due for a poll from then; a poll that starts moves it on first, so that two processes
    # polling at once do not fetch the same feed.
    next_poll_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedItem(Base):
    """An item of a feed, seen once: ``key`` (a hash of its id or link) is never read twice.

    ``article_id`` is the article it was saved as, or found to be already (the same link or
    text from another feed, or saved by hand); NULL once that article is deleted.
    """

    __tablename__ = "feed_items"
    __table_args__ = (
        UniqueConstraint("feed_id", "key", name="uq_feed_items_feed_key"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    # True when this item made the article (not found saved already): "new this week".
    saved_article: Mapped[bool] = mapped_column(Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column()
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
