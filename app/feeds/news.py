"""What the feeds brought this week, and whom each item would help: the digest's "New this
week" (plain Python over the records and the suggestion engine)."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.feeds.schemas import NewItem
from app.models import Article, FeedItem, PainPoint, Workspace
from app.scoped import load_scoped, scoped
from app.suggestions.engine import SuggestionEngine
from app.suggestions.service import recipient

NEW_DAYS = 7
MAX_NEW_ITEMS = 10  # listed in a digest, those that help most first
RECIPIENTS_PER_ITEM = 3
# Each pain point is matched with its best few new items (not every one of a thousand).
ITEMS_PER_PAIN_POINT = 5


def _since(today: date) -> datetime:
    return datetime.combine(today - timedelta(days=NEW_DAYS - 1), time.min, UTC)


def any_new(*, session: Session, workspace: Workspace, today: date) -> bool:
    """Whether a feed saved an article for the workspace this week."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    FeedItem.workspace_id == workspace.id,
                    FeedItem.saved_article,
                    FeedItem.seen_at >= _since(today),
                )
            )
        )
    )


def new_this_week(
    *, session: Session, engine: SuggestionEngine, workspace: Workspace, today: date
) -> list[NewItem]:
    """The articles feeds saved in the last ``NEW_DAYS`` days that clear the relevance floor for
    someone's active pain point, with who and why; those that help most first."""
    article_ids = set(
        session.scalars(
            select(FeedItem.article_id).where(
                FeedItem.workspace_id == workspace.id,
                FeedItem.saved_article,
                FeedItem.seen_at >= _since(today),
                FeedItem.article_id.is_not(None),
            )
        )
    )
    ids = {i for i in article_ids if i is not None}
    if not ids:
        return []
    pain_points = session.scalars(scoped(PainPoint, workspace.id).where(PainPoint.active)).all()
    found = engine.recipients_of_articles(
        workspace_id=workspace.id,
        article_ids=ids,
        pain_points=pain_points,
        today=today,
        per_pain_point=ITEMS_PER_PAIN_POINT,
    )
    articles = load_scoped(session, Article, workspace.id, found.keys())
    ranked = sorted(
        (matches for article_id, matches in found.items() if article_id in articles),
        key=lambda matches: matches[0].score,
        reverse=True,
    )[:MAX_NEW_ITEMS]
    items = []
    for matches in ranked:
        article = articles[matches[0].hit.record_id]
        items.append(
            NewItem(
                article_id=article.id,
                title=article.title,
                url=article.url,
                recipients=[recipient(article, m, today) for m in matches[:RECIPIENTS_PER_ITEM]],
            )
        )
    return items
