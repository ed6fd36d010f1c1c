"""``givefirst import …`` and ``givefirst export``: the same services as the API, from files."""

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db import open_records, session_scope
from app.formats import ArticleFormat, ContactFormat, ExportFormat, TouchFormat
from app.imports.parsers.common import FileRejected
from app.models import Workspace
from app.workspaces.service import DEFAULT_WORKSPACE, get_workspace_by_name

if TYPE_CHECKING:
    from app.imports.schemas import ImportReport
    from app.indexing import RecordIndexer

# The import and export services (and the search code behind them) are imported by the commands
# that run them: `givefirst keys …` loads this module too and needs none of it.

import_cli = typer.Typer(
    help="Import contacts, articles or a workspace export (needs the vector store: stop "
    "`givefirst serve` first on the embedded default).",
    no_args_is_help=True,
)

WorkspaceOption = Annotated[
    str, typer.Option("--workspace", "-w", help="Workspace name (see `givefirst keys list`).")
]
FileArgument = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The file to read.")
]


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(1)


def _read(path: Path, limit: int) -> bytes:
    with path.open("rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        _fail(f"{path} is larger than the {limit:,} bytes allowed; nothing was imported.")
    return data


def _workspace(session: Session, name: str) -> Workspace:
    workspace = get_workspace_by_name(session=session, name=name)
    if workspace is None:
        _fail(f"No workspace '{name}'. Create it with `givefirst keys create {name}`.")
    return workspace


def _apply(
    name: str,
    settings: Settings,
    apply: Callable[[Session, "RecordIndexer", Workspace], list[str]],
) -> None:
    """Run ``apply`` in one transaction with the index open, and print what it says."""
    from app.imports import export
    from app.runtime import VectorStoreLockedError, runtime_scope

    try:
        with (
            runtime_scope(settings) as runtime,
            session_scope(runtime.session_factory, write=True) as session,
        ):
            lines = apply(session, runtime.indexer, _workspace(session, name))
    except (FileRejected, VectorStoreLockedError, export.WorkspaceNotEmptyError) as error:
        _fail(str(error))
    for line in lines:
        typer.echo(line)


def _file_import(
    apply: Callable[..., "ImportReport"], path: Path, workspace: str, format_name: str | None
) -> None:
    settings = get_settings()
    data = _read(path, settings.import_max_bytes)

    def run(session: Session, indexer: "RecordIndexer", ws: Workspace) -> list[str]:
        report = apply(
            session=session,
            indexer=indexer,
            workspace=ws,
            data=data,
            format_name=format_name,
            today=date.today(),
        )
        return report.summary_lines()

    _apply(workspace, settings, run)


@import_cli.command("contacts")
def import_contacts(
    file: FileArgument,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    format_name: Annotated[
        ContactFormat | None, typer.Option("--format", help="Default: detected.")
    ] = None,
) -> None:
    """Import a LinkedIn Connections.csv, a Google Contacts CSV or a vCard (.vcf) file."""
    from app.imports import service

    _file_import(service.import_contact_file, file, workspace, format_name)


@import_cli.command("articles")
def import_articles(
    file: FileArgument,
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    format_name: Annotated[
        ArticleFormat | None, typer.Option("--format", help="Default: detected.")
    ] = None,
) -> None:
    """Import browser bookmarks (HTML), an OPML feed list (its feeds are subscribed to) or an
    RSS/Atom feed."""
    from app.imports import service

    apply = partial(service.import_article_file, feed_poll_minutes=get_settings().feed_poll_minutes)
    _file_import(apply, file, workspace, format_name)


@import_cli.command("touches")
def import_touches(
    paths: Annotated[
        list[Path],
        typer.Argument(
            exists=True,
            readable=True,
            help="Calendar (.ics), mbox or .eml files, or folders of .eml files.",
        ),
    ],
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    format_name: Annotated[
        TouchFormat | None, typer.Option("--format", help="Default: detected.")
    ] = None,
) -> None:
    """Log meetings and e-mails with your contacts from a calendar export or from mail (Gmail
    Takeout's .mbox, a folder of .eml files). Importing a file again logs nothing twice. Needs
    the database only: works while the server runs."""
    from app.touches import service as touches

    settings = get_settings()
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.eml")) if path.is_dir() else [path])
    if not files:
        _fail("No file to import: the folders hold no .eml file.")
    engine, sessions = open_records(settings)
    lines: list[str] = []
    try:
        with session_scope(sessions, write=True) as session:
            ws = _workspace(session, workspace)
            for path in files:
                report = touches.import_touch_file(
                    session=session,
                    workspace=ws,
                    data=_read(path, settings.import_max_bytes),
                    format_name=format_name,
                    today=date.today(),
                )
                lines.append(f"{path}:")
                lines.extend(report.summary_lines())
    except FileRejected as error:
        _fail(f"{path}: {error}")
    finally:
        engine.dispose()
    for line in lines:
        typer.echo(line)


@import_cli.command("workspace")
def import_workspace(file: FileArgument, workspace: WorkspaceOption = DEFAULT_WORKSPACE) -> None:
    """Restore a `givefirst export` document into an empty workspace."""
    from app.imports import export

    settings = get_settings()
    data = _read(file, settings.restore_max_bytes)

    def run(session: Session, indexer: "RecordIndexer", ws: Workspace) -> list[str]:
        counts = export.restore_workspace(
            session=session,
            indexer=indexer,
            workspace=ws,
            document=export.read_document(data),
            today=date.today(),
            now=datetime.now(UTC),
            feed_poll_minutes=settings.feed_poll_minutes,
        )
        return ["Restored: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + "."]

    _apply(workspace, settings, run)


def export_command(
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
    format_name: Annotated[
        ExportFormat,
        typer.Option("--format", help="json: the whole workspace; vcard, csv: contacts."),
    ] = ExportFormat.json,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Write the whole workspace as JSON (for `givefirst import workspace`), or contacts as
    vCard or CSV. Reads the database only: works while the server runs."""
    from app.imports import export

    engine, sessions = open_records(get_settings())
    try:
        with session_scope(sessions) as session:
            ws = _workspace(session, workspace)
            if format_name is ExportFormat.json:
                document = export.export_workspace(
                    session=session, workspace=ws, now=datetime.now(UTC)
                )
                text = json.dumps(document.model_dump(mode="json"), ensure_ascii=False, indent=1)
            elif format_name is ExportFormat.vcard:
                text = export.contacts_vcard(session=session, workspace=ws)
            else:
                text = export.contacts_csv(session=session, workspace=ws)
    finally:
        engine.dispose()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8", newline="")
        typer.echo(f"Wrote {output}.", err=True)
