"""The web page's Import: a contacts file (LinkedIn, Google, vCard), an articles file
(bookmarks, OPML, a feed) or a touches file (.ics, .mbox, .eml), each answered with its
import report.

Each form calls the API route itself (``POST /imports/contacts``, ``/imports/articles``,
``/imports/touches``) within the signed-in workspace, so the upload limit, the format check and
the message of a file that cannot be read are the API's. The forms post under ``/imports/page/``
so the body-size ceiling applied before the body is read is the API uploads' too
(``app.imports.limits.body_limit``).
"""

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from app.deps import IndexerDep, SessionDep, SettingsDep
from app.formats import ArticleFormat, ContactFormat, TouchFormat
from app.imports.router import import_articles, import_contacts
from app.imports.schemas import ImportReport
from app.models import Workspace
from app.pages.router import is_htmx, render
from app.pages.session import CsrfChecked, PageSession, PageSessionDep, PageWorkspaceDep
from app.touches.router import import_touches
from app.touches.schemas import TouchImportReport

router = APIRouter(include_in_schema=False)

UploadedFile = Annotated[UploadFile, File()]
FORMAT_LABELS = {
    ContactFormat.linkedin: "LinkedIn Connections.csv",
    ContactFormat.google: "Google Contacts CSV",
    ContactFormat.vcard: "vCard (.vcf)",
    ContactFormat.givefirst: "This service's contacts export",
    ArticleFormat.bookmarks: "Browser bookmarks (HTML)",
    ArticleFormat.opml: "OPML feed list",
    ArticleFormat.feed: "RSS or Atom feed",
    TouchFormat.ics: "Calendar (.ics)",
    TouchFormat.mbox: "Mailbox (.mbox)",
    TouchFormat.eml: "One message (.eml)",
}
KINDS = (
    {
        "kind": "contacts",
        "title": "Contacts",
        "hint": "A LinkedIn Connections.csv, a Google Contacts CSV or a vCard file. A contact "
        "already stored is updated, never duplicated.",
        "accept": ".csv,.vcf,.vcard,text/csv,text/vcard",
        "formats": tuple(ContactFormat),
    },
    {
        "kind": "articles",
        "title": "Articles",
        "hint": "Browser bookmarks (folders become tags), an OPML feed list (its feeds are "
        "subscribed to) or an RSS/Atom feed.",
        "accept": ".html,.htm,.opml,.xml,.rss,.atom",
        "formats": tuple(ArticleFormat),
    },
    {
        "kind": "touches",
        "title": "Touches",
        "hint": "A calendar (.ics) or mail (.mbox, .eml): the contacts in each event or message "
        "get a touch; people who are not contacts are listed, never created.",
        "accept": ".ics,.mbox,.eml,text/calendar,message/rfc822",
        "formats": tuple(TouchFormat),
    },
)


def _answer(
    request: Request,
    page: PageSession,
    workspace: Workspace,
    kind: str,
    report: ImportReport | TouchImportReport,
) -> Response:
    """The report alone for htmx (swapped under its form), else the page with it."""
    context = {"kind": kind, "report": report, "format_labels": FORMAT_LABELS}
    if is_htmx(request):
        return render(request, page, "_import_report.html", context)
    return render(request, page, "import.html", {**_page_context(workspace), **context})


def _page_context(workspace: Workspace) -> dict[str, Any]:
    return {"workspace": workspace, "nav": "import", "kinds": KINDS, "labels": FORMAT_LABELS}


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, page: PageSessionDep, workspace: PageWorkspaceDep) -> Response:
    """One form per kind of file."""
    return render(request, page, "import.html", _page_context(workspace))


@router.post("/imports/page/contacts", dependencies=[CsrfChecked])
def page_import_contacts(
    request: Request,
    file: UploadedFile,
    page: PageSessionDep,
    session: SessionDep,
    indexer: IndexerDep,
    workspace: PageWorkspaceDep,
    settings: SettingsDep,
    format_name: Annotated[ContactFormat | None, Form(alias="format")] = None,
) -> Response:
    """As POST /imports/contacts."""
    report = import_contacts(
        file, session, indexer, workspace, settings, format_query=None, format_form=format_name
    )
    session.flush()
    return _answer(request, page, workspace, "contacts", report)


@router.post("/imports/page/articles", dependencies=[CsrfChecked])
def page_import_articles(
    request: Request,
    file: UploadedFile,
    page: PageSessionDep,
    session: SessionDep,
    indexer: IndexerDep,
    workspace: PageWorkspaceDep,
    settings: SettingsDep,
    format_name: Annotated[ArticleFormat | None, Form(alias="format")] = None,
) -> Response:
    """As POST /imports/articles."""
    report = import_articles(
        file, session, indexer, workspace, settings, format_query=None, format_form=format_name
    )
    session.flush()
    return _answer(request, page, workspace, "articles", report)


@router.post("/imports/page/touches", dependencies=[CsrfChecked])
def page_import_touches(
    request: Request,
    file: UploadedFile,
    page: PageSessionDep,
    session: SessionDep,
    workspace: PageWorkspaceDep,
    settings: SettingsDep,
    format_name: Annotated[TouchFormat | None, Form(alias="format")] = None,
) -> Response:
    """As POST /imports/touches."""
    report = import_touches(
        file, session, workspace, settings, format_query=None, format_form=format_name
    )
    session.flush()
    return _answer(request, page, workspace, "touches", report)
