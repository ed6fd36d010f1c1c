"""``givefirst feeds poll`` and ``givefirst feeds list``.

On the embedded default only one process may open the vector store, and the server holds it
while it runs. So ``poll`` polls in this process when the store is free (or with a Qdrant
server), and otherwise asks the running server: it makes the feeds due now in the database,
which the server checks every ``GIVEFIRST_FEED_CHECK_SECONDS``, and waits for their polls.
"""

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db import open_records, session_scope
from app.models import Feed, Workspace
from app.workspaces.service import get_workspace_by_name

if TYPE_CHECKING:
    from app.feeds.schemas import FeedPollResult

feeds_cli = typer.Typer(help="Poll and list the workspaces' feeds.", no_args_is_help=True)

WorkspaceOption = Annotated[
    str | None,
    typer.Option(
        "--workspace", "-w", help="Workspace name (see `givefirst keys list`). Default: all."
    ),
]


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(1)


def _workspace_id(session: Session, name: str | None) -> int | None:
    if name is None:
        return None
    workspace: Workspace | None = get_workspace_by_name(session=session, name=name)
    if workspace is None:
        _fail(f"No workspace '{name}'. Create it with `givefirst keys create {name}`.")
    return workspace.id


def _feed_line(feed: Feed) -> str:
    polled = feed.last_polled_at.strftime("%Y-%m-%d %H:%M") if feed.last_polled_at else "never"
    line = f"{feed.id}\t{feed.status}\t{polled}\t{feed.url}\t{feed.title or ''}"
    return f"{line}\t{feed.last_error}" if feed.last_error else line


def _result_line(result: "FeedPollResult") -> str:
    line = (
        f"{result.feed_id}\t{result.status}\t{result.saved} saved, {result.already_saved} "
        f"already saved, {result.too_old} too old\t{result.url}"
    )
    return f"{line}\t{result.error}" if result.error else line


@feeds_cli.command("list")
def list_command(workspace: WorkspaceOption = None) -> None:
    """The feeds, with how each one's last poll went (id, status, last poll, URL, title, error)."""
    from sqlalchemy import select

    _, sessions = open_records(get_settings())
    with session_scope(sessions) as session:
        workspace_id = _workspace_id(session, workspace)
        query = select(Feed).order_by(Feed.workspace_id, Feed.id)
        if workspace_id is not None:
            query = query.where(Feed.workspace_id == workspace_id)
        for feed in session.scalars(query):
            typer.echo(_feed_line(feed))


@feeds_cli.command("poll")
def poll_command(
    workspace: WorkspaceOption = None,
    wait: Annotated[
        float,
        typer.Option(
            min=0,
            help="When the running server polls: how many seconds to wait for it to finish.",
        ),
    ] = 300,
) -> None:
    """Poll every feed now (of one workspace, or all) and save their new items as articles.

    While `givefirst serve` runs on the embedded default it holds the vector store: the server
    is asked to poll them (at its next check) and this command waits for it.
    """
    from app.runtime import VectorStoreLockedError

    settings = get_settings()
    try:
        results = _poll_here(settings, workspace)
    except VectorStoreLockedError:
        _ask_the_server(settings, workspace, wait)
        return
    for result in results:
        typer.echo(_result_line(result))
    typer.echo(f"{len(results)} feed(s) polled.")


def _poll_here(settings: Settings, workspace: str | None) -> list["FeedPollResult"]:
    from app.feeds.poller import FeedPoller, poll_config
    from app.runtime import runtime_scope

    with runtime_scope(settings) as runtime:
        with session_scope(runtime.session_factory) as session:
            workspace_id = _workspace_id(session, workspace)
        factory = runtime.session_factory
        poller = FeedPoller(
            session_factory=factory,
            indexer=runtime.indexer,
            write_turn=lambda: session_scope(factory, write=True),
            config=poll_config(settings),
        )
        return poller.poll(workspace_id=workspace_id, due_only=False)


def _ask_the_server(settings: Settings, workspace: str | None, wait: float) -> None:
    from app.feeds.service import polled_since, request_poll, requested_feeds

    _, sessions = open_records(settings)
    asked_at = datetime.now(UTC)
    with session_scope(sessions, write=True) as session:
        workspace_id = _workspace_id(session, workspace)
        feed_ids = request_poll(session=session, workspace_id=workspace_id, now=asked_at)
    typer.echo(
        f"The server holds the vector store: asked it to poll {len(feed_ids)} feed(s) at its "
        f"next check (every {settings.feed_check_seconds:g} s).",
        err=True,
    )
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
    with session_scope(sessions) as session:
        for feed in requested_feeds(session=session, workspace_id=workspace_id, feed_ids=feed_ids):
            typer.echo(_feed_line(feed))
    if len(done) < len(feed_ids):
        _fail(
            f"{len(feed_ids) - len(done)} feed(s) not polled within {wait:g} s; the server "
            "polls them when it can (see `givefirst feeds list`)."
        )
    typer.echo(f"{len(feed_ids)} feed(s) polled by the server.")
