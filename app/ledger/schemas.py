"""Request and response bodies of the give/ask ledger."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.models import GiveKind
from app.schemas import InputModel, IsoDate, NoNul, PastIsoDate

Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), NoNul
]


class GiveCreate(InputModel):
    description: Description = Field(
        description="What you gave, e.g. 'Sent the SHRM salary guide'."
    )
    kind: GiveKind = GiveKind.other
    given_on: PastIsoDate | None = Field(
        default=None, description="Default: today; a day to come is refused."
    )


class AskCreate(InputModel):
    description: Description = Field(description="What you asked them for.")
    asked_on: IsoDate | None = Field(default=None, description="Default: today.")


class GivePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    given_on: date
    kind: str
    description: str
    article_id: int | None
    introduced_contact_id: int | None
    suggestion_id: int | None


class AskPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    asked_on: date
    description: str


class TouchEntry(BaseModel):
    """A touch in the ledger view: it restarted the cadence, but it is not a give."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    happened_on: date
    source: str
    subject: str | None


class Ledger(BaseModel):
    contact_id: int
    gives: list[GivePublic]
    asks: list[AskPublic]
    touches: list[TouchEntry] = Field(
        description="Meetings, calls and e-mails logged (at most the latest 100): they restart "
        "the cadence, but they are not gives and leave the balance as it is."
    )
    given: int
    asked: int
    balance: int = Field(description="Gives minus asks.")
    asked_more_than_given: bool
    message: str
