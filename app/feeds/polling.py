"""Poll feeds now, from a command (``givefirst feeds poll`` and the nightly batch).

On the embedded default only one process may open the vector store, and the server holds it
while it runs. So a command polls in its own process when the store is free (or with a Qdrant
server, which every process shares), and otherwise asks the running server: it makes the feeds
due now in the database, which the server checks every ``GIVEFIRST_FEED_CHECK_SECONDS``, and
waits for their polls.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.config import Settings
from app.db import open_records, session_scope
from app.feeds.schemas import FeedPollResult
from app.feeds.service import polled_since, request_poll


@dataclass
class PollRun:
    """How a poll went: polled here (``results``), or by the running server (``asked``)."""

    results: list[FeedPollResult] = field(default_factory=list)
    asked: list[int] | None = None  # None: polled here; else the feeds the server was asked for
    polled_by_server: set[int] = field(default_factory=set)  # of ``asked``, polled in time

    @property
    def late(self) -> int:
        """Feeds the server was asked to poll and had not polled when the wait ended."""
        return len(self.asked or ()) - len(self.polled_by_server)


def poll_now(
    settings: Settings,
    workspace_id: int | None,
    *,
    wait: float,
    on_asked: Callable[[int], None] | None = None,
) -> PollRun:
    """Poll every feed of the workspace (all workspaces when None) now, here or by the server;
    ``on_asked`` hears how many feeds the server was asked to poll, before the wait."""
    from app.runtime import VectorStoreLockedError

    try:
        return PollRun(results=_poll_here(settings, workspace_id))
    except VectorStoreLockedError:
        return _ask_the_server(settings, workspace_id, wait, on_asked)


def _poll_here(settings: Settings, workspace_id: int | None) -> list[FeedPollResult]:
    from app.feeds.poller import FeedPoller, poll_config
    from app.runtime import runtime_scope

    with runtime_scope(settings) as runtime:
        factory = runtime.session_factory
        poller = FeedPoller(
            session_factory=factory,
            indexer=runtime.indexer,
            write_turn=lambda: session_scope(factory, write=True),
            config=poll_config(settings),
        )
        return poller.poll(workspace_id=workspace_id, due_only=False)


def _ask_the_server(
    settings: Settings,
    workspace_id: int | None,
    wait: float,
    on_asked: Callable[[int], None] | None,
) -> PollRun:
    engine, sessions = open_records(settings)
    try:
        asked_at = datetime.now(UTC)
        with session_scope(sessions, write=True) as session:
            feed_ids = request_poll(session=session, workspace_id=workspace_id, now=asked_at)
        if on_asked is not None:
            on_asked(len(feed_ids))
        deadline = time.monotonic() + wait
        done: set[int] = set()
        while feed_ids and time.monotonic() < deadline:
            with session_scope(sessions) as session:
                done = polled_since(
                    session=session, workspace_id=workspace_id, feed_ids=feed_ids, since=asked_at
                )
            if len(done) == len(feed_ids):
                break
            time.sleep(min(1.0, settings.feed_check_seconds))
        return PollRun(asked=feed_ids, polled_by_server=done)
    finally:
        engine.dispose()
