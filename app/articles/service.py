"""Saved articles: plain functions over a session."""

from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.articles.schemas import ArticleCreate, ArticleUpdate
from app.indexing import RecordIndexer
from app.models import Article, Workspace, article_text_hash
from app.paging import paginate
from app.schemas import like_pattern, normalize_url
from app.scoped import get_scoped


class DuplicateUrlError(ValueError):
    """Another article of the workspace already has this URL."""

    def __init__(self, existing_id: int) -> None:
        super().__init__(f"Article {existing_id} already has this URL.")
        self.existing_id = existing_id


def _unique_tags(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


def get_article(*, session: Session, workspace: Workspace, article_id: int) -> Article | None:
    return get_scoped(session, Article, workspace.id, article_id)


def find_by_url(*, session: Session, workspace: Workspace, url: str) -> Article | None:
    return session.scalar(
        select(Article).where(Article.workspace_id == workspace.id, Article.url == url)
    )


def list_articles(
    *,
    session: Session,
    workspace: Workspace,
    search: str | None = None,
    tag: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Article], int]:
    """A page of articles, newest saved first, filtered by a title/summary/URL search and a tag."""
    query = select(Article).where(Article.workspace_id == workspace.id)
    if search:
        pattern = like_pattern(search)
        query = query.where(
            or_(
                func.lower(Article.title).like(pattern, escape="\\"),
                func.lower(Article.summary).like(pattern, escape="\\"),
                func.lower(Article.url).like(pattern, escape="\\"),
            )
        )
    query = query.order_by(Article.saved_on.desc(), Article.id.desc())
    # Tags are a JSON list: filtered in Python to stay portable across SQLite and PostgreSQL.
    keep = (lambda a: tag in a.tags) if tag else None
    return paginate(session, query, limit=limit, offset=offset, keep=keep)


def save_article(
    *,
    session: Session,
    indexer: RecordIndexer,
    workspace: Workspace,
    data: ArticleCreate,
    today: date,
) -> tuple[Article, bool]:
    """Create the article, or update the one already saved under the same URL.

    Returns the article and whether it was created.
    """
    url = normalize_url(data.url) if data.url else None
    article = find_by_url(session=session, workspace=workspace, url=url) if url else None
    created = article is None
    if article is None:
        article = Article(workspace_id=workspace.id)
        session.add(article)
    article.title = data.title
    article.url = url
    article.summary = data.summary
    article.text = data.text
    article.tags = _unique_tags(data.tags)
    article.saved_on = data.saved_on or (article.saved_on if not created else today)
    article.text_hash = article_text_hash(article.text, article.summary)
    session.flush()
    indexer.sync_article(article)
    return article, created


def update_article(
    *,
    session: Session,
    indexer: RecordIndexer,
    workspace: Workspace,
    article: Article,
    data: ArticleUpdate,
) -> Article:
    changes = data.model_dump(exclude_unset=True)
    if changes.get("url"):
        changes["url"] = normalize_url(changes["url"])
        other = find_by_url(session=session, workspace=workspace, url=changes["url"])
        if other is not None and other.id != article.id:
            raise DuplicateUrlError(other.id)
    if "tags" in changes:
        changes["tags"] = _unique_tags(changes["tags"])
    for name, value in changes.items():
        setattr(article, name, value)
    article.text_hash = article_text_hash(article.text, article.summary)
    session.flush()
    indexer.sync_article(article)
    return article


def delete_article(*, session: Session, indexer: RecordIndexer, article: Article) -> None:
    indexer.remove_article(article)
    session.delete(article)
    session.flush()
