"""``givefirst feeds poll`` and ``givefirst feeds list``.

``poll`` polls now (``app.feeds.polling``): in this process when the vector store is free, else by
asking the running server.
"""

from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from sqlalchemy.orm import Session

from app.config import get_settings
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
    from app.feeds.service import feeds_of

    _, sessions = open_records(get_settings())
    with session_scope(sessions) as session:
        workspace_id = _workspace_id(session, workspace)
        query = feeds_of(workspace_id).order_by(Feed.workspace_id, Feed.id)
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
    from app.feeds.polling import poll_now
    from app.feeds.service import requested_feeds

    settings = get_settings()
    _, sessions = open_records(settings)
    with session_scope(sessions) as session:
        workspace_id = _workspace_id(session, workspace)

    def asked(count: int) -> None:
        typer.echo(
            f"The server holds the vector store: asked it to poll {count} feed(s) at its "
            f"next check (every {settings.feed_check_seconds:g} s).",
            err=True,
        )

    run = poll_now(settings, workspace_id, wait=wait, on_asked=asked)
    if run.asked is None:
        for result in run.results:
            typer.echo(_result_line(result))
        typer.echo(f"{len(run.results)} feed(s) polled.")
        return
    with session_scope(sessions) as session:
        for feed in requested_feeds(session=session, workspace_id=workspace_id, feed_ids=run.asked):
            typer.echo(_feed_line(feed))
    if run.late:
        _fail(
            f"{run.late} feed(s) not polled within {wait:g} s; the server "
            "polls them when it can (see `givefirst feeds list`)."
        )
    typer.echo(f"{len(run.asked)} feed(s) polled by the server.")
