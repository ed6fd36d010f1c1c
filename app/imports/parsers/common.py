"""What every reader shares: decoding, rows with their place in the file, problems."""

import codecs
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

T = TypeVar("T")
MAX_TAGS = 50  # an article keeps its first 50 tags

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class FileRejected(ValueError):
    """The whole file cannot be read (empty, wrong encoding, not the format claimed)."""


@dataclass(frozen=True)
class Problem:
    """A row that was skipped, or kept with something left out, and why."""

    record: int
    line: int | None
    reason: str


@dataclass(frozen=True)
class Row(Generic[T]):
    """A row read from a file: its number among the file's records and the line it starts on."""

    record: int
    line: int | None
    value: T


@dataclass
class Parsed(Generic[T]):
    """The rows a reader could read, the ones it skipped, and what it left out of kept rows."""

    format: str
    rows: list[Row[T]] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class ContactRow:
    """A contact as a file describes it; empty values are None. Tier, field, pain points and
    expertise come only from the service's own exports."""

    name: str
    emails: tuple[str, ...] = ()
    company: str | None = None
    title: str | None = None
    linkedin_url: str | None = None
    notes: str | None = None
    connected_on: date | None = None
    phones: tuple[str, ...] = ()
    field: str | None = None
    tier: str | None = None
    pain_points: tuple[str, ...] = ()
    expertise: tuple[str, ...] = ()
    last_contacted_on: date | None = None


@dataclass(frozen=True)
class ArticleRow:
    """A saved link as a file describes it."""

    title: str
    url: str
    summary: str | None = None
    text: str | None = None
    tags: tuple[str, ...] = ()
    saved_on: date | None = None
    feed_url: str | None = None  # an OPML outline's feed: subscribed to, not saved as an article


def decode_text(data: bytes) -> str:
    """The text of a file: UTF-8 (with or without BOM), or UTF-16 with a BOM."""
    if not data.strip():
        raise FileRejected("The file is empty.")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as error:
                raise FileRejected(
                    f"The file says it is {encoding.upper()} but byte {error.start} is not."
                ) from error
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileRejected(
            f"The file is not UTF-8 text (byte {error.start} is not valid UTF-8). "
            "Save or export it as UTF-8 and try again."
        ) from error


def clean(value: str | None) -> str | None:
    """``value`` with surrounding white space removed; None when nothing is left."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def shorten(value: str | None, limit: int) -> str | None:
    """``value`` cut to ``limit`` characters (with an ellipsis when cut)."""
    if value is None or len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + "…"


def with_tag(tags: tuple[str, ...], tag: str | None) -> tuple[str, ...]:
    """``tags`` and ``tag`` (if new), up to ``MAX_TAGS``: the tags of a folder inside folders.

    Folders nest as deep as a file likes; past the tags an article keeps, a nested folder shares
    its parent's tuple, so each level costs at most ``MAX_TAGS``, not the depth.
    """
    if not tag or tag in tags or len(tags) >= MAX_TAGS:
        return tags
    return (*tags, tag)


def distinct(values: Iterable[str | None]) -> tuple[str, ...]:
    """The non-blank ``values``, stripped, each once, in order."""
    return tuple(dict.fromkeys(v for value in values if (v := clean(value))))


def linkedin_profile(value: str | None) -> str | None:
    """A LinkedIn profile URL with its scheme, if ``value`` is one."""
    value = clean(value)
    if value is None or "linkedin.com/" not in value.lower():
        return None
    if not value.lower().startswith(("http://", "https://")):
        value = "https://" + value.lstrip("/")
    return value
