"""Reading the encounters in a calendar (.ics) or in mail (.mbox, .eml): who, when, what about.

Plain Python, no database: each reader turns a file into ``Encounter`` rows (one per occurrence
of an event, one per message), with the events or messages it could not read listed and skipped.
A file that is not the format named is refused whole (``FileRejected``). Message bodies are
never read.

Calendars: each ``VEVENT`` is read on its own, so a malformed one is reported (with its line) and
the others kept; recurring events are expanded by ``recurring-ical-events`` (RRULE, RDATE, EXDATE,
moved occurrences, time zones, Google's X-WR-TIMEZONE) from the file's first event to today;
cancelled events and occurrences are left out, and so are attendees who declined.
"""

import email.policy
import hashlib
import mailbox
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Literal

import icalendar
import recurring_ical_events

from app.formats import TouchFormat
from app.imports.parsers.common import FileRejected, Parsed, Problem, Row, decode_text, shorten
from app.schemas import FIRST_YEAR

MAX_SUBJECT = 500
# A daily meeting over decades, or a file made to explode: past this, the rest is left out.
MAX_OCCURRENCES = 20_000
Role = Literal["from", "to", "organizer", "attendee"]


@dataclass(frozen=True)
class Person:
    """Someone named in an event or a message: an e-mail address (lower case) and/or a name."""

    email: str | None
    name: str | None
    role: Role


@dataclass(frozen=True)
class Encounter:
    """One event occurrence or one message."""

    # What names it in its source, the same each time the file is read: the event's UID (with
    # the occurrence's original start for a recurring one), or the message's Message-ID.
    identity: str
    happened_at: datetime | None
    happened_on: date
    subject: str | None
    people: tuple[Person, ...]
    is_mail: bool


def detect_format(data: bytes) -> TouchFormat:
    """The format of a file given without one: a calendar, an mbox or a single message."""
    head = data.lstrip(b"\xef\xbb\xbf\r\n\t ")[:200]
    if head.upper().startswith(b"BEGIN:VCALENDAR"):
        return TouchFormat.ics
    if head.startswith(b"From "):
        return TouchFormat.mbox
    if _HEADER_LINE.match(head):
        return TouchFormat.eml
    raise FileRejected(
        "The file is neither a calendar (.ics), an mbox nor an e-mail message (.eml): "
        "name the format if it is one of them."
    )


def read_file(data: bytes, format_name: TouchFormat, today: date) -> Parsed[Encounter]:
    if format_name == TouchFormat.ics:
        return read_ics(data, today)
    if format_name == TouchFormat.mbox:
        return read_mbox(data, today)
    return read_eml(data, today)


# --- calendars ------------------------------------------------------------------------------

# Properties without which an event's time or people cannot be trusted: broken, the event is
# skipped. A broken other property (a description, a location) is left out with a warning.
_ESSENTIAL = frozenset(
    {
        "UID",
        "DTSTART",
        "DTEND",
        "DURATION",
        "RRULE",
        "RDATE",
        "EXDATE",
        "RECURRENCE-ID",
        "STATUS",
        "ORGANIZER",
        "ATTENDEE",
    }
)
_CONTENT_LINE = re.compile(r"^[A-Za-z0-9-]+(;[^:]*)?:")


@dataclass
class _Block:
    """A ``BEGIN:VEVENT`` … ``END:VEVENT`` block of the file: its number, line and text."""

    record: int
    line: int
    lines: list[str]


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Each content line with the number of its first physical line (folded lines joined as
    physical lines: their text is kept as written)."""
    number, current = 0, None
    for index, physical in enumerate(text.splitlines(), 1):
        if physical[:1] in (" ", "\t") and current is not None:
            current += "\r\n" + physical
            continue
        if current is not None:
            yield number, current
        number, current = index, physical
    if current is not None:
        yield number, current


def _split_calendar(text: str, parsed: Parsed[Encounter]) -> tuple[str, list[_Block]]:
    """The calendar without its events (time zones, properties) and the events, apart."""
    shell: list[str] = []
    blocks: list[_Block] = []
    block: _Block | None = None
    for number, line in _logical_lines(text):
        name = line.strip().upper()
        if block is None and name == "BEGIN:VEVENT":
            block = _Block(record=len(blocks) + 1, line=number, lines=[line])
        elif block is not None:
            block.lines.append(line)
            if name == "END:VEVENT":
                blocks.append(block)
                block = None
        elif not line.strip():
            continue
        elif _CONTENT_LINE.match(line):
            shell.append(line)
        else:
            parsed.warnings.append(
                Problem(0, number, f"not a calendar line, left out: {shorten(line, 80)!r}")
            )
    if block is not None:
        parsed.skipped.append(
            Problem(block.record, block.line, "the event has no END:VEVENT: the file is cut")
        )
    return "\r\n".join(shell) + "\r\n", blocks


def _read_event(block: _Block, parsed: Parsed[Encounter]) -> icalendar.Event | None:
    try:
        event = icalendar.Event.from_ical("\r\n".join(block.lines) + "\r\n")
    except Exception as error:  # icalendar raises more than ValueError on some broken input
        parsed.skipped.append(Problem(block.record, block.line, f"unreadable event: {error}"))
        return None
    if not isinstance(event, icalendar.Event):
        parsed.skipped.append(Problem(block.record, block.line, "unreadable event"))
        return None
    broken = [(name, message) for name, message in event.errors if name in _ESSENTIAL]
    if broken:
        reasons = "; ".join(f"{name}: {message}" for name, message in broken)
        parsed.skipped.append(Problem(block.record, block.line, f"malformed event: {reasons}"))
        return None
    if event.get("DTSTART") is None:
        parsed.skipped.append(Problem(block.record, block.line, "the event has no DTSTART"))
        return None
    for name, message in event.errors:
        what = name or "a line"
        parsed.warnings.append(Problem(block.record, block.line, f"{what} left out: {message}"))
    return event


def _start(value: date | datetime) -> tuple[datetime | None, date]:
    """The time (None for an all-day event) and the server's local day an event starts on."""
    if isinstance(value, datetime):
        # A floating time (no zone) is taken as the server's local time.
        at = value.astimezone()
        return at.astimezone(UTC), at.date()
    return None, value


def _address(value: Any, role: Role) -> Person | None:
    address = str(value).strip()
    if address.lower().startswith("mailto:"):
        address = address[len("mailto:") :]
    params = getattr(value, "params", {})
    if str(params.get("PARTSTAT", "")).upper() == "DECLINED":
        return None
    name = " ".join(str(params.get("CN", "")).strip('"').split()) or None
    email_address = address.strip().lower() if "@" in address else None
    if email_address is None and name is None:
        return None
    return Person(email=email_address, name=name, role=role)


def _event_people(event: icalendar.Event) -> tuple[Person, ...]:
    people: list[Person] = []
    organizer = event.get("ORGANIZER")
    if organizer is not None and (person := _address(organizer, "organizer")):
        people.append(person)
    attendees = event.get("ATTENDEE", [])
    for attendee in attendees if isinstance(attendees, list) else [attendees]:
        if person := _address(attendee, "attendee"):
            people.append(person)
    return tuple(people)


def read_ics(data: bytes, today: date) -> Parsed[Encounter]:
    text = decode_text(data)
    if not text.lstrip().upper().startswith("BEGIN:VCALENDAR"):
        raise FileRejected(
            "Not an iCalendar (.ics) file: a calendar starts with the line BEGIN:VCALENDAR."
        )
    parsed: Parsed[Encounter] = Parsed(format=TouchFormat.ics)
    shell_text, blocks = _split_calendar(text, parsed)
    try:
        shell = icalendar.Calendar.from_ical(shell_text)
    except Exception as error:  # icalendar raises more than ValueError on some broken input
        raise FileRejected(f"The calendar cannot be read: {error}") from error
    if not isinstance(shell, icalendar.Calendar):
        raise FileRejected("Not an iCalendar (.ics) file: it holds no VCALENDAR.")

    groups: dict[str, list[tuple[_Block, icalendar.Event]]] = {}
    first_day: date | None = None
    for block in blocks:
        event = _read_event(block, parsed)
        if event is None:
            continue
        _, day = _start(event.DTSTART)
        first_day = day if first_day is None else min(first_day, day)
        uid = str(event.get("UID") or f"no-uid:{block.record}")
        groups.setdefault(uid, []).append((block, event))
    if first_day is None:
        return parsed
    window = (max(first_day, date(FIRST_YEAR, 1, 1)), today + timedelta(days=1))
    occurrences = 0
    for uid, members in groups.items():
        for block, encounter in _expand(shell, uid, members, window, parsed):
            if encounter.happened_on > today:
                continue  # to come: not a touch yet
            occurrences += 1
            if occurrences > MAX_OCCURRENCES:
                parsed.warnings.append(
                    Problem(
                        block.record,
                        block.line,
                        f"more than {MAX_OCCURRENCES:,} event occurrences: the rest of the file "
                        "is left out",
                    )
                )
                return parsed
            parsed.rows.append(Row(record=block.record, line=block.line, value=encounter))
    return parsed


def _expand(
    shell: icalendar.Calendar,
    uid: str,
    members: list[tuple[_Block, icalendar.Event]],
    window: tuple[date, date],
    parsed: Parsed[Encounter],
) -> Iterator[tuple[_Block, Encounter]]:
    """The occurrences of one event (its master and its moved occurrences) within ``window``."""
    calendar = icalendar.Calendar()
    for name, value in shell.items():
        calendar.add(name, value)
    for timezone in shell.walk("VTIMEZONE"):
        calendar.add_component(timezone)
    for _, event in members:
        calendar.add_component(event)
    recurring = any(e.get("RRULE") or e.get("RDATE") or e.get("RECURRENCE-ID") for _, e in members)
    master = next((b for b, e in members if e.get("RECURRENCE-ID") is None), members[0][0])
    try:
        found = list(recurring_ical_events.of(calendar).between(*window))
    except Exception as error:  # the library raises several kinds on a bad series
        for block, _ in members:
            parsed.skipped.append(
                Problem(block.record, block.line, f"the event's recurrence cannot be read: {error}")
            )
        return
    for occurrence in found:
        if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
            continue
        happened_at, happened_on = _start(occurrence.DTSTART)
        identity = f"ics\0{uid}"
        if recurring:
            original = occurrence.get("RECURRENCE-ID")
            start = original.dt if original is not None else occurrence.DTSTART
            identity += "\0" + _instant(start)
        summary = occurrence.get("SUMMARY")
        yield (
            master,
            Encounter(
                identity=identity,
                happened_at=happened_at,
                happened_on=happened_on,
                subject=shorten(str(summary).strip() or None, MAX_SUBJECT) if summary else None,
                people=_event_people(occurrence),
                is_mail=False,
            ),
        )


def _instant(value: date | datetime) -> str:
    """One spelling of an occurrence's start, whatever the zone it is written in."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    return datetime.combine(value, time()).isoformat()


# --- mail -----------------------------------------------------------------------------------

_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")
_PARSER = BytesParser(policy=email.policy.default)
_ADDRESS_ROLES: tuple[tuple[str, Role], ...] = (("From", "from"), ("To", "to"), ("Cc", "to"))


class Unreadable(ValueError):
    """A message that cannot be logged (no date, a date to come, headers that cannot be read)."""


def message_people(message: EmailMessage) -> tuple[Person, ...]:
    """The people of a message's From, To and Cc (RFC 2047 names decoded by the parser)."""
    people: list[Person] = []
    for header_name, role in _ADDRESS_ROLES:
        for header in message.get_all(header_name) or []:
            for address in getattr(header, "addresses", ()):
                spec = address.addr_spec
                person = Person(
                    email=spec.lower() if "@" in spec else None,
                    name=" ".join(address.display_name.split()) or None,
                    role=role,
                )
                if person.email or person.name:
                    people.append(person)
    return tuple(people)


def sent_day(sent: datetime, today: date) -> date:
    """The server's local day of a message sent at ``sent`` (aware); ``Unreadable`` when it is
    out of range or after today."""
    if sent.year < FIRST_YEAR or sent.year > today.year + 1:
        raise Unreadable(f"the Date header is out of range: {sent.isoformat()}")
    happened_on = sent.astimezone().date()
    if happened_on > today:
        raise Unreadable(f"dated {happened_on.isoformat()}, after today")
    return happened_on


def message_encounter(message: EmailMessage, today: date) -> Encounter:
    """One message read from its headers; ``Unreadable`` when it cannot be logged."""
    date_header = message.get("Date")
    if date_header is None:
        raise Unreadable("no Date header: the day it was sent is unknown")
    sent = getattr(date_header, "datetime", None)
    if not isinstance(sent, datetime):
        raise Unreadable(f"the Date header cannot be read: {shorten(str(date_header), 80)!r}")
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=UTC)  # "-0000": the zone is unknown, the time is in UTC
    happened_on = sent_day(sent, today)
    subject = str(message.get("Subject") or "").strip() or None
    message_id = str(message.get("Message-ID") or "").strip()
    if not message_id:
        # No Message-ID (rare): the date, sender and subject name the message instead.
        seed = "\0".join([sent.isoformat(), str(message.get("From") or ""), subject or ""])
        message_id = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
    return Encounter(
        identity=f"mail\0{message_id}",
        happened_at=sent.astimezone(UTC),
        happened_on=happened_on,
        subject=shorten(subject, MAX_SUBJECT),
        people=message_people(message),
        is_mail=True,
    )


def _add_message(
    parsed: Parsed[Encounter], record: int, line: int | None, raw: bytes, today: date
) -> None:
    try:
        message = _PARSER.parsebytes(raw, headersonly=True)
        assert isinstance(message, EmailMessage)
        parsed.rows.append(Row(record, line, message_encounter(message, today)))
    except Unreadable as error:
        parsed.skipped.append(Problem(record, line, str(error)))
    except Exception as error:  # the header parser has more than one way to fail on bad input
        reason = f"the message's headers cannot be read: {error}"
        parsed.skipped.append(Problem(record, line, reason))


def read_mbox(data: bytes, today: date) -> Parsed[Encounter]:
    if not data.lstrip(b"\r\n").startswith(b"From "):
        raise FileRejected(
            "Not an mbox file: an mbox (Gmail Takeout's, Thunderbird's) starts with a line "
            "'From …'."
        )
    parsed: Parsed[Encounter] = Parsed(format=TouchFormat.mbox)
    starts = [i for i, line in enumerate(data.split(b"\n"), 1) if line.startswith(b"From ")]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "import.mbox"
        path.write_bytes(data)
        box = mailbox.mbox(path, create=False)
        try:
            keys = list(box.iterkeys())
            lines: list[int | None] = (
                list(starts) if len(starts) == len(keys) else [None] * len(keys)
            )
            for record, (key, line) in enumerate(zip(keys, lines, strict=True), 1):
                _add_message(parsed, record, line, box.get_bytes(key), today)
        finally:
            box.close()
    return parsed


def read_eml(data: bytes, today: date) -> Parsed[Encounter]:
    if not data.strip():
        raise FileRejected("The file is empty.")
    head = data.lstrip(b"\r\n")
    if head.startswith(b"From "):
        raise FileRejected("This is an mbox file, not a single message: import it as mbox.")
    if not _HEADER_LINE.match(head):
        raise FileRejected(
            "Not an e-mail message (.eml): a message starts with headers such as 'From:'."
        )
    message = _PARSER.parsebytes(data, headersonly=True)
    if message.get("From") is None:
        raise FileRejected("Not an e-mail message (.eml): it has no From header.")
    parsed: Parsed[Encounter] = Parsed(format=TouchFormat.eml)
    _add_message(parsed, 1, 1, data, today)
    return parsed
