"""Polling feeds: each feed fetched once per poll (conditionally), its new items saved as
articles through the article-import service, so they are embedded and indexed once.

Nothing is held while the network is waited on: feeds (and the pages of items that carry only a
summary) are fetched in a few threads with no session and no write turn. Writes then take the
write turn in short turns, a few items each, after the items' passages have been embedded
outside it (into the embedding cache, so the turn itself makes no model call). The server runs
``poll_on_schedule`` beside its requests; ``givefirst feeds poll`` runs ``FeedPoller.poll``
once. Two processes never poll the same feed at once: a poll claims its feeds first
(``claim_feeds``), in a write turn.
"""

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import anyio
from pydantic import ValidationError
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from app.articles.schemas import ArticleCreate
from app.config import Settings
from app.feeds.reader import (
    FeedEntry,
    NotAFeedError,
    ParsedFeed,
    linked_feed,
    looks_like_html,
    parse_feed,
)
from app.feeds.schemas import FeedPollResult
from app.feeds.service import FeedToPoll, claim_feeds, known_item_keys, record_poll
from app.imports.fetch import FetchError, FetchPolicy, fetch_feed, fetch_policy
from app.imports.parsers.common import ArticleRow
from app.imports.service import new_article, read_page, save_link_once
from app.indexing import RecordIndexer
from app.models import Feed, FeedItem, FeedStatus, Workspace, utcnow
from embeddings.text import split_passages

log = logging.getLogger(__name__)

ITEMS_PER_TURN = 10  # items written per write turn: other requests wait at most this long
MAX_ITEMS_PER_POLL = 200  # new items read from one feed in one poll (the newest first)

WriteTurn = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class PollConfig:
    policy: FetchPolicy
    poll_minutes: float
    max_age_days: int
    pages_per_poll: int
    fetches_at_once: int


def poll_config(settings: Settings) -> PollConfig:
    return PollConfig(
        policy=fetch_policy(settings),
        poll_minutes=settings.feed_poll_minutes,
        max_age_days=settings.feed_max_age_days,
        pages_per_poll=settings.feed_pages_per_poll,
        fetches_at_once=settings.feed_fetches_at_once,
    )


@dataclass(frozen=True)
class FoundFeed:
    url: str
    title: str | None
    site_url: str | None


def find_feed(url: str, policy: FetchPolicy) -> FoundFeed:
    """The feed at ``url``, or the first one the page at ``url`` links to; ``FetchError`` or
    ``NotAFeedError`` (with a message for the user) when there is none."""
    page = fetch_feed(url, policy)
    try:
        parsed = parse_feed(page.content, page.url)
    except NotAFeedError:
        if not looks_like_html(page.content_type, page.content):
            raise
        linked = linked_feed(page.content, page.url)
        if linked is None:
            raise NotAFeedError(
                f'{url} is a web page that links no RSS or Atom feed (no <link rel="alternate" '
                'type="application/rss+xml"> in it): give the feed\'s own address.'
            ) from None
        page = fetch_feed(linked, policy)
        parsed = parse_feed(page.content, page.url)
    return FoundFeed(url=page.url, title=parsed.title, site_url=parsed.site_url)


@dataclass
class _NewItem:
    entry: FeedEntry
    article: ArticleCreate | None  # None: the item cannot be an article (reported, not saved)


@dataclass
class _Fetched:
    """One feed fetched and read, before anything is written."""

    feed: FeedToPoll
    status: FeedStatus
    error: str | None = None
    parsed: ParsedFeed | None = None
    etag: str | None = None
    last_modified: str | None = None
    items: list[_NewItem] = field(default_factory=list)
    too_old: int = 0
    pages_fetched: int = 0


def _chunks(items: Sequence[_NewItem], size: int) -> Iterator[Sequence[_NewItem]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class FeedPoller:
    """Polls feeds and saves their new items; one instance per process."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        indexer: RecordIndexer,
        write_turn: WriteTurn,
        config: PollConfig,
    ) -> None:
        self.session_factory = session_factory
        self.indexer = indexer
        self.write_turn = write_turn
        self.config = config
        self.stop = threading.Event()  # set: finish the feed at hand, then return

    def any_due(self, now: datetime) -> bool:
        """Whether a feed is due (a read, so that an idle check takes no write turn)."""
        with self.session_factory() as session:
            return session.scalar(select(exists().where(Feed.next_poll_at <= now))) or False

    def poll(
        self, *, workspace_id: int | None = None, due_only: bool = True
    ) -> list[FeedPollResult]:
        """Poll the due feeds (or every feed of ``workspace_id``, or all, with
        ``due_only=False``); one result per feed polled."""
        now = utcnow()
        if due_only and not self.any_due(now):
            return []
        with self.write_turn() as session:
            feeds = claim_feeds(
                session=session, now=now, workspace_id=workspace_id, due_only=due_only
            )
        results: list[FeedPollResult] = []
        waiting = iter(feeds)
        with ThreadPoolExecutor(self.config.fetches_at_once, "feed-fetch") as pool:
            pending: deque[Future[_Fetched]] = deque()

            def submit_next() -> None:
                feed = next(waiting, None)
                if feed is not None and not self.stop.is_set():
                    pending.append(pool.submit(self._fetch, feed, now))

            # Fetched a little ahead of the writes, never all at once: memory stays bounded.
            for _ in range(self.config.fetches_at_once * 2):
                submit_next()
            while pending:
                if self.stop.is_set():  # the rest stay claimed: due again once the claim lapses
                    for waiting_fetch in pending:
                        waiting_fetch.cancel()
                    break
                fetched = pending.popleft().result()
                submit_next()
                results.append(self._store(fetched, now))
        return results

    # -- fetching (no session held, no turn) ---------------------------------------------------

    def _fetch(self, feed: FeedToPoll, now: datetime) -> _Fetched:
        try:
            with self.session_factory() as session:
                known = known_item_keys(session=session, feed=feed)
            page = fetch_feed(
                feed.url,
                self.config.policy,
                etag=feed.etag,
                last_modified=feed.last_modified,
            )
            if page.not_modified:
                return _Fetched(feed, FeedStatus.not_modified)
            parsed = parse_feed(page.content, page.url)
        except (FetchError, NotAFeedError) as error:
            return _Fetched(feed, FeedStatus.error, error=str(error))
        except Exception as error:  # a feed never stops the others
            log.exception("Feed %d (%s) could not be polled", feed.id, feed.url)
            return _Fetched(
                feed,
                FeedStatus.error,
                error=f"The feed could not be read ({type(error).__name__}).",
            )
        fetched = _Fetched(
            feed,
            FeedStatus.ok,
            parsed=parsed,
            etag=page.etag,
            last_modified=page.last_modified,
        )
        cutoff = now - timedelta(days=self.config.max_age_days)
        fresh: dict[str, FeedEntry] = {}
        for entry in parsed.entries:
            if entry.key in known or entry.key in fresh:
                continue
            if entry.published_at is not None and entry.published_at < cutoff:
                fetched.too_old += 1
                continue
            fresh[entry.key] = entry
        for entry in list(fresh.values())[:MAX_ITEMS_PER_POLL]:
            fetched.items.append(_NewItem(entry, self._article(entry, feed, fetched)))
        return fetched

    def _article(
        self, entry: FeedEntry, feed: FeedToPoll, fetched: _Fetched
    ) -> ArticleCreate | None:
        """The article an item makes: with its page's text when the feed carries only a
        summary (``pages_per_poll`` pages per feed at most; the others keep their summary)."""
        text, summary = entry.text, entry.summary
        budget_left = fetched.pages_fetched < self.config.pages_per_poll
        if text is None and budget_left and not self.stop.is_set():
            fetched.pages_fetched += 1
            try:
                page = read_page(entry.link, self.config.policy)
            except FetchError as error:
                log.info("Feed %d: item page %s not read: %s", feed.id, entry.link, error)
            else:
                text, summary = page.text, summary or page.summary
        row = ArticleRow(
            title=entry.title,
            url=entry.link,
            summary=summary,
            text=text,
            tags=(*feed.tags, *entry.tags),
        )
        try:
            return new_article(row)
        except ValidationError:
            return None

    # -- writing (short turns) -----------------------------------------------------------------

    def _warm(self, items: Sequence[_NewItem]) -> None:
        """Embed the items' passages now, outside the write turn: the save finds them cached."""
        passages = [
            passage.text
            for item in items
            if item.article is not None
            for passage in split_passages(
                item.article.title, item.article.summary, item.article.text
            )
        ]
        if passages:
            self.indexer.embedder.embed_documents(passages)

    def _store(self, fetched: _Fetched, now: datetime) -> FeedPollResult:
        feed = fetched.feed
        result = FeedPollResult(
            feed_id=feed.id,
            url=feed.url,
            status=fetched.status,
            new_items=len(fetched.items),
            saved=0,
            already_saved=0,
            too_old=fetched.too_old,
            pages_fetched=fetched.pages_fetched,
            error=fetched.error,
        )
        for chunk in _chunks(fetched.items, ITEMS_PER_TURN):
            self._warm(chunk)
            with self.write_turn() as session:
                if not self._save_items(session, feed, chunk, now, result):
                    return result  # unsubscribed meanwhile
        parsed = fetched.parsed
        with self.write_turn() as session:
            record_poll(
                session=session,
                feed=feed,
                now=now,
                poll_minutes=self.config.poll_minutes,
                status=fetched.status,
                error=fetched.error,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                title=parsed.title if parsed else None,
                site_url=parsed.site_url if parsed else None,
            )
        return result

    def _save_items(
        self,
        session: Session,
        feed: FeedToPoll,
        items: Sequence[_NewItem],
        now: datetime,
        result: FeedPollResult,
    ) -> bool:
        workspace = session.get(Workspace, feed.workspace_id)
        stored = session.scalar(
            select(Feed.id).where(Feed.workspace_id == feed.workspace_id, Feed.id == feed.id)
        )
        if workspace is None or stored is None:
            return False
        today = now.date()
        for item in items:
            seen = session.scalar(
                select(exists().where(FeedItem.feed_id == feed.id, FeedItem.key == item.entry.key))
            )
            if seen:
                continue
            article_id, created = None, False
            if item.article is not None:
                article, created = save_link_once(
                    session=session,
                    indexer=self.indexer,
                    workspace=workspace,
                    data=item.article,
                    today=today,
                )
                article_id = article.id
                if created:
                    result.saved += 1
                else:
                    result.already_saved += 1
            session.add(
                FeedItem(
                    workspace_id=feed.workspace_id,
                    feed_id=feed.id,
                    key=item.entry.key,
                    article_id=article_id,
                    saved_article=created,
                    published_at=item.entry.published_at,
                    seen_at=now,
                )
            )
        session.flush()
        return True


async def poll_on_schedule(poller: FeedPoller, check_seconds: float) -> None:
    """Poll the due feeds every ``check_seconds`` until cancelled (the server's lifespan runs
    it). The poll runs in a worker thread: the event loop only waits."""
    while not poller.stop.is_set():
        try:
            await anyio.to_thread.run_sync(poller.poll)
        except Exception:
            log.exception("Polling the feeds failed; trying again at the next check")
        await anyio.sleep(check_seconds)
