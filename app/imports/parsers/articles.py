"""Article files: browser bookmarks (Netscape HTML), OPML feed lists, RSS and Atom feeds."""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from app.formats import ArticleFormat
from app.imports.parsers.common import (
    ArticleRow,
    FileRejected,
    Parsed,
    Problem,
    Row,
    clean,
    decode_text,
    with_tag,
)

_ATOM = "{http://www.w3.org/2005/Atom}"
_RSS1 = "{http://purl.org/rss/1.0/}"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
_DC_DATE = "{http://purl.org/dc/elements/1.1/}date"
_DC_SUBJECT = "{http://purl.org/dc/elements/1.1/}subject"
_BOOKMARKS_DOCTYPE = "<!doctype netscape-bookmark-file-1>"
# Firefox marks its root folders; they are places, not topics, so they make no tag.
_ROOT_FOLDER_MARKS = {"personal_toolbar_folder", "unfiled_bookmarks_folder"}
_SPACES = re.compile(r"[ \t\r\f\v]+")


def _is_web_url(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


class TolerantHtml(HTMLParser):
    """``HTMLParser`` without two faults of the Pythons released before June 2025 (3.11.7 among
    them; the first is gh-135462, CVE-2025-6069, fixed upstream then).

    At the end of the input, ``close()`` retried an unfinished tag, comment or ``<!…`` at every
    ``<`` after it, each time scanning to the end: quadratic (10 MB of ``<a`` would take days).
    As the HTML standard and newer Pythons do, the unfinished construct and the rest of the input
    are ignored, and the line it starts on is kept for the report. And ``<![`` followed by a
    word other than a known section name raised ``AssertionError``; it is a bogus comment, to the
    next ``>``.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.unfinished_line: int | None = None

    def close(self) -> None:
        # What feed() left unparsed starts at an unfinished construct (or is plain text).
        if self.rawdata.startswith("<"):
            self.unfinished_line = self.getpos()[0]
            self.rawdata = ""
        super().close()

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i + 3)
            return end + 1 if end >= 0 else -1


class _HtmlText(TolerantHtml):
    """The readable text of an HTML fragment (feed descriptions), paragraphs kept apart."""

    _BLOCKS = frozenset({"p", "br", "div", "li", "h1", "h2", "h3", "h4", "tr", "blockquote"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.hidden += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.hidden = max(self.hidden - 1, 0)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(fragment: str | None) -> str | None:
    if not fragment:
        return None
    parser = _HtmlText()
    parser.feed(fragment)
    parser.close()
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parser.parts).split("\n"))
    return clean("\n".join(line for line in lines if line))


# --- bookmarks ------------------------------------------------------------------------------


class _Bookmarks(TolerantHtml):
    """Reads ``<DT><A HREF=…>`` links; the ``<H3>`` folder above a ``<DL>`` list is a tag.

    Each open ``<DL>`` holds the tags of the folders it is in (``with_tag``), which every link
    in it shares: a link costs the same at any depth.
    """

    def __init__(self) -> None:
        super().__init__()
        self.folders: list[tuple[str, ...]] = []
        self.pending_folder: str | None = None
        self.folder_name: list[str] | None = None
        self.folder_is_root = False
        self.link: dict[str, str | None] | None = None
        self.link_line = 0
        self.title: list[str] = []
        self.description: list[str] | None = None
        self.found: list[tuple[int, dict[str, str | None], str, tuple[str, ...]]] = []

    def _close_description(self) -> None:
        if self.description is not None and self.found:
            self.found[-1][1]["description"] = "".join(self.description)
        self.description = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("dt", "dl", "h3", "a", "hr"):
            self._close_description()
        if tag == "h3":
            self.folder_name = []
            self.folder_is_root = bool({name for name, _ in attrs} & _ROOT_FOLDER_MARKS)
        elif tag == "dl":
            self.folders.append(with_tag(self.tags(), self.pending_folder))
            self.pending_folder = None
        elif tag == "a":
            self.link, self.link_line, self.title = dict(attrs), self.getpos()[0], []
        elif tag == "dd" and self.found:
            self.description = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h3" and self.folder_name is not None:
            name = clean("".join(self.folder_name))
            self.pending_folder = None if self.folder_is_root else name
            self.folder_name = None
        elif tag == "dl":
            self._close_description()
            if self.folders:
                self.folders.pop()
        elif tag == "a" and self.link is not None:
            self.found.append((self.link_line, self.link, "".join(self.title), self.tags()))
            self.link = None

    def tags(self) -> tuple[str, ...]:
        return self.folders[-1] if self.folders else ()

    def handle_data(self, data: str) -> None:
        if self.folder_name is not None:
            self.folder_name.append(data)
        elif self.link is not None:
            self.title.append(data)
        elif self.description is not None:
            self.description.append(data)


def _epoch_day(value: str | None) -> date | None:
    try:
        seconds = int(value or "")
    except ValueError:
        return None
    if seconds > 10**11:  # some browsers write microseconds
        seconds //= 10**6
    try:
        return datetime.fromtimestamp(seconds, UTC).date() if seconds > 0 else None
    except (OverflowError, OSError, ValueError):
        return None


def looks_like_bookmarks(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n")[: len(_BOOKMARKS_DOCTYPE)].lower() == _BOOKMARKS_DOCTYPE


def parse_bookmarks(text: str) -> Parsed[ArticleRow]:
    """A Netscape bookmarks file, as Chrome, Firefox, Edge and Safari export them."""
    if not looks_like_bookmarks(text):
        raise FileRejected(
            "The file is not a bookmarks export: it does not start with "
            "<!DOCTYPE NETSCAPE-Bookmark-file-1>."
        )
    reader = _Bookmarks()
    reader.feed(text)
    reader.close()
    parsed: Parsed[ArticleRow] = Parsed(ArticleFormat.bookmarks)
    for number, (line, attrs, title, folders) in enumerate(reader.found, start=1):
        url = clean(attrs.get("href"))
        if url is None:
            parsed.skipped.append(Problem(number, line, "the link has no HREF"))
            continue
        if not _is_web_url(url):
            reason = f"{url.split(':', 1)[0]}: links are not web pages (only http and https)"
            parsed.skipped.append(Problem(number, line, reason))
            continue
        labels = [t.strip() for t in (attrs.get("tags") or "").split(",")]
        row = ArticleRow(
            title=clean(title) or url,
            url=url,
            summary=clean(attrs.get("description")),
            tags=tuple(dict.fromkeys(t for t in [*folders, *labels] if t)),
            saved_on=_epoch_day(attrs.get("add_date")),
        )
        parsed.rows.append(Row(number, line, row))
    if reader.unfinished_line is not None:
        reason = "a tag or comment here is never closed: the rest of the file was not read"
        parsed.skipped.append(Problem(len(reader.found) + 1, reader.unfinished_line, reason))
    return parsed


# --- XML: OPML, RSS, Atom -------------------------------------------------------------------


def _xml_root(data: bytes) -> Element:
    if not data.strip():
        raise FileRejected("The file is empty.")
    try:
        return fromstring(data, forbid_dtd=True)
    except DefusedXmlException as error:
        raise FileRejected(
            "The file declares a DTD or entities, which feeds and OPML files do not need; "
            "it was not read."
        ) from error
    except ParseError as error:
        raise FileRejected(f"The file is not well-formed XML: {error}.") from error


def _xml_kind(root: Element) -> ArticleFormat | None:
    if root.tag == "opml":
        return ArticleFormat.opml
    if root.tag in ("rss", f"{_RDF}RDF", f"{_ATOM}feed"):
        return ArticleFormat.feed
    return None


def _text(element: Element | None) -> str | None:
    return clean("".join(element.itertext())) if element is not None else None


def _feed_date(value: str | None) -> date | None:
    value = clean(value)
    if value is None:
        return None
    try:
        return parsedate_to_datetime(value).date()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None


def _atom_link(entry: Element) -> str | None:
    for link in entry.findall(f"{_ATOM}link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return clean(link.get("href"))
    return None


def _feed_items(root: Element) -> list[Element]:
    if root.tag == f"{_ATOM}feed":
        return root.findall(f"{_ATOM}entry")
    if root.tag == "rss":
        return root.findall("./channel/item")
    return root.findall(f"{_RSS1}item")


def _feed_item(item: Element) -> tuple[ArticleRow | None, str | None]:
    """An article from an RSS or Atom item, or why it cannot be one (and a warning)."""
    if item.tag == f"{_ATOM}entry":
        url = _atom_link(item)
        title = _text(item.find(f"{_ATOM}title"))
        summary = html_to_text(_text(item.find(f"{_ATOM}summary")))
        text = html_to_text(_text(item.find(f"{_ATOM}content")))
        when = _text(item.find(f"{_ATOM}published")) or _text(item.find(f"{_ATOM}updated"))
        tags = [c.get("term") or "" for c in item.findall(f"{_ATOM}category")]
    else:
        ns = _RSS1 if item.tag.startswith(_RSS1) else ""
        url = _text(item.find(f"{ns}link"))
        guid = item.find("guid")
        if url is None and guid is not None and guid.get("isPermaLink", "true") == "true":
            url = _text(guid)
        title = _text(item.find(f"{ns}title"))
        summary = html_to_text(_text(item.find(f"{ns}description")))
        text = html_to_text(_text(item.find(_CONTENT)))
        when = _text(item.find("pubDate")) or _text(item.find(_DC_DATE))
        tags = [_text(c) or "" for c in [*item.findall("category"), *item.findall(_DC_SUBJECT)]]
    if url is None or not _is_web_url(url):
        return None, "the item has no http(s) link"
    saved_on = _feed_date(when)
    warning = f"the date {when!r} is not readable; saved today" if when and not saved_on else None
    row = ArticleRow(
        title=clean(title) or url,
        url=url,
        summary=summary if summary != text else None,
        text=text,
        tags=tuple(dict.fromkeys(t.strip() for t in tags if t.strip())),
        saved_on=saved_on,
    )
    return row, warning


def parse_feed(data: bytes) -> Parsed[ArticleRow]:
    """The items of an RSS (0.9x, 1.0, 2.0) or Atom feed."""
    root = _xml_root(data)
    if _xml_kind(root) != ArticleFormat.feed:
        raise FileRejected("The file is not an RSS or Atom feed.")
    parsed: Parsed[ArticleRow] = Parsed(ArticleFormat.feed)
    for number, item in enumerate(_feed_items(root), start=1):
        row, note = _feed_item(item)
        if row is None:
            parsed.skipped.append(Problem(number, None, note or "unreadable item"))
            continue
        parsed.rows.append(Row(number, None, row))
        if note:
            parsed.warnings.append(Problem(number, None, note))
    return parsed


def _outlines(body: Element) -> Iterator[tuple[Element, tuple[str, ...]]]:
    """The outlines with a URL, in document order, with the tags of the outlines around them.

    A stack rather than recursion: an OPML file nested 5,000 deep is read, not a RecursionError.
    """
    stack: list[tuple[Iterator[Element], tuple[str, ...]]] = [(iter(body.findall("outline")), ())]
    while stack:
        children, folders = stack[-1]
        outline = next(children, None)
        if outline is None:
            stack.pop()
            continue
        if outline.get("xmlUrl") or outline.get("url") or outline.get("htmlUrl"):
            yield outline, folders
        label = clean(outline.get("text") or outline.get("title"))
        stack.append((iter(outline.findall("outline")), with_tag(folders, label)))


def parse_opml(data: bytes) -> Parsed[ArticleRow]:
    """An OPML list of feeds (``feed_url``: to subscribe to) or of links (articles); the
    outlines they sit in become tags."""
    root = _xml_root(data)
    if _xml_kind(root) != ArticleFormat.opml:
        raise FileRejected("The file is not an OPML file: its root element is not <opml>.")
    body = root.find("body")
    parsed: Parsed[ArticleRow] = Parsed(ArticleFormat.opml)
    outlines = _outlines(body) if body is not None else iter(())
    for number, (outline, folders) in enumerate(outlines, start=1):
        feed_url = clean(outline.get("xmlUrl"))
        url = feed_url or clean(outline.get("url") or outline.get("htmlUrl"))
        if url is None or not _is_web_url(url):
            parsed.skipped.append(Problem(number, None, f"{url!r} is not an http(s) URL"))
            continue
        title = clean(outline.get("title") or outline.get("text")) or url
        row = ArticleRow(
            title=title,
            url=url,
            summary=clean(outline.get("description")),
            tags=folders,
            saved_on=_feed_date(outline.get("created")),
            feed_url=feed_url,
        )
        parsed.rows.append(Row(number, None, row))
    return parsed


def _detect(data: bytes) -> ArticleFormat:
    head = data[:100].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(_BOOKMARKS_DOCTYPE.encode()):
        return ArticleFormat.bookmarks
    try:
        kind = _xml_kind(_xml_root(data))
    except FileRejected:
        kind = None
    if kind is None:
        raise FileRejected(
            "Could not tell the file's format: expected a browser bookmarks export (HTML), "
            "an OPML file or an RSS or Atom feed."
        )
    return kind


def parse_articles(data: bytes, format_name: str | None = None) -> Parsed[ArticleRow]:
    """The links of ``data``, in ``format_name`` or the format detected."""
    if not data.strip():
        raise FileRejected("The file is empty.")
    format_name = format_name or _detect(data)
    if format_name == ArticleFormat.bookmarks:
        return parse_bookmarks(decode_text(data))
    return parse_opml(data) if format_name == ArticleFormat.opml else parse_feed(data)
