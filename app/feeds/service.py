"""Feed subscriptions and their poll state: plain functions over a session (no fetching here:
``app.feeds.poller`` fetches, then writes through these)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.models import Feed, FeedItem, FeedStatus, Workspace
from app.paging import paginate
from app.schemas import normalize_url
from app.scoped import get_scoped, scoped

MAX_FEEDS = 1_000  # per workspace
# A feed whose poll started and never ended (a process killed mid-poll) is due again after this.
POLL_LEASE = timedelta(minutes=15)
# The server polls a feed no more often than GIVEFIRST_FEED_POLL_MINUTES; with 0 it never does
# by itself, and a feed waits for `givefirst feeds poll`.
NEVER = datetime(2999, 12, 31, tzinfo=UTC)
MAX_BACKOFF = timedelta(days=7)
_BACKOFF_BASE = timedelta(hours=1)  # when the server does not poll by itself


class TooManyFeedsError(ValueError):
    def __init__(self) -> None:
        super().__init__(
            f"A workspace subscribes to at most {MAX_FEEDS:,} feeds; delete one first."
        )


def feeds_of(workspace_id: int | None) -> Select[Feed]:
    """``select(Feed)`` of one workspace, or of every workspace when None (the operator's
    commands and the server's schedule work on all)."""
    return select(Feed) if workspace_id is None else scoped(Feed, workspace_id)


def list_feeds(
    *,
    session: Session,
    workspace: Workspace,
    feed_status: FeedStatus | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[Feed], int]:
    """A page of the workspace's feeds (oldest subscription first, of one status when given)
    and how many match."""
    query = scoped(Feed, workspace.id).order_by(Feed.id)
    if feed_status is not None:
        query = query.where(Feed.status == feed_status)
    return paginate(session, query, limit=limit, offset=offset)


def get_feed(*, session: Session, workspace: Workspace, feed_id: int) -> Feed | None:
    return get_scoped(session, Feed, workspace.id, feed_id)


def find_feed(*, session: Session, workspace: Workspace, url: str) -> Feed | None:
    return session.scalar(scoped(Feed, workspace.id).where(Feed.url == normalize_url(url)))


def first_poll_at(now: datetime, poll_minutes: float) -> datetime:
    """When a new subscription is first polled: at once, unless the server never polls."""
    return now if poll_minutes > 0 else NEVER


def subscribe(
    *,
    session: Session,
    workspace: Workspace,
    url: str,
    tags: Sequence[str],
    now: datetime,
    poll_minutes: float,
    title: str | None = None,
    site_url: str | None = None,
) -> tuple[Feed, bool]:
    """Subscribe to ``url`` (a feed already subscribed to gains the tags). Returns the feed and
    whether it is new; ``TooManyFeedsError`` past ``MAX_FEEDS``."""
    url = normalize_url(url)
    feed = find_feed(session=session, workspace=workspace, url=url)
    if feed is not None:
        feed.tags = list(dict.fromkeys([*feed.tags, *tags]))
        feed.title = feed.title or title
        feed.site_url = feed.site_url or site_url
        session.flush()
        return feed, False
    held = session.scalar(
        select(func.count()).select_from(Feed).where(Feed.workspace_id == workspace.id)
    )
    if (held or 0) >= MAX_FEEDS:
        raise TooManyFeedsError()
    feed = Feed(
        workspace_id=workspace.id,
        url=url,
        title=title,
        site_url=site_url,
        tags=list(dict.fromkeys(tags)),
        status=FeedStatus.new,
        failures=0,
        next_poll_at=first_poll_at(now, poll_minutes),
        created_at=now,
    )
    session.add(feed)
    session.flush()
    return feed, True


def delete_feed(*, session: Session, feed: Feed) -> None:
    """Unsubscribe; the articles saved from the feed stay."""
    session.delete(feed)
    session.flush()


# --- polls ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedToPoll:
    """What a poll needs of a feed, read in the turn that claimed it (no session held after)."""

    id: int
    workspace_id: int
    url: str
    tags: tuple[str, ...]
    etag: str | None
    last_modified: str | None
    failures: int


def claim_feeds(
    *,
    session: Session,
    now: datetime,
    workspace_id: int | None = None,
    due_only: bool = True,
    limit: int | None = None,
) -> list[FeedToPoll]:
    """The feeds to poll now (due ones, or all of a workspace), moved on by ``POLL_LEASE`` so
    that no other process polls them meanwhile. Run in a write turn."""
    query = feeds_of(workspace_id).order_by(Feed.next_poll_at, Feed.id)
    if due_only:
        query = query.where(Feed.next_poll_at <= now)
    if limit is not None:
        query = query.limit(limit)
    claimed = []
    for feed in session.scalars(query):
        feed.next_poll_at = now + POLL_LEASE
        claimed.append(
            FeedToPoll(
                id=feed.id,
                workspace_id=feed.workspace_id,
                url=feed.url,
                tags=tuple(feed.tags),
                etag=feed.etag,
                last_modified=feed.last_modified,
                failures=feed.failures,
            )
        )
    session.flush()
    return claimed


def request_poll(*, session: Session, workspace_id: int | None, now: datetime) -> list[int]:
    """Make the feeds of a workspace (or all) due now, for the running server to poll; their ids."""
    feeds = list(session.scalars(feeds_of(workspace_id).order_by(Feed.id)))
    for feed in feeds:
        feed.next_poll_at = now
    session.flush()
    return [feed.id for feed in feeds]


def requested_feeds(
    *, session: Session, workspace_id: int | None, feed_ids: Sequence[int]
) -> list[Feed]:
    """Those of ``feed_ids`` still there, of the workspace when one is given (all otherwise)."""
    query = feeds_of(workspace_id).where(Feed.id.in_(feed_ids)).order_by(Feed.id)
    return list(session.scalars(query))


def polled_since(
    *, session: Session, workspace_id: int | None, feed_ids: Sequence[int], since: datetime
) -> set[int]:
    """Those of ``feed_ids`` polled at ``since`` or later (or deleted meanwhile), read within
    the workspace when one is given."""
    not_yet = feeds_of(workspace_id).where(
        Feed.id.in_(feed_ids), Feed.last_polled_at.is_(None) | (Feed.last_polled_at < since)
    )
    return set(feed_ids) - set(session.scalars(not_yet.with_only_columns(Feed.id)))


def known_item_keys(*, session: Session, feed: FeedToPoll) -> set[str]:
    return set(
        session.scalars(
            select(FeedItem.key).where(
                FeedItem.workspace_id == feed.workspace_id, FeedItem.feed_id == feed.id
            )
        )
    )


def next_poll(now: datetime, poll_minutes: float, failures: int) -> datetime:
    """After a poll: the interval, doubled for each failure in a row (at most a week)."""
    if failures == 0:
        return now + timedelta(minutes=poll_minutes) if poll_minutes > 0 else NEVER
    base = timedelta(minutes=poll_minutes) if poll_minutes > 0 else _BACKOFF_BASE
    wait: timedelta = min(base * 2 ** min(failures, 20), MAX_BACKOFF)
    return now + wait


def record_poll(
    *,
    session: Session,
    feed: FeedToPoll,
    now: datetime,
    poll_minutes: float,
    status: FeedStatus,
    error: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    title: str | None = None,
    site_url: str | None = None,
) -> Feed | None:
    """Store how a poll went; None if the feed was deleted meanwhile."""
    stored = get_scoped(session, Feed, feed.workspace_id, feed.id)
    if stored is None:
        return None
    stored.status = status
    stored.last_polled_at = now
    if status == FeedStatus.error:
        stored.failures += 1
        stored.last_error = error
    else:
        stored.failures = 0
        stored.last_error = None
        if status == FeedStatus.ok:  # a 304 keeps the validators it answered to
            stored.etag = etag[:500] if etag else None
            stored.last_modified = last_modified[:100] if last_modified else None
        stored.title = stored.title or (title[:500] if title else None)
        stored.site_url = stored.site_url or (
            site_url if site_url and len(site_url) <= 2000 else None
        )
    stored.next_poll_at = next_poll(now, poll_minutes, stored.failures)
    session.flush()
    return stored


def any_feeds(*, session: Session, workspace_id: int | None) -> bool:
    """Whether the workspace (any workspace when None) has a feed to poll."""
    query = feeds_of(workspace_id).with_only_columns(Feed.id).limit(1)
    return session.scalar(query) is not None
