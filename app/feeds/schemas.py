"""Request and response bodies of the feeds resource."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.articles.schemas import TagList
from app.models import FeedStatus
from app.schemas import HttpUrlStr, InputModel
from app.suggestions.schemas import Recipient


class FeedCreate(InputModel):
    url: HttpUrlStr = Field(
        description="An RSS or Atom feed, or a web page that links one (its first feed is taken)."
    )
    tags: TagList = Field(
        default_factory=list, description="Given to every article saved from the feed."
    )


class FeedPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str = Field(description="The feed's own address (found on the page, if a page was given).")
    title: str | None
    site_url: str | None
    tags: list[str]
    status: FeedStatus = Field(
        description="new (not polled yet), ok, not_modified (304: nothing new) or error."
    )
    last_error: str | None = Field(description="Why the last poll failed, when it did.")
    failures: int = Field(description="Polls failed in a row; each doubles the wait to the next.")
    last_polled_at: datetime | None
    next_poll_at: datetime
    created_at: datetime


class FeedSaved(FeedPublic):
    created: bool = Field(description="False when the workspace was subscribed already.")


class FeedsAsked(BaseModel):
    """A poll asked for: the server polls these feeds at its next check."""

    feeds: int = Field(description="How many feeds the server will poll.")


class FeedPollResult(BaseModel):
    """What one poll of one feed did."""

    feed_id: int
    url: str
    status: FeedStatus
    new_items: int = Field(description="Items not seen before.")
    saved: int = Field(description="New articles saved.")
    already_saved: int = Field(
        description="New items that were saved already (the same link or text, from another "
        "feed or by hand): not saved twice."
    )
    too_old: int = Field(description="Items older than GIVEFIRST_FEED_MAX_AGE_DAYS: skipped.")
    pages_fetched: int = Field(description="Item pages fetched for their full text.")
    error: str | None = None


class NewItem(BaseModel):
    """An article a feed brought this week, and whom it would help (the digest's "New this
    week")."""

    article_id: int
    title: str
    url: str | None
    recipients: list[Recipient]
