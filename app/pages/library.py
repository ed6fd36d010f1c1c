"""The web page's Library: save an article by its web address (fetched and read as
``POST /articles/from-url`` does) or by pasting its title and text, then see at once who it would
help (the recipients ranking of GET /articles/{id}/recipients) and suggest it to the ones ticked
(POST /articles/{id}/recipients/suggestions).

A refused form comes back as typed, with the API's message. The fetch of a web address holds
neither the write turn nor a database connection: like the API route, the page reads the
workspace in a session of its own and takes the write turn only to save.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse

from app.articles import service as articles
from app.articles.schemas import ArticleCreate
from app.db import session_scope
from app.deps import IndexerDep, RecordId, SessionDep, SettingsDep, WriteTurnDep
from app.imports.router import save_article_from_url
from app.imports.schemas import ArticleFromUrl
from app.models import Article, Contact, Workspace
from app.pages.router import engine_of, is_htmx, render, see, validated
from app.pages.session import (
    CsrfChecked,
    PageSession,
    PageSessionDep,
    PageWorkspaceDep,
    PageWorkspaceOutsideTurnDep,
)
from app.scoped import load_scoped
from app.suggestions import service as suggestions
from app.suggestions.router import suggest_article_to_recipients
from app.suggestions.schemas import RecipientChoice

router = APIRouter(include_in_schema=False)

RECENT = 20
RECIPIENTS = 10


def _library(
    request: Request,
    page: PageSession,
    session: SessionDep,
    workspace: Workspace,
    *,
    error: str | None = None,
    form: str | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """The Library; after a refused form (``form``: "url" or "text"), with what was typed and
    why (422)."""
    recent, total = articles.list_articles(
        session=session, workspace=workspace, search=None, tag=None, limit=RECENT, offset=0
    )
    return render(
        request,
        page,
        "library.html",
        {
            "workspace": workspace,
            "nav": "library",
            "articles": recent,
            "total": total,
            "error": error,
            "form": form,
            "values": values or {},
        },
        status.HTTP_422_UNPROCESSABLE_CONTENT if error else status.HTTP_200_OK,
    )


@router.get("/library", response_class=HTMLResponse)
def library_page(
    request: Request, page: PageSessionDep, session: SessionDep, workspace: PageWorkspaceDep
) -> Response:
    """The forms to save an article and the latest saved (as GET /articles)."""
    return _library(request, page, session, workspace)


@router.post("/library/articles", dependencies=[CsrfChecked])
def page_save_article(
    request: Request,
    page: PageSessionDep,
    session: SessionDep,
    indexer: IndexerDep,
    workspace: PageWorkspaceDep,
    title: Annotated[str, Form(max_length=1000)] = "",
    url: Annotated[str, Form(max_length=3000)] = "",
    text: Annotated[str, Form(max_length=2_000_000)] = "",
) -> Response:
    """As POST /articles (a URL saved already updates that article); then to the article's
    page, which shows who it would help."""
    try:
        data = validated(ArticleCreate, title=title.strip(), url=url.strip(), text=text.strip())
    except HTTPException as error:
        values = {"title": title, "url": url, "text": text}
        return _library(
            request, page, session, workspace, error=str(error.detail), form="text", values=values
        )
    article, _ = articles.save_article(
        session=session, indexer=indexer, workspace=workspace, data=data, today=date.today()
    )
    session.flush()
    return see(f"/library/articles/{article.id}")


@router.post("/library/articles/from-url", dependencies=[CsrfChecked])
def page_save_article_from_url(
    request: Request,
    page: PageSessionDep,
    workspace: PageWorkspaceOutsideTurnDep,
    write_turn: WriteTurnDep,
    indexer: IndexerDep,
    settings: SettingsDep,
    url: Annotated[str, Form(max_length=3000)] = "",
) -> Response:
    """As POST /articles/from-url (the same route, called with the form's address): fetched
    without the write turn, saved with it; then to the article's page."""
    try:
        data = validated(ArticleFromUrl, url=url.strip())
        saved = save_article_from_url(data, Response(), workspace, write_turn, indexer, settings)
    except HTTPException as error:
        if error.status_code != status.HTTP_422_UNPROCESSABLE_CONTENT:
            raise
        with session_scope(request.app.state.session_factory) as session:
            return _library(
                request,
                page,
                session,
                workspace,
                error=str(error.detail),
                form="url",
                values={"url": url},
            )
    return see(f"/library/articles/{saved.id}")


def _article_or_404(session: SessionDep, workspace: Workspace, article_id: int) -> Article:
    article = articles.get_article(session=session, workspace=workspace, article_id=article_id)
    if article is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Article {article_id} not found.")
    return article


def _article_context(
    request: Request, session: SessionDep, workspace: Workspace, article: Article
) -> dict[str, Any]:
    recipients = suggestions.recipients_for_article(
        session=session,
        engine=engine_of(request),
        article=article,
        today=date.today(),
        limit=RECIPIENTS,
    )
    return {"workspace": workspace, "nav": "library", "article": article, "recipients": recipients}


@router.get(
    "/library/articles/{article_id}",
    response_class=HTMLResponse,
)
def article_page(
    request: Request,
    article_id: RecordId,
    page: PageSessionDep,
    session: SessionDep,
    workspace: PageWorkspaceDep,
) -> Response:
    """The article and its recipients, as GET /articles/{id}/recipients ranks them, each with a
    box to tick (a snoozed contact's is not ticked at first)."""
    article = _article_or_404(session, workspace, article_id)
    return render(
        request, page, "article.html", _article_context(request, session, workspace, article)
    )


@router.post("/library/articles/{article_id}/suggestions", dependencies=[CsrfChecked])
def page_suggest_to_recipients(
    request: Request,
    article_id: RecordId,
    page: PageSessionDep,
    session: SessionDep,
    workspace: PageWorkspaceDep,
    contact_ids: Annotated[list[str], Form(max_length=100)] = [],  # noqa: B006 (FastAPI copies it)
) -> Response:
    """As POST /articles/{id}/recipients/suggestions (the same route, with the boxes ticked):
    the suggestions made, each linked to its contact's page."""
    article = _article_or_404(session, workspace, article_id)
    if not contact_ids:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "Tick at least one contact to suggest the article to.",
        )
    data = validated(RecipientChoice, contact_ids=contact_ids)
    made = suggest_article_to_recipients(request, article.id, data, session, workspace)
    people = load_scoped(session, Contact, workspace.id, (s.contact_id for s in made.items))
    context = {"made": [(s, people[s.contact_id]) for s in made.items if s.contact_id in people]}
    if is_htmx(request):
        return render(request, page, "_suggested.html", context)
    return render(
        request,
        page,
        "article.html",
        {**_article_context(request, session, workspace, article), **context},
    )
