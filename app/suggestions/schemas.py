"""Response and request bodies of suggestions and recipients."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from app.schemas import InputModel


class PainPointRef(BaseModel):
    id: int
    text: str
    noted_on: date


class ArticleRef(BaseModel):
    id: int
    title: str
    url: str | None


class ContactRef(BaseModel):
    id: int
    name: str
    title: str | None
    company: str | None


class SuggestionPublic(BaseModel):
    id: int
    kind: Literal["article", "introduction", "check_in"]
    contact_id: int
    status: Literal["open", "sent", "dismissed"]
    score: float = Field(
        description="Relevance, weighted by the pain point's age; 0 for check-ins."
    )
    reason: str = Field(description="Why this was suggested, in one sentence.")
    pain_point: PainPointRef | None = Field(description="The pain point this answers.")
    matched_text: str | None = Field(
        description="The article passage or expertise line that matched the pain point."
    )
    article: ArticleRef | None
    introduce: ContactRef | None = Field(description="Whom to introduce the contact to.")
    draft: str | None = Field(description="A message to send: a gift, no ask.")
    drafts: dict[str, str] | None = Field(
        description="Introductions: one draft to each person (double opt-in)."
    )


class SuggestionList(BaseModel):
    items: list[SuggestionPublic]


DismissReason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[a-z_]+$")
]


class DismissRequest(InputModel):
    reason: DismissReason = Field(
        description=(
            "not_relevant (also lowers similar articles for this contact), already_has_it, "
            "bad_timing, or another snake_case word."
        ),
        examples=["not_relevant"],
    )


class Recipient(BaseModel):
    contact: ContactRef
    score: float
    pain_point: PainPointRef
    matched_text: str


class RecipientList(BaseModel):
    items: list[Recipient]
