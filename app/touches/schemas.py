"""Request and response bodies of touches and of their import."""

from datetime import date, datetime
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from app.formats import TouchFormat
from app.imports.schemas import RowProblem
from app.models import TouchKind, TouchSource
from app.schemas import InputModel, PastIsoDate, ShortText, Timestamp


def _aware_and_past(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give the time zone, e.g. 2026-11-22T08:30:00Z or +01:00")
    now = datetime.now(value.tzinfo)
    if value > now:
        raise ValueError("is in the future: a touch is something that has happened")
    return value


class TouchCreate(InputModel):
    kind: TouchKind = Field(description="What happened.")
    happened_on: PastIsoDate | None = Field(
        default=None,
        description="The day; default: the day of `happened_at`, else today. A day to come is "
        "refused.",
    )
    happened_at: Annotated[Timestamp, AfterValidator(_aware_and_past)] | None = Field(
        default=None, description="The time, with its zone, if you know it; not in the future."
    )
    subject: ShortText | None = Field(
        default=None, description="A few words on what it was about (never the message itself)."
    )

    @model_validator(mode="after")
    def _same_day(self) -> Self:
        if self.happened_at is not None and self.happened_on is not None:
            local_day = self.happened_at.astimezone().date()
            if local_day != self.happened_on:
                raise ValueError(
                    f"happened_on ({self.happened_on}) is not the day of happened_at "
                    f"({local_day} on the server's clock): give one of them"
                )
        return self


class TouchPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    kind: TouchKind
    happened_on: date
    happened_at: datetime | None
    source: TouchSource
    subject: str | None


class UnknownPerson(BaseModel):
    """Someone in the file who is not a contact of the workspace (never created)."""

    email: str | None
    name: str | None
    occurrences: int = Field(description="How many events or messages they were in.")


class TouchImportReport(BaseModel):
    format: TouchFormat = Field(description="The format the file was read as.")
    read: int = Field(
        description="Events (each occurrence of a recurring one) or messages read and kept."
    )
    logged: int = Field(description="Touches logged: one per contact per event or message.")
    already_logged: int = Field(
        description="Touches the file holds that were logged before (the same file imported "
        "again): not logged twice."
    )
    contacts_touched: int = Field(description="Contacts with a touch logged by this import.")
    skipped: int
    skipped_rows: list[RowProblem] = Field(
        description="Each event or message skipped (malformed, undated, to come) and why."
    )
    warnings: list[RowProblem] = Field(description="Records kept with something left out.")
    unknown_people: list[UnknownPerson] = Field(
        description="People who are not contacts, most frequent first (at most 200): add the "
        "ones you know and import again."
    )
    unknown_people_total: int

    def summary_lines(self) -> list[str]:
        """The report as lines of text (for the command line)."""
        lines = [
            f"Read as {self.format}: {self.read} read, {self.logged} touches logged for "
            f"{self.contacts_touched} contacts, {self.already_logged} already logged, "
            f"{self.skipped} skipped."
        ]
        for label, problems in (("skipped", self.skipped_rows), ("warning", self.warnings)):
            for p in problems:
                where = f"line {p.line}" if p.line is not None else f"record {p.record}"
                lines.append(f"  {label}: {where}: {p.reason}")
        if self.unknown_people_total:
            lines.append(f"Not contacts ({self.unknown_people_total}), nothing logged for them:")
            for person in self.unknown_people:
                email = f"<{person.email}>" if person.email else None
                who = " ".join(x for x in (person.name, email) if x)
                lines.append(f"  {who}: {person.occurrences}")
        return lines


class TouchAddressPublic(BaseModel):
    """The workspace's inbound e-mail address (only its beginning once made: it is a secret)."""

    enabled: bool = Field(description="Whether the workspace has a live touch address.")
    address: str | None = Field(
        description="The whole address: given only by the POST that makes it (store it in your "
        "mail client); null otherwise."
    )
    prefix: str | None = Field(description="The address's first characters, to recognise it.")
    created_at: datetime | None
    listening: bool = Field(
        description="Whether this service runs its SMTP listener (GIVEFIRST_SMTP_LISTEN): without "
        "it, mail to the address is not received."
    )
