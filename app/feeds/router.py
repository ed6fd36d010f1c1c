"""HTTP routes of the feeds resource."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from app.deps import (
    PagingDep,
    RecordId,
    SessionDep,
    SettingsDep,
    WorkspaceDep,
    WorkspaceOutsideTurnDep,
    WriteTurnDep,
)
from app.feeds import service
from app.feeds.poller import find_feed, poll_config
from app.feeds.reader import NotAFeedError
from app.feeds.schemas import FeedCreate, FeedPublic, FeedsAsked, FeedSaved
from app.imports.fetch import FetchError
from app.models import Feed, FeedStatus
from app.schemas import Page

router = APIRouter(tags=["feeds"])


def _feed_or_404(session: SessionDep, workspace: WorkspaceDep, feed_id: int) -> Feed:
    feed = service.get_feed(session=session, workspace=workspace, feed_id=feed_id)
    if feed is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Feed {feed_id} not found.")
    return feed


@router.post(
    "/feeds",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": FeedSaved, "description": "Subscribed already: the tags were added."},
        422: {
            "description": "Not a public http(s) feed or page that links one, too large, too "
            "slow, or unreadable; or the workspace has as many feeds as it may."
        },
    },
)
def subscribe(
    data: FeedCreate,
    response: Response,
    workspace: WorkspaceOutsideTurnDep,
    write_turn: WriteTurnDep,
    settings: SettingsDep,
) -> FeedSaved:
    """Subscribe to an RSS or Atom feed, given its address or that of a page that links one.

    The feed is fetched once to check that it is one (with the same guard and limits as saving
    an article by URL); its items are saved as articles at the next poll, which the server runs
    within `GIVEFIRST_FEED_CHECK_SECONDS`, then every `GIVEFIRST_FEED_POLL_MINUTES`.
    """
    try:
        # Fetched before the write turn is taken: a slow feed holds up no other writes.
        found = find_feed(data.url, poll_config(settings).policy)
        with write_turn() as session:
            feed, created = service.subscribe(
                session=session,
                workspace=workspace,
                url=found.url,
                tags=data.tags,
                now=datetime.now(UTC),
                poll_minutes=settings.feed_poll_minutes,
                title=found.title,
                site_url=found.site_url,
            )
    except (FetchError, NotAFeedError, service.TooManyFeedsError) as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    if not created:
        response.status_code = status.HTTP_200_OK
    return FeedSaved(**FeedPublic.model_validate(feed).model_dump(), created=created)


@router.get("/feeds")
def list_feeds(
    session: SessionDep,
    workspace: WorkspaceDep,
    paging: PagingDep,
    feed_status: Annotated[
        FeedStatus | None,
        Query(alias="status", description="Only the feeds whose last poll ended so."),
    ] = None,
) -> Page[FeedPublic]:
    """The workspace's feeds, a page at a time, the oldest subscription first, with how each
    one's last poll went (`status`, `last_error`): `?status=error` lists the failing ones."""
    feeds, total = service.list_feeds(
        session=session,
        workspace=workspace,
        feed_status=feed_status,
        limit=paging.limit,
        offset=paging.offset,
    )
    return paging.page([FeedPublic.model_validate(feed) for feed in feeds], total)


@router.post("/feeds/poll", status_code=status.HTTP_202_ACCEPTED)
def poll_now(session: SessionDep, workspace: WorkspaceDep) -> FeedsAsked:
    """Make every feed of the workspace due now: the server polls them at its next check
    (within `GIVEFIRST_FEED_CHECK_SECONDS`); `GET /feeds` then shows how each poll went."""
    asked = service.request_poll(session=session, workspace_id=workspace.id, now=datetime.now(UTC))
    return FeedsAsked(feeds=len(asked))


@router.get("/feeds/{feed_id}", responses={404: {"description": "No such feed here."}})
def get_feed(feed_id: RecordId, session: SessionDep, workspace: WorkspaceDep) -> FeedPublic:
    """One feed of the workspace, with how its last poll went."""
    return FeedPublic.model_validate(_feed_or_404(session, workspace, feed_id))


@router.delete(
    "/feeds/{feed_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "No such feed here."}},
)
def delete_feed(feed_id: RecordId, session: SessionDep, workspace: WorkspaceDep) -> None:
    """Unsubscribe. The articles saved from the feed stay."""
    service.delete_feed(session=session, feed=_feed_or_404(session, workspace, feed_id))
