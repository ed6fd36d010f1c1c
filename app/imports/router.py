"""HTTP routes to bring records in (files, URLs, a workspace export) and take them out."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Response, UploadFile, status
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session

from app.articles.schemas import ArticlePublic, ArticleSaved
from app.config import Settings
from app.deps import (
    IndexerDep,
    SessionDep,
    SettingsDep,
    WorkspaceDep,
    WorkspaceOutsideTurnDep,
    WriteTurnDep,
)
from app.formats import ArticleFormat, ContactFormat
from app.imports import export, service
from app.imports.fetch import FetchError, fetch_policy
from app.imports.parsers.common import FileRejected
from app.imports.schemas import (
    ArticleFromUrl,
    ImportReport,
    RestoreReport,
    WorkspaceDocument,
)
from app.indexing import RecordIndexer
from app.models import Workspace
from app.uploads import FORM_FORMAT, REJECTED_UPLOAD, UploadedFile, chosen_format, read_upload

router = APIRouter(tags=["import and export"])


def _rejected(error: Exception) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error))


def _import(
    apply: Callable[..., ImportReport],
    file: UploadFile,
    session: Session,
    indexer: RecordIndexer,
    workspace: Workspace,
    settings: Settings,
    format_name: str | None,
) -> ImportReport:
    data = read_upload(file, settings.import_max_bytes)
    try:
        return apply(
            session=session,
            indexer=indexer,
            workspace=workspace,
            data=data,
            format_name=format_name,
            today=date.today(),
        )
    except FileRejected as error:
        raise _rejected(error) from error


@router.post("/imports/contacts", responses=REJECTED_UPLOAD)
def import_contacts(
    file: UploadedFile,
    session: SessionDep,
    indexer: IndexerDep,
    workspace: WorkspaceDep,
    settings: SettingsDep,
    format_query: Annotated[
        ContactFormat | None,
        Query(alias="format", description="Default: detected from the file."),
    ] = None,
    format_form: Annotated[ContactFormat | None, Form(alias="format"), FORM_FORMAT] = None,
) -> ImportReport:
    """Import a LinkedIn ``Connections.csv``, a Google Contacts CSV, a vCard file, or the
    service's own contacts CSV or vCard export.

    New contacts get the file's tier (the service's own exports) or the workspace's default
    tier. A contact already stored (same e-mail, else same LinkedIn URL, else same name and
    company) is updated, so importing a file twice creates no duplicates; the file's notes are
    appended to the stored ones, never put in their place. Rows that cannot be read are skipped
    and listed in the report.
    """
    return _import(
        service.import_contact_file,
        file,
        session,
        indexer,
        workspace,
        settings,
        chosen_format(format_query, format_form),
    )


@router.post("/imports/articles", responses=REJECTED_UPLOAD)
def import_articles(
    file: UploadedFile,
    session: SessionDep,
    indexer: IndexerDep,
    workspace: WorkspaceDep,
    settings: SettingsDep,
    format_query: Annotated[
        ArticleFormat | None,
        Query(alias="format", description="Default: detected from the file."),
    ] = None,
    format_form: Annotated[ArticleFormat | None, Form(alias="format"), FORM_FORMAT] = None,
) -> ImportReport:
    """Import browser bookmarks (folders become tags), an OPML feed list or an RSS/Atom feed.

    A link already saved keeps its title and text and gains the file's tags. The feeds of an
    OPML list are subscribed to (see `POST /feeds`): their items are saved as they are polled.
    """
    return _import(
        partial(service.import_article_file, feed_poll_minutes=settings.feed_poll_minutes),
        file,
        session,
        indexer,
        workspace,
        settings,
        chosen_format(format_query, format_form),
    )


@router.post(
    "/articles/from-url",
    tags=["articles"],
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": ArticleSaved, "description": "The URL was saved already: refreshed."},
        422: {"description": "Not a public http(s) web page, too large, too slow, or unreadable."},
    },
)
def save_article_from_url(
    data: ArticleFromUrl,
    response: Response,
    workspace: WorkspaceOutsideTurnDep,
    write_turn: WriteTurnDep,
    indexer: IndexerDep,
    settings: SettingsDep,
) -> ArticleSaved:
    """Fetch a web page and save its title and main text as an article.

    Only public http(s) pages: hosts that resolve to loopback, private, link-local or cloud
    metadata addresses are refused, and so are non-HTML answers, pages over the size limit and
    servers slower than the time limit. Redirects are checked hop by hop.
    """
    try:
        # Fetched and read before the write turn is taken: a slow page holds up no other writes.
        page = service.read_page(data.url, fetch_policy(settings))
        with write_turn() as session:
            article, created = service.save_page(
                session=session,
                indexer=indexer,
                workspace=workspace,
                page=page,
                tags=data.tags,
                today=date.today(),
            )
    except FetchError as error:
        raise _rejected(error) from error
    if not created:
        response.status_code = status.HTTP_200_OK
    return ArticleSaved(**ArticlePublic.model_validate(article).model_dump(), created=created)


@router.post(
    "/imports/workspace",
    responses={
        **REJECTED_UPLOAD,
        409: {"description": "The workspace is not empty: a restore goes into an empty one."},
    },
)
def restore_workspace(
    file: UploadedFile,
    session: SessionDep,
    indexer: IndexerDep,
    workspace: WorkspaceDep,
    settings: SettingsDep,
) -> RestoreReport:
    """Restore a ``GET /export`` document into this workspace, which must be empty."""
    data = read_upload(file, settings.restore_max_bytes)
    try:
        document = export.read_document(data)
        counts = export.restore_workspace(
            session=session,
            indexer=indexer,
            workspace=workspace,
            document=document,
            today=date.today(),
            now=datetime.now(UTC),
            feed_poll_minutes=settings.feed_poll_minutes,
        )
    except FileRejected as error:
        raise _rejected(error) from error
    except export.WorkspaceNotEmptyError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    return RestoreReport(**counts)


def _attachment(workspace_name: str, extension: str) -> dict[str, str]:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in workspace_name)
    filename = f"givefirst-{safe}-{date.today().isoformat()}.{extension}"
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


@router.get("/export")
def export_workspace(
    response: Response, session: SessionDep, workspace: WorkspaceDep
) -> WorkspaceDocument:
    """The whole workspace as one JSON document: contacts with their pain points and expertise,
    articles, gives, asks and the suggestions acted on (sent or dismissed)."""
    response.headers.update(_attachment(workspace.name, "json"))
    return export.export_workspace(session=session, workspace=workspace, now=datetime.now(UTC))


@router.get(
    "/export/contacts.vcf",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/vcard": {}}}},
)
def export_contacts_vcard(session: SessionDep, workspace: WorkspaceDep) -> PlainTextResponse:
    """Every contact as vCard 3.0, for an address book."""
    return PlainTextResponse(
        export.contacts_vcard(session=session, workspace=workspace),
        media_type="text/vcard; charset=utf-8",
        headers=_attachment(workspace.name, "vcf"),
    )


@router.get(
    "/export/contacts.csv",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_contacts_csv(session: SessionDep, workspace: WorkspaceDep) -> PlainTextResponse:
    """Every contact as CSV (pain points and expertise one per line inside their cell)."""
    return PlainTextResponse(
        export.contacts_csv(session=session, workspace=workspace),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(workspace.name, "csv"),
    )
