"""Request and response bodies of the contacts resource."""

from datetime import date, datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictBool

from app.schemas import (
    MAX_DAYS_AHEAD,
    ComingIsoDate,
    ExpertiseText,
    HttpUrlStr,
    InputModel,
    IsoDate,
    Name,
    Notes,
    PainPointText,
    PastIsoDate,
    PatchModel,
    Phone,
    ShortText,
    TierText,
)

# The most a contact holds, on every path (create, add, re-activate, restore): active pain points
# (resolved ones are kept as history and do not count) and expertise lines.
MAX_PAIN_POINTS = 50
MAX_EXPERTISE = 50
MAX_PHONES = 10
ExpertiseList = Annotated[list[ExpertiseText], Field(max_length=MAX_EXPERTISE)]
PhoneList = Annotated[
    list[Phone],
    Field(max_length=MAX_PHONES, description=f"Phone numbers as written, at most {MAX_PHONES}."),
]


class PainPointCreate(InputModel):
    text: PainPointText
    noted_on: IsoDate | None = Field(default=None, description="Default: today.")
    active: StrictBool = True


class PainPointUpdate(PatchModel):
    not_nullable: ClassVar[frozenset[str]] = frozenset({"text", "noted_on", "active"})

    text: PainPointText | None = None
    noted_on: IsoDate | None = None
    active: StrictBool | None = None


class PainPointPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    text: str
    noted_on: date
    active: bool


class ContactCreate(InputModel):
    name: Name
    email: EmailStr | None = None
    company: ShortText | None = None
    title: ShortText | None = None
    field: ShortText | None = Field(default=None, description="Industry or line of work.")
    tier: TierText | None = Field(
        default=None, description="A, B or C; default: the workspace's default tier (B)."
    )
    pain_points: Annotated[
        list[PainPointText | PainPointCreate], Field(max_length=MAX_PAIN_POINTS)
    ] = Field(
        default_factory=list,
        description="What they struggle with: plain strings, or objects with a date.",
    )
    expertise: ExpertiseList = Field(
        default_factory=list, description="What they can help others with."
    )
    notes: Notes | None = None
    linkedin_url: HttpUrlStr | None = None
    phones: PhoneList = Field(default_factory=list)
    last_contacted_on: PastIsoDate | None = Field(
        default=None, description="The last time you were in touch: today at the latest."
    )


class ContactUpdate(PatchModel):
    """Fields to change; ``expertise`` and ``phones`` replace the list. Pain points have their
    own routes."""

    not_nullable: ClassVar[frozenset[str]] = frozenset({"name", "tier", "expertise", "phones"})

    name: Name | None = None
    email: EmailStr | None = None
    company: ShortText | None = None
    title: ShortText | None = None
    field: ShortText | None = None
    tier: TierText | None = None
    expertise: ExpertiseList | None = None
    notes: Notes | None = None
    linkedin_url: HttpUrlStr | None = None
    phones: PhoneList | None = None
    last_contacted_on: PastIsoDate | None = Field(
        default=None, description="The last time you were in touch: today at the latest."
    )


class ContactPublic(BaseModel):
    id: int
    name: str
    email: str | None
    company: str | None
    title: str | None
    field: str | None
    tier: str
    pain_points: list[PainPointPublic]
    expertise: list[str]
    notes: str | None
    linkedin_url: str | None
    phones: list[str]
    last_contacted_on: date | None
    next_due_on: date = Field(
        description="When the contact is next due: the tier's cadence after the last touch, or "
        "the end of a snooze if that is later."
    )
    snoozed_until: date | None = Field(
        description="Snoozed: off every list before this day (POST /contacts/{id}/snooze); a "
        "past day means the snooze is over."
    )
    created_at: datetime
    updated_at: datetime


class SnoozeRequest(InputModel):
    until: ComingIsoDate = Field(
        description=f"The day the contact comes back: after today, at most {MAX_DAYS_AHEAD} days "
        "ahead. Before it the contact is on no list, due or coming up; no give is logged. "
        "DELETE /contacts/{id}/snooze ends a snooze.",
    )
