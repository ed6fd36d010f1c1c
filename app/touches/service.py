"""Touches: log one by hand, list a contact's, and log those a calendar or mail file holds.

A touch restarts the contact's cadence (``app.ledger.service.touch``: ``last_contacted_on``
moves to the latest day, never back), so the daily list and the nightly batch, which read
``last_contacted_on``, leave a contact touched yesterday off today's list. It is not a give.

People in a file are matched to the workspace's contacts by e-mail, then by name when exactly one
contact has that name; nobody is created: the people not matched are listed in the report.
"""

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.formats import TouchFormat
from app.imports.parsers.common import Parsed
from app.imports.schemas import RowProblem
from app.ledger.service import touch
from app.models import Contact, Touch, TouchKind, TouchSource, Workspace
from app.paging import paginate
from app.scoped import scoped
from app.touches.readers import Encounter, Person, detect_format, read_file
from app.touches.schemas import TouchCreate, TouchImportReport, UnknownPerson

MAX_UNKNOWN_LISTED = 200
_KEY_CHUNK = 500


def log_touch(
    *,
    session: Session,
    contact: Contact,
    kind: TouchKind,
    happened_on: date,
    source: TouchSource,
    happened_at: datetime | None = None,
    subject: str | None = None,
    dedupe_key: str | None = None,
) -> Touch:
    record = Touch(
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        kind=kind.value,
        happened_on=happened_on,
        happened_at=happened_at,
        source=source.value,
        subject=subject,
        dedupe_key=dedupe_key,
    )
    session.add(record)
    touch(contact, happened_on)
    return record


def add_touch(*, session: Session, contact: Contact, data: TouchCreate, today: date) -> Touch:
    if data.happened_on is not None:
        day = data.happened_on
    elif data.happened_at is not None:
        day = data.happened_at.astimezone().date()
    else:
        day = today
    record = log_touch(
        session=session,
        contact=contact,
        kind=data.kind,
        happened_on=day,
        happened_at=data.happened_at,
        source=TouchSource.manual,
        subject=data.subject,
    )
    session.flush()
    return record


def list_touches(
    *, session: Session, contact: Contact, limit: int | None = None, offset: int = 0
) -> tuple[list[Touch], int]:
    """The contact's touches, latest first, and how many there are."""
    query = scoped(Touch, contact.workspace_id).where(Touch.contact_id == contact.id)
    ordered = query.order_by(Touch.happened_on.desc(), Touch.id.desc())
    return paginate(session, ordered, limit=limit, offset=offset)


# --- imports --------------------------------------------------------------------------------


def _name_key(name: str) -> str:
    return " ".join(name.replace('"', " ").lower().split())


class _PeopleMatcher:
    """The workspace's contacts by e-mail, and by name where the name is one contact's only."""

    def __init__(self, contacts: Iterable[Contact]) -> None:
        self.by_email: dict[str, Contact] = {}
        by_name: dict[str, list[Contact]] = {}
        for contact in contacts:
            if contact.email:
                self.by_email.setdefault(contact.email.lower(), contact)
            by_name.setdefault(_name_key(contact.name), []).append(contact)
        self.by_name = {name: found[0] for name, found in by_name.items() if len(found) == 1}

    def match(self, person: Person) -> Contact | None:
        if person.email and (contact := self.by_email.get(person.email)):
            return contact
        if person.name:
            return self.by_name.get(_name_key(person.name))
        return None


def dedupe_key(identity: str) -> str:
    """What is stored of an encounter's identity: its SHA-256 (a UID can be any length).

    Calendar events are named by ``ics`` and their UID; messages by ``mail`` and their
    Message-ID, whichever file or route they came by (an .eml saved from an mbox already imported
    logs nothing new). With the contact (in the unique constraint), one touch per encounter and
    contact."""
    return hashlib.sha256(identity.encode()).hexdigest()


def _kind(encounter: Encounter, matched: dict[Person, Contact]) -> TouchKind:
    if not encounter.is_mail:
        return TouchKind.meeting
    # Sent by a contact: the user received it (with whoever else it went to); else the user
    # sent it (a Sent folder, or mail the user wrote to the contacts named).
    if any(person.role == "from" for person in matched):
        return TouchKind.email_received
    return TouchKind.email_sent


@dataclass
class _Unknown:
    names: Counter[str] = field(default_factory=Counter)
    occurrences: int = 0


def _existing_keys(session: Session, workspace: Workspace, keys: set[str]) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), _KEY_CHUNK):
        chunk = ordered[start : start + _KEY_CHUNK]
        rows = session.execute(
            select(Touch.contact_id, Touch.dedupe_key).where(
                Touch.workspace_id == workspace.id, Touch.dedupe_key.in_(chunk)
            )
        )
        found.update((contact_id, key) for contact_id, key in rows if key is not None)
    return found


def import_touch_file(
    *,
    session: Session,
    workspace: Workspace,
    data: bytes,
    format_name: TouchFormat | None,
    today: date,
    source: TouchSource | None = None,
) -> TouchImportReport:
    """Log a touch for every contact in every event or message of the file, once.

    ``source`` names where the touches came from when it is not the file's format (a message
    received by the SMTP listener is read as an .eml)."""
    chosen = format_name or detect_format(data)
    parsed = read_file(data, chosen, today)
    return log_encounters(
        session=session, workspace=workspace, parsed=parsed, source=source or TouchSource(chosen)
    )


def log_encounters(
    *, session: Session, workspace: Workspace, parsed: Parsed[Encounter], source: TouchSource
) -> TouchImportReport:
    """Log a touch for every contact of every encounter read, once (``dedupe_key``)."""
    chosen = TouchFormat(parsed.format)
    matcher = _PeopleMatcher(session.scalars(scoped(Contact, workspace.id)))
    keys = {dedupe_key(row.value.identity) for row in parsed.rows}
    seen = _existing_keys(session, workspace, keys)
    unknown: dict[str, _Unknown] = {}
    logged = already = 0
    touched: set[int] = set()
    for row in parsed.rows:
        encounter = row.value
        key = dedupe_key(encounter.identity)
        matched: dict[Person, Contact] = {}
        strangers: set[str] = set()
        for person in encounter.people:
            contact = matcher.match(person)
            if contact is not None:
                matched.setdefault(person, contact)
            else:
                who = person.email or _name_key(person.name or "")
                if who and who not in strangers:
                    strangers.add(who)
                    entry = unknown.setdefault(who, _Unknown())
                    entry.occurrences += 1
                    if person.name:
                        entry.names[person.name] += 1
        kind = _kind(encounter, matched)
        for contact in dict.fromkeys(matched.values()):
            if (contact.id, key) in seen:
                already += 1
                continue
            seen.add((contact.id, key))
            log_touch(
                session=session,
                contact=contact,
                kind=kind,
                happened_on=encounter.happened_on,
                happened_at=encounter.happened_at,
                source=source,
                subject=encounter.subject,
                dedupe_key=key,
            )
            logged += 1
            touched.add(contact.id)
    session.flush()
    return _report(chosen, parsed, logged, already, len(touched), unknown)


def _report(
    format_name: TouchFormat,
    parsed: Parsed[Encounter],
    logged: int,
    already: int,
    contacts_touched: int,
    unknown: dict[str, _Unknown],
) -> TouchImportReport:
    ranked = sorted(unknown.items(), key=lambda item: (-item[1].occurrences, item[0]))
    skipped = sorted(parsed.skipped, key=lambda p: (p.record, p.line or 0))
    return TouchImportReport(
        format=format_name,
        read=len(parsed.rows),
        logged=logged,
        already_logged=already,
        contacts_touched=contacts_touched,
        skipped=len(skipped),
        skipped_rows=[RowProblem(record=p.record, line=p.line, reason=p.reason) for p in skipped],
        warnings=[
            RowProblem(record=p.record, line=p.line, reason=p.reason) for p in parsed.warnings
        ],
        unknown_people=[
            UnknownPerson(
                email=who if "@" in who else None,
                name=entry.names.most_common(1)[0][0] if entry.names else None,
                occurrences=entry.occurrences,
            )
            for who, entry in ranked[:MAX_UNKNOWN_LISTED]
        ],
        unknown_people_total=len(unknown),
    )
