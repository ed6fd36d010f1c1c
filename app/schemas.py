"""Schema pieces shared by every resource: strict input models, bounded strings, pages."""

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, ClassVar, Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.models import Tier

T = TypeVar("T")


def _text(value: Any) -> Any:
    # A number is refused as every text field refuses it ("must be text"), not as a wrong choice.
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    return value


TierText = Annotated[Tier, BeforeValidator(_text)]
"""A tier as a request gives it: the text A, B or C."""


def _without_nul(text: str) -> str:
    """Refuse U+0000: PostgreSQL cannot store it in text, and no reader means it. Refused on
    every backend, so that what an SQLite install accepts a PostgreSQL install accepts too."""
    position = text.find("\x00")
    if position >= 0:
        raise ValueError(f"holds a NUL character (U+0000) at position {position}")
    return text


NoNul = AfterValidator(_without_nul)


MAX_URL_LENGTH = 2000


def normalize_url(url: str) -> str:
    """One spelling per page: lower-case scheme and host (the rest keeps its case), no fragment,
    and no ``user:password@`` (a stored URL is shown, exported and indexed: never a secret)."""
    parts = urlsplit(url.strip())
    host_and_port = parts.netloc.rpartition("@")[2]
    return urlunsplit(
        (parts.scheme.lower(), host_and_port.lower(), parts.path or "/", parts.query, "")
    )


def _parseable_url(url: str) -> str:
    # urlsplit raises ValueError ("Invalid IPv6 URL") on what the pattern lets through; and the
    # spelling stored (a "/" added, the host lower-cased) must fit too, or the export breaks.
    try:
        normalized = normalize_url(url)
    except ValueError as error:
        raise ValueError(f"not a URL that can be read: {error}") from error
    if len(normalized) > MAX_URL_LENGTH:
        raise ValueError(f"the URL is longer than {MAX_URL_LENGTH} characters once normalized")
    return url


URL_PATTERN = r"(?i)^https?://[^\s/$.?#][^\s]*$"
HttpUrlStr = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=MAX_URL_LENGTH - 1,  # room for the "/" normalizing may add
        pattern=URL_PATTERN,
    ),
    NoNul,
    AfterValidator(_parseable_url),
]
StoredUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_URL_LENGTH, pattern=URL_PATTERN),
    NoNul,
    AfterValidator(_parseable_url),
]
"""A URL as stored (normalized): what an export holds and a restore takes back."""

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), NoNul]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), NoNul
]
PainPointText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), NoNul
]
ExpertiseText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), NoNul
]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul]
Notes = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000), NoNul]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), NoNul]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5_000), NoNul]
MAX_SIGNATURE_LINES = 8


def _signature(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    if len(lines) > MAX_SIGNATURE_LINES:
        raise ValueError(f"a signature has at most {MAX_SIGNATURE_LINES} lines")
    return "\n".join(lines)


Signature = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=500),
    NoNul,
    AfterValidator(_signature),
]
"""A short sign-off for e-mail drafts ("Best,\nSam Rivera"): up to 8 lines, 500 characters."""
ArticleText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200_000), NoNul]


# The one range of years for every date and time the service takes (requests, restores): a
# cadence added to a date in year 9999 would overflow, and so would a time at the end of year 9999
# with an offset, converted to UTC.
FIRST_YEAR, LAST_YEAR = 1900, 2999
_YEARS = f"in the years {FIRST_YEAR} to {LAST_YEAR}"
ISO_DATE_PATTERN = r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$"  # YYYY-MM-DD, FIRST_YEAR to LAST_YEAR


def _iso_date(value: Any) -> Any:
    # Pydantic would also take 0 or "0" (a Unix time: 1970-01-01) and "2026-01-01T00:00".
    if type(value) is date and FIRST_YEAR <= value.year <= LAST_YEAR:
        return value
    if isinstance(value, str) and re.fullmatch(ISO_DATE_PATTERN, value):
        return value
    raise ValueError(f"use a date like 2026-11-22, {_YEARS}")


def _in_years(value: datetime) -> datetime:
    # Stored in UTC: the year is checked as given and once converted (in range as given, the
    # conversion cannot overflow).
    if not FIRST_YEAR <= value.year <= LAST_YEAR or (
        value.tzinfo is not None and not FIRST_YEAR <= value.astimezone(UTC).year <= LAST_YEAR
    ):
        raise ValueError(f"use a time like 2026-11-22T08:30:00Z, {_YEARS} (in UTC too)")
    return value


IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": ISO_DATE_PATTERN}),
]
"""A day given as YYYY-MM-DD (what the document says), nothing else."""


def _not_after_today(value: date) -> date:
    # The server's local day, as every route's "today"; a day to come would put a contact's last
    # touch in the future and keep them off the lists for a whole cadence after it.
    today = date.today()
    if value > today:
        raise ValueError(f"is after today ({today.isoformat()}): use today or an earlier day")
    return value


PastIsoDate = Annotated[IsoDate, AfterValidator(_not_after_today)]
"""A day that has come: YYYY-MM-DD, today at the latest."""

# "Not now" (a snooze, a bad-timing dismissal) is not "never": past two years, resolve or delete.
MAX_DAYS_AHEAD = 730


def _coming(value: date) -> date:
    today = date.today()  # the server's local day, as the routes' "today"
    if not today < value <= today + timedelta(MAX_DAYS_AHEAD):
        raise ValueError(
            f"must be after today ({today.isoformat()}) and at most {MAX_DAYS_AHEAD} days after it"
        )
    return value


ComingIsoDate = Annotated[IsoDate, AfterValidator(_coming)]
"""A day to come: YYYY-MM-DD, after today and at most ``MAX_DAYS_AHEAD`` days ahead."""

Timestamp = Annotated[datetime, AfterValidator(_in_years)]
"""A time (an export's ``created_at``), in the same years as every date."""


class InputModel(BaseModel):
    """Request bodies: unknown fields are an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


def without_null(schema: dict[str, Any]) -> None:
    """Drop the ``null`` choice from a property's JSON schema: it may be left out, not nulled."""
    choices = [c for c in schema.get("anyOf", []) if c != {"type": "null"}]
    if "anyOf" not in schema or len(choices) == len(schema["anyOf"]):
        return
    del schema["anyOf"]
    if len(choices) == 1:
        schema.update(choices[0])
    else:
        schema["anyOf"] = choices
    if schema.get("default", ...) is None:
        del schema["default"]


def _document_not_nullable(schema: dict[str, Any], model: type[BaseModel]) -> None:
    not_nullable: frozenset[str] = getattr(model, "not_nullable", frozenset())
    for name, prop in schema.get("properties", {}).items():
        if name in not_nullable:
            without_null(prop)


class PatchModel(InputModel):
    """A partial update: only the fields sent change, and required fields cannot be nulled.

    The JSON schema says so too: a field in ``not_nullable`` is documented without ``null``.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_document_not_nullable)

    not_nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _reject_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in sorted(cls.not_nullable & data.keys()):
                if data[name] is None:
                    raise ValueError(f"'{name}' cannot be null")
        return data


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="How many records match, over all pages.")
    limit: int
    offset: int


def like_pattern(search: str) -> str:
    """A case-insensitive "contains" LIKE pattern in which % and _ match themselves."""
    escaped = search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
