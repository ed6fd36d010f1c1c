"""Forwarded mail: the original message a forward to the touch address carries.

A user who forwards a message to the workspace's touch address means the original: who wrote it,
to whom, and when. A forward carries it in one of two ways:

- inline, in the body: Gmail's "---------- Forwarded message ---------" block, Outlook's "From: …
  Sent: … To: … Subject:" lines, Apple Mail's "Begin forwarded message:" (quoted with ">" or not).
  ``quotequail`` (Close's library for quoted and forwarded text; English and a few other languages'
  headings) finds the block and its header lines in the plain text part, or in the HTML part when
  there is no plain one; the addresses are then read by the standard ``email`` package's header
  parser (names with accents, RFC 2047 encoded words, Outlook's ``;`` separators), and the date by
  ``email.utils`` when it is an RFC 5322 date, else by ``dateparser`` ("Mon, Jan 5, 2026 at 10:03
  AM", "5 January 2026 at 10:03:12 GMT+1", "5. Januar 2026 um 10:03"). A date without a zone is in
  the forwarder's, taken from the forward's own ``Date`` header.
- attached whole (message/rfc822, or a ``.eml`` file): "forward as attachment". Its headers are
  read as any message's (``readers.message_encounter``), Message-ID included, so the same message
  BCC'd before or found in an mbox import later logs nothing twice.

Only headers are kept from any of this: the body is read in memory to find the block, and
nothing of it but the original's subject is stored; attachments are never stored.

A forward is the user's own message: the sender of a message sent to the touch address is, by
construction, the one who knows the secret address. A message that was *redirected* (bounced)
or auto-forwarded is not a forward the user wrote, even with "Fwd:" in its subject: its From is
the original's author, so it is read as it is. It is told by its ``Resent-*`` or
``X-Forwarded-*`` headers, or by an envelope sender that is not its From while the touch address
is not among its recipients.
"""

import email.policy
import email.utils
import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage, Message
from email.parser import BytesParser
from typing import Any

import dateparser
import quotequail

from app.imports.parsers.common import shorten
from app.touches.readers import (
    MAX_SUBJECT,
    Encounter,
    Unreadable,
    message_encounter,
    message_people,
    sent_day,
)

log = logging.getLogger(__name__)

_PARSER = BytesParser(policy=email.policy.default)
# "Fwd:", "FW:" and their translations (TR, WG, RV, ENC, VS, VB, Doorst, I); a reply's prefix
# says the quoted block under it is what was replied to, not a forward.
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|tr|wg|rv|enc|vs|vb|doorst|i)\s*:", re.IGNORECASE)
_REPLY_SUBJECT = re.compile(r"^\s*(re|aw|sv|antw|ref|r)\s*:", re.IGNORECASE)
_REDIRECTED = ("Resent-From", "Resent-Sender", "X-Forwarded-For", "X-Forwarded-To")
_MAILTO = re.compile(r"\[mailto:([^\]\s]+)\]", re.IGNORECASE)
_BOLD = re.compile(r"\*([^*<>\n]+)\*")
_MAX_ATTACHED = 20
# The languages quotequail finds a forwarded block in (its header names: "Date", "Datum", "Fecha",
# "Дата", "Verzonden"…), so the languages its date line is written in; Danish and Norwegian too,
# whose locales read the "kl." of a Swedish date line ("mån 5 jan. 2026 kl. 10:03"). Naming them
# keeps an unreadable date cheap: with every locale dateparser's first failure took 4.2 s, with
# these 0.4 s.
_FORWARD_LANGUAGES = ["en", "de", "fr", "es", "pt", "nl", "sv", "da", "nb", "ru"]


@dataclass
class Forward:
    """A forward the user wrote: whose mail it is, and the originals it carries."""

    forwarder: frozenset[str]
    originals: list[Encounter] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _addresses(message: Message, *names: str) -> set[str]:
    found: set[str] = set()
    for name in names:
        for header in message.get_all(name) or []:
            for address in getattr(header, "addresses", ()):
                if "@" in address.addr_spec:
                    found.add(address.addr_spec.lower())
    return found


def read_forward(
    raw: bytes,
    today: date,
    mail_from: str | None,
    is_touch_address: Callable[[str], bool],
) -> Forward | None:
    """The originals in the message ``raw`` if it is a forward the user wrote; None if not.

    ``mail_from`` is the envelope sender; ``is_touch_address`` tells a touch address (a
    predicate on an address). Never raises on a message it cannot read: a forward whose original
    cannot be read has no originals and says why in ``problems``."""
    try:
        message = _PARSER.parsebytes(raw)
    except Exception as error:  # the parser has more than one way to fail on bad input
        log.info("An inbound message could not be read as a forward: %s", error)
        return None
    assert isinstance(message, EmailMessage)
    if any(message.get(name) is not None for name in _REDIRECTED):
        return None
    if message.get_content_type() == "multipart/report":
        return None  # a delivery report carries a message too, and is no forward
    sender = _addresses(message, "From", "Sender")
    envelope = (mail_from or "").strip().strip("<>").lower()
    if not envelope:
        return None  # the null sender: a bounce, never a message the user wrote
    addressed = any(is_touch_address(a) for a in _addresses(message, "To", "Cc"))
    if envelope not in sender and not addressed:
        return None  # relayed by someone else than its From: a redirect, not a forward
    subject = str(message.get("Subject") or "")
    forward = Forward(forwarder=frozenset(sender | {envelope}))
    attached = list(_attached(message))
    for original in attached[:_MAX_ATTACHED]:
        try:
            forward.originals.append(message_encounter(original, today))
        except Unreadable as error:
            forward.problems.append(f"the attached message: {error}")
        except Exception as error:  # the header parser has more than one way to fail
            forward.problems.append(f"the attached message's headers cannot be read: {error}")
    if attached:
        return forward
    if _REPLY_SUBJECT.match(subject):
        return None
    block = _inline_block(message)
    if block is None:
        if not _FORWARD_SUBJECT.match(subject):
            return None
        forward.problems.append("a forward whose original's headers cannot be found")
        return forward
    try:
        forward.originals.append(_inline_encounter(block, message, today))
    except Unreadable as error:
        forward.problems.append(f"the forwarded message: {error}")
    except Exception as error:  # the header parser has more than one way to fail
        forward.problems.append(f"the forwarded message's headers cannot be read: {error}")
    return forward


def _attached(message: Message) -> Iterator[EmailMessage]:
    """The messages attached whole (message/rfc822 parts, ``.eml`` files), not those inside
    them."""
    for part in message.iter_parts() if isinstance(message, EmailMessage) else ():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            inner = part.get_payload(0) if part.is_multipart() else None
            if isinstance(inner, EmailMessage):
                yield inner
        elif part.is_multipart():
            yield from _attached(part)
        elif (part.get_filename() or "").lower().endswith(".eml"):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and data.strip():
                inner = _PARSER.parsebytes(data, headersonly=True)
                if isinstance(inner, EmailMessage):
                    yield inner


def _inline_block(message: EmailMessage) -> dict[str, Any] | None:
    """The header lines of the forwarded block in the message's text, by ``quotequail``."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return None
    try:
        text = body.get_content()
        if not isinstance(text, str):
            return None
        html = body.get_content_type() == "text/html"
        found = quotequail.unwrap_html(text) if html else quotequail.unwrap(text)
    except Exception as error:  # a broken part or HTML: no block found
        log.info("The forwarded block could not be read: %s", error)
        return None
    if not found or found.get("type") != "forward" or not found.get("from"):
        return None
    return dict(found)


def _address_line(value: str) -> str:
    """An inline block's address line as an RFC 5322 list: Outlook's ``;`` separators and
    ``[mailto:…]``, Gmail's bold names, made plain."""
    value = _MAILTO.sub(r"<\1>", value)
    value = _BOLD.sub(r"\1", value)
    return " ".join(value.replace(";", ",").split())


def _inline_encounter(block: dict[str, Any], outer: EmailMessage, today: date) -> Encounter:
    headers = EmailMessage(policy=email.policy.default)
    for name in ("From", "To", "Cc"):
        value = block.get(name.lower())
        if value:
            headers[name] = _address_line(str(value))
    people = message_people(headers)
    if not people:
        raise Unreadable("its From line names nobody")
    written = str(block.get("date") or "").strip()
    if not written:
        raise Unreadable("no Date line: the day it was sent is unknown")
    sent = _forwarded_date(written, _zone_of(outer))
    if sent is None:
        raise Unreadable(f"the Date line cannot be read: {shorten(written, 80)!r}")
    happened_on = sent_day(sent, today)
    subject = " ".join(str(block.get("subject") or "").split()) or None
    author = next((p.email or p.name or "" for p in people if p.role == "from"), "")
    # No Message-ID inline: the author, the minute and the subject name the message.
    seed = "\0".join([author, sent.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"), subject or ""])
    return Encounter(
        identity="mail\0forwarded\0" + hashlib.sha256(seed.encode()).hexdigest(),
        happened_at=sent.astimezone(UTC),
        happened_on=happened_on,
        subject=shorten(subject, MAX_SUBJECT),
        people=people,
        is_mail=True,
    )


def _zone_of(message: EmailMessage) -> str:
    """The forward's UTC offset ("+0100"): the zone its author's mail client writes dates in."""
    sent = getattr(message.get("Date"), "datetime", None)
    offset = sent.utcoffset() if isinstance(sent, datetime) else None
    if offset is None:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _forwarded_date(written: str, zone: str) -> datetime | None:
    """The time of a forwarded block's date line, aware; None if it cannot be read."""
    try:
        sent = email.utils.parsedate_to_datetime(written)
    except (TypeError, ValueError):
        sent = None
    if sent is not None:
        return sent if sent.tzinfo is not None else sent.replace(tzinfo=UTC)
    return dateparser.parse(
        written,
        languages=_FORWARD_LANGUAGES,
        settings={
            "RETURN_AS_TIMEZONE_AWARE": True,
            "TIMEZONE": zone,
            "PREFER_DATES_FROM": "past",
        },
    )
