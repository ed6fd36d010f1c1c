"""HTTP routes of the articles resource."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from app.articles import service
from app.articles.schemas import ArticleCreate, ArticlePublic, ArticleSaved, ArticleUpdate
from app.deps import IndexerDep, PagingDep, RecordId, SessionDep, WorkspaceDep
from app.models import Article
from app.schemas import Page

router = APIRouter(prefix="/articles", tags=["articles"])


def _article_or_404(session: SessionDep, workspace: WorkspaceDep, article_id: int) -> Article:
    article = service.get_article(session=session, workspace=workspace, article_id=article_id)
    if article is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Article {article_id} not found.")
    return article


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": ArticleSaved, "description": "The URL was saved already: updated."}},
)
def save_article(
    data: ArticleCreate,
    response: Response,
    session: SessionDep,
    indexer: IndexerDep,
    workspace: WorkspaceDep,
) -> ArticleSaved:
    """Save an article; a URL already saved updates that article (200, ``created: false``)."""
    article, created = service.save_article(
        session=session, indexer=indexer, workspace=workspace, data=data, today=date.today()
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return ArticleSaved(**ArticlePublic.model_validate(article).model_dump(), created=created)


@router.get("")
def list_articles(
    session: SessionDep,
    workspace: WorkspaceDep,
    paging: PagingDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Search title, summary, URL")
    ] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[ArticlePublic]:
    """The articles you saved, a page at a time, the latest saved first: search the title,
    summary and URL, or filter by tag."""
    articles, total = service.list_articles(
        session=session,
        workspace=workspace,
        search=q,
        tag=tag,
        limit=paging.limit,
        offset=paging.offset,
    )
    return paging.page([ArticlePublic.model_validate(a) for a in articles], total)


@router.get("/{article_id}")
def get_article(
    article_id: RecordId, session: SessionDep, workspace: WorkspaceDep
) -> ArticlePublic:
    """One saved article, with its text."""
    return ArticlePublic.model_validate(_article_or_404(session, workspace, article_id))


@router.patch("/{article_id}", responses={409: {"description": "Another article has this URL."}})
def update_article(
    article_id: RecordId,
    data: ArticleUpdate,
    session: SessionDep,
    indexer: IndexerDep,
    workspace: WorkspaceDep,
) -> ArticlePublic:
    """Change an article: only the fields sent change. A new title, summary or text is
    what suggestions match from then on."""
    article = _article_or_404(session, workspace, article_id)
    try:
        service.update_article(
            session=session, indexer=indexer, workspace=workspace, article=article, data=data
        )
    except service.DuplicateUrlError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    return ArticlePublic.model_validate(article)


@router.delete("/{article_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_article(
    article_id: RecordId, session: SessionDep, indexer: IndexerDep, workspace: WorkspaceDep
) -> None:
    """Delete an article; gives already logged keep its URL and a hash of its text, so it is
    never suggested again to whoever received it."""
    article = _article_or_404(session, workspace, article_id)
    service.delete_article(session=session, indexer=indexer, article=article)
