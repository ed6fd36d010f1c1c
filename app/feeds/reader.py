"""Reading a fetched feed: its items as articles, or the feed a web page links to.

Plain Python over bytes already fetched (``app.imports.fetch.fetch_feed``): feedparser is only
ever handed bytes, never a URL, so it fetches nothing itself.
"""

import calendar
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from app.imports.parsers.articles import TolerantHtml, html_to_text
from app.imports.parsers.common import clean

_FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml"}
)


# What feedparser reports about a feed it read all the same (a charset it corrected, say).
_HARMLESS = feedparser.ThingsNobodyCaresAboutButMe


class NotAFeedError(ValueError):
    """What was fetched is no RSS or Atom feed."""


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed, as text."""

    key: str  # SHA-256 of the item's id (else its link): what names it from poll to poll
    link: str
    title: str
    summary: str | None
    text: str | None  # the item's full content, when the feed carries it
    published_at: datetime | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    site_url: str | None
    entries: list[FeedEntry]
    skipped: int  # items without an http(s) link


def _when(entry: Any) -> datetime | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(name)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, OSError, ValueError):
                return None
    return None


def _content(entry: Any) -> str | None:
    """The longest full content of an item (Atom ``content``, RSS ``content:encoded``)."""
    texts = [html_to_text(part.get("value")) for part in entry.get("content") or []]
    found = [text for text in texts if text]
    return max(found, key=len) if found else None


def parse_feed(data: bytes, url: str) -> ParsedFeed:
    """The items of the RSS or Atom feed in ``data`` (fetched from ``url``); ``NotAFeedError``
    when it is none."""
    document = feedparser.parse(
        data, response_headers={"content-location": url}, sanitize_html=True
    )
    if not document.get("version") and not document.entries:
        problem = document.get("bozo_exception")
        detail = f" ({problem})" if problem else ""
        raise NotAFeedError(f"What {url} answered is not a readable RSS or Atom feed{detail}.")
    entries, skipped = [], 0
    for entry in document.entries:
        link = clean(entry.get("link"))
        if not link or not link.lower().startswith(("http://", "https://")):
            skipped += 1
            continue
        text = _content(entry)
        summary = html_to_text(entry.get("summary"))
        identity = clean(entry.get("id")) or link
        entries.append(
            FeedEntry(
                key=hashlib.sha256(identity.encode()).hexdigest(),
                link=link,
                title=clean(html_to_text(entry.get("title"))) or link,
                summary=summary if summary != text else None,
                text=text,
                published_at=_when(entry),
                tags=tuple(
                    dict.fromkeys(
                        t for t in (clean(tag.get("term")) for tag in entry.get("tags") or []) if t
                    )
                ),
            )
        )
    problem = document.get("bozo_exception")
    if not entries and problem is not None and not isinstance(problem, _HARMLESS):
        # Read leniently, a damaged feed may still give items; one that gives none is broken.
        raise NotAFeedError(f"What {url} answered is not a readable RSS or Atom feed ({problem}).")
    feed = document.feed
    return ParsedFeed(
        title=clean(html_to_text(feed.get("title"))),
        site_url=clean(feed.get("link")),
        entries=entries,
        skipped=skipped,
    )


class _FeedLinks(TolerantHtml):
    """The ``<link rel="alternate" type="application/rss+xml" href=…>`` of a page's head."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        named = {name: (value or "") for name, value in attrs}
        rels = named.get("rel", "").lower().split()
        kind = named.get("type", "").split(";")[0].strip().lower()
        if "alternate" in rels and kind in _FEED_TYPES and named.get("href", "").strip():
            self.links.append(named["href"].strip())


def linked_feed(data: bytes, url: str) -> str | None:
    """The first feed a web page links to (its address made absolute), or None."""
    reader = _FeedLinks()
    reader.feed(data.decode("utf-8", errors="replace"))
    reader.close()
    return urljoin(url, reader.links[0]) if reader.links else None


def looks_like_html(content_type: str, data: bytes) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml"):
        return True
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html"))
