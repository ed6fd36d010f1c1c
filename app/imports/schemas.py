"""Import reports, the save-by-URL request and the workspace export document."""

from typing import Annotated, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from app.articles.schemas import TagList
from app.contacts.schemas import ExpertiseList, PhoneList
from app.ledger.schemas import Description
from app.models import GiveKind, SuggestionKind, TouchKind, TouchSource
from app.schemas import (
    ArticleText,
    HttpUrlStr,
    InputModel,
    IsoDate,
    Name,
    NoNul,
    Notes,
    PainPointText,
    PastIsoDate,
    ShortText,
    Signature,
    StoredUrl,
    Summary,
    TierText,
    Timestamp,
    Title,
)
from app.suggestions.schemas import DismissReasonWord

Ref = Annotated[int, Field(ge=1, le=10_000_000)]
TextHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
LongText = Annotated[str, StringConstraints(max_length=20_000), NoNul]
# The SuggestionStatus values of an acted suggestion (a Literal of strings, so that a refusal
# says "must be sent or dismissed").
ActedStatus = Literal["sent", "dismissed"]


class RowProblem(BaseModel):
    record: int = Field(description="The record's number in the file: 1 is the first row or card.")
    line: int | None = Field(description="The line of the file it starts on, where known.")
    reason: str


class ImportReport(BaseModel):
    format: str = Field(description="The format the file was read as.")
    created: int
    updated: int = Field(description="Records matched and changed by the file.")
    unchanged: int = Field(description="Records matched that the file had nothing new for.")
    skipped: int
    skipped_rows: list[RowProblem] = Field(description="Each skipped record and why.")
    warnings: list[RowProblem] = Field(
        description="Records kept with something left out, and what."
    )

    def summary_lines(self) -> list[str]:
        """The report as lines of text (for the command line)."""
        lines = [
            f"Read as {self.format}: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.skipped} skipped."
        ]
        for label, problems in (("skipped", self.skipped_rows), ("warning", self.warnings)):
            for p in problems:
                where = f"line {p.line}" if p.line is not None else f"record {p.record}"
                lines.append(f"  {label}: {where}: {p.reason}")
        return lines


class ArticleFromUrl(InputModel):
    url: HttpUrlStr
    tags: TagList = Field(default_factory=list)


# --- the workspace document -----------------------------------------------------------------


class ExportedWorkspace(InputModel):
    name: str = Field(max_length=100, description="Informative: a restore keeps its own name.")
    default_tier: TierText
    cadence_a_days: Annotated[int, Field(ge=1, le=3650)] | None
    cadence_b_days: Annotated[int, Field(ge=1, le=3650)] | None
    cadence_c_days: Annotated[int, Field(ge=1, le=3650)] | None
    signature: Signature | None = Field(default=None, description="Ends e-mail drafts.")


class ExportedPainPoint(InputModel):
    ref: Ref
    text: PainPointText
    noted_on: IsoDate
    active: bool
    created_at: Timestamp


class ExportedContact(InputModel):
    ref: Ref
    name: Name
    email: EmailStr | None
    company: ShortText | None
    title: ShortText | None
    field: ShortText | None
    tier: TierText
    notes: Notes | None
    linkedin_url: StoredUrl | None
    phones: PhoneList = Field(default_factory=list)
    last_contacted_on: PastIsoDate | None
    snoozed_until: IsoDate | None = None
    pain_points: Annotated[list[ExportedPainPoint], Field(max_length=10_000)]
    expertise: ExpertiseList
    created_at: Timestamp
    updated_at: Timestamp


class ExportedArticle(InputModel):
    ref: Ref
    title: Title
    url: StoredUrl | None
    summary: Summary | None
    text: ArticleText | None
    tags: TagList
    saved_on: IsoDate
    created_at: Timestamp
    updated_at: Timestamp


class ExportedSuggestion(InputModel):
    """A suggestion acted on (sent or dismissed); open ones are recomputed, not exported."""

    ref: Ref
    contact: Ref
    kind: SuggestionKind
    article: Ref | None
    introduce_contact: Ref | None
    pain_point: Ref | None
    check_in_on: IsoDate | None = Field(description="The day a check-in was suggested.")
    score: Annotated[float, Field(allow_inf_nan=False)]
    reason: LongText
    matched_text: LongText | None
    drafts: Annotated[
        dict[Annotated[str, StringConstraints(max_length=100)], LongText], Field(max_length=10)
    ]
    status: ActedStatus
    dismiss_reason: DismissReasonWord | None
    dismissed_until: IsoDate | None = Field(
        default=None, description="A bad-timing dismissal: the day it ends."
    )
    created_at: Timestamp
    acted_at: Timestamp | None


class ExportedGive(InputModel):
    contact: Ref
    given_on: IsoDate
    kind: GiveKind
    description: Description
    article: Ref | None
    article_url: StoredUrl | None = Field(
        default=None, description="The URL of the article given, kept if it is deleted."
    )
    article_text_hash: TextHash | None = Field(
        default=None, description="The SHA-256 of the article's text, kept if it is deleted."
    )
    introduced_contact: Ref | None
    suggestion: Ref | None
    created_at: Timestamp


class ExportedAsk(InputModel):
    contact: Ref
    asked_on: IsoDate
    description: Description
    created_at: Timestamp


class ExportedTouch(InputModel):
    """A meeting, call or e-mail logged for a contact (never a message's body)."""

    contact: Ref
    kind: TouchKind
    happened_on: PastIsoDate
    happened_at: Timestamp | None
    source: TouchSource
    subject: Annotated[str, StringConstraints(max_length=500), NoNul] | None
    dedupe_key: TextHash | None = Field(
        description="What it was read from (a calendar event, a message), hashed: importing the "
        "same file after a restore logs nothing twice."
    )
    created_at: Timestamp


class ExportedFeedItem(InputModel):
    """An item of a feed seen by a poll: a restored workspace does not save it again."""

    key: TextHash = Field(description="The SHA-256 of the item's id (else its link).")
    article: Ref | None = Field(description="The article it was saved as, or found to be.")
    saved_article: bool = Field(default=False, description="Whether this item made the article.")
    published_at: Timestamp | None
    seen_at: Timestamp


class ExportedFeed(InputModel):
    """A feed subscribed to (its poll state is not kept: a restored feed is polled anew)."""

    url: StoredUrl
    title: Title | None
    site_url: StoredUrl | None
    tags: TagList
    created_at: Timestamp
    items: Annotated[list[ExportedFeedItem], Field(max_length=1_000_000)]


class WorkspaceDocument(InputModel):
    """Everything a workspace holds; records refer to each other by ``ref`` numbers."""

    format: Literal["givefirst-workspace"] = "givefirst-workspace"
    version: Literal[1] = 1
    exported_at: Timestamp
    workspace: ExportedWorkspace
    contacts: list[ExportedContact]
    articles: list[ExportedArticle]
    suggestions: list[ExportedSuggestion]
    gives: list[ExportedGive]
    asks: list[ExportedAsk]
    touches: list[ExportedTouch] = Field(
        default_factory=list, description="Absent from exports made before touches were."
    )
    feeds: list[ExportedFeed] = Field(
        default_factory=list, description="Absent from exports made before feeds were."
    )


class RestoreReport(BaseModel):
    """How many records of each kind the restore created."""

    contacts: int
    articles: int
    suggestions: int
    gives: int
    asks: int
    touches: int
    feeds: int
