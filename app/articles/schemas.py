"""Request and response bodies of the articles resource."""

from datetime import date, datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from app.schemas import (
    ArticleText,
    HttpUrlStr,
    InputModel,
    IsoDate,
    PatchModel,
    Summary,
    Tag,
    Title,
)

TagList = Annotated[list[Tag], Field(max_length=50)]


class ArticleCreate(InputModel):
    title: Title
    url: HttpUrlStr | None = Field(
        default=None, description="Saving a URL already saved updates that article."
    )
    summary: Summary | None = None
    text: ArticleText | None = Field(
        default=None, description="The article's text, if you have it."
    )
    tags: TagList = Field(default_factory=list)
    saved_on: IsoDate | None = Field(default=None, description="Default: today.")


class ArticleUpdate(PatchModel):
    not_nullable: ClassVar[frozenset[str]] = frozenset({"title", "tags", "saved_on"})

    title: Title | None = None
    url: HttpUrlStr | None = None
    summary: Summary | None = None
    text: ArticleText | None = None
    tags: TagList | None = None
    saved_on: IsoDate | None = None


class ArticlePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    url: str | None
    summary: str | None
    text: str | None
    tags: list[str]
    saved_on: date
    created_at: datetime
    updated_at: datetime


class ArticleSaved(ArticlePublic):
    created: bool = Field(
        description="False when the URL was already saved and that article was updated instead."
    )
