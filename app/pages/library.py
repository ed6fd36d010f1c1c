"""The web page's Library: save an article by pasting its title and text (and its URL if any),
then see at once who it would help (the recipients ranking of GET /articles/{id}/recipients).

The API has no operation that turns recipients into stored suggestions, so each recipient links
to their contact's page, where the suggestions for them are made and can be marked sent.
"""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response

from app.articles import service as articles
from app.articles.schemas import ArticleCreate
from app.deps import IndexerDep, RecordId, SessionDep
from app.pages.router import engine_of, render, see, validated
from app.pages.session import CsrfChecked, PageSessionDep, PageWorkspaceDep
from app.suggestions import service as suggestions

router = APIRouter(include_in_schema=False)

RECENT = 20
RECIPIENTS = 10


@router.get("/library", response_class=HTMLResponse)
def library_page(
    request: Request, page: PageSessionDep, session: SessionDep, workspace: PageWorkspaceDep
) -> Response:
    """The form to save an article and the latest saved (as GET /articles)."""
    recent, total = articles.list_articles(
        session=session, workspace=workspace, search=None, tag=None, limit=RECENT, offset=0
    )
    return render(
        request,
        page,
        "library.html",
        {"workspace": workspace, "nav": "library", "articles": recent, "total": total},
    )


@router.post("/library/articles", dependencies=[CsrfChecked])
def page_save_article(
    session: SessionDep,
    indexer: IndexerDep,
    workspace: PageWorkspaceDep,
    title: Annotated[str, Form(max_length=1000)] = "",
    url: Annotated[str, Form(max_length=3000)] = "",
    text: Annotated[str, Form(max_length=2_000_000)] = "",
) -> Response:
    """As POST /articles (a URL saved already updates that article); then to the article's
    page, which shows who it would help."""
    data = validated(ArticleCreate, title=title.strip(), url=url.strip(), text=text.strip())
    article, _ = articles.save_article(
        session=session, indexer=indexer, workspace=workspace, data=data, today=date.today()
    )
    session.flush()
    return see(f"/library/articles/{article.id}")


@router.get("/library/articles/{article_id}", response_class=HTMLResponse)
def article_page(
    request: Request,
    article_id: RecordId,
    page: PageSessionDep,
    session: SessionDep,
    workspace: PageWorkspaceDep,
) -> Response:
    """The article and its recipients, as GET /articles/{id}/recipients ranks them."""
    article = articles.get_article(session=session, workspace=workspace, article_id=article_id)
    if article is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Article {article_id} not found.")
    recipients = suggestions.recipients_for_article(
        session=session,
        engine=engine_of(request),
        article=article,
        today=date.today(),
        limit=RECIPIENTS,
    )
    return render(
        request,
        page,
        "article.html",
        {"workspace": workspace, "nav": "library", "article": article, "recipients": recipients},
    )
