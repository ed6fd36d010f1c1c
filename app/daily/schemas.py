"""Response bodies of the daily list (also the JSON digest the nightly batch writes)."""

from datetime import date, datetime

from pydantic import BaseModel, Field

from app.suggestions.schemas import ContactRef, SuggestionPublic


class DailyItemPublic(BaseModel):
    position: int = Field(
        description="1 for the first contact to help today; an item keeps its position (POST "
        "/daily/items/{position}/snooze names it)."
    )
    contact: ContactRef
    tier: str
    due_on: date = Field(description="When the contact fell due (may be after the list's date).")
    overdue_days: int = Field(description="Days past due on the list's date; negative if early.")
    suggestion: SuggestionPublic = Field(
        description="What to send. Mark it with POST /suggestions/{id}/sent or /dismiss."
    )


class ComingUp(BaseModel):
    date: date
    contacts: list[ContactRef]


class DailyListPublic(BaseModel):
    workspace: str
    date: date
    budget: int = Field(description="The most contacts a day's list holds.")
    due_count: int = Field(description="Contacts due or overdue on the date, when it was built.")
    items: list[DailyItemPublic] = Field(
        description="In order. Contacts due since the list was built follow the items shown "
        "before, up to the budget; a contact snoozed since is left out while its suggestion is "
        "open."
    )
    coming_up: list[ComingUp] = Field(
        description="Due contacts that did not fit, spread over the next days."
    )
    created_at: datetime
