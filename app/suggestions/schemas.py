"""Response and request bodies of suggestions and recipients."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from app.models import DismissReason, SuggestionKind, SuggestionStatus
from app.schemas import ComingIsoDate, InputModel


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
    kind: SuggestionKind
    contact_id: int
    status: SuggestionStatus
    dismissed_until: date | None = Field(
        description="Dismissed as bad timing: the day the same gift may be suggested again "
        "(null: dismissed for ever, or not dismissed)."
    )
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
    draft: str | None = Field(
        description=(
            "Articles and check-ins: the short e-mail of ``drafts`` (``drafts.email``); null for "
            "introductions, which have one message for each person."
        )
    )
    drafts: dict[str, str] = Field(
        description=(
            "Messages to send, each a gift with no ask, in two lengths: a one-line note and a "
            "short e-mail ending with the workspace's signature. Articles and check-ins: "
            "``note``, ``email``. Introductions (double opt-in: each person is asked first, and "
            "neither learns who the other is until both agree): ``to_contact_note``, "
            "``to_contact_email``, ``to_introduced_note``, ``to_introduced_email``."
        ),
        examples=[
            {
                "note": "Dana, you mentioned you need a search firm for your CHRO role. "
                "“Choosing a retained search firm” may help: https://example.org/search "
                "No need to reply.",
                "email": "Hi Dana,\n\nWhen we last spoke, you mentioned you need a search "
                "firm for your CHRO role. I came across “Choosing a retained search firm” and "
                "thought it may help with that.\n\nhttps://example.org/search\n\nNo need to "
                "reply. I hope it's useful.\n\nBest,\nSam\n",
            }
        ],
    )


class SuggestionList(BaseModel):
    items: list[SuggestionPublic]


DismissReasonWord = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[a-z_]+$")
]


class DismissRequest(InputModel):
    reason: DismissReasonWord = Field(
        description=(
            "not_relevant (also lowers similar articles for this contact), already_has_it, "
            "bad_timing (set aside until a day, then it may come back), or another snake_case "
            "word. Every reason but bad_timing is for ever."
        ),
        examples=["not_relevant"],
    )
    until: ComingIsoDate | None = Field(
        default=None,
        description="bad_timing only: the day the gift may be suggested again; default: "
        "GIVEFIRST_BAD_TIMING_DAYS (30) days from today.",
    )

    @model_validator(mode="after")
    def _until_is_for_bad_timing(self) -> "DismissRequest":
        if self.until is not None and self.reason != DismissReason.bad_timing:
            raise ValueError(
                f"'until' goes with the reason {DismissReason.bad_timing} only: "
                f"'{self.reason}' is for ever"
            )
        return self


class Recipient(BaseModel):
    contact: ContactRef
    score: float
    pain_point: PainPointRef
    matched_text: str
    snoozed_until: date | None = Field(
        default=None,
        description="The contact is snoozed (off the lists) until this day; null if not. Still "
        "offered: a suggestion made for them waits on their page.",
    )


class RecipientList(BaseModel):
    items: list[Recipient]


RecordIdValue = Annotated[int, Field(ge=1, le=2**63 - 1)]


class RecipientChoice(InputModel):
    contact_ids: Annotated[list[RecordIdValue], Field(min_length=1, max_length=100)] = Field(
        description="The contacts to suggest the article to (ids from GET "
        "/articles/{id}/recipients), at most 100; each must have a pain point it answers."
    )
