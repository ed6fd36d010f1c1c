"""Contacts, their pain points and their expertise: plain functions over a session."""

from datetime import date
from typing import Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.contacts.schemas import (
    MAX_PAIN_POINTS,
    ContactCreate,
    ContactPublic,
    ContactUpdate,
    PainPointCreate,
    PainPointPublic,
    PainPointUpdate,
)
from app.indexing import RecordIndexer, contact_point_ids
from app.models import Contact, Expertise, PainPoint, Workspace
from app.paging import paginate
from app.schemas import like_pattern
from app.scoped import get_scoped
from app.workspaces.service import Cadences

DueFilter = Literal["due", "overdue"]


class TooManyPainPointsError(ValueError):
    """The contact holds the most active pain points a contact may have."""


def _make_room_for_active(contact: Contact) -> None:
    """Raise ``TooManyPainPointsError`` if one more active pain point would pass the limit."""
    if sum(p.active for p in contact.pain_points) >= MAX_PAIN_POINTS:
        raise TooManyPainPointsError(
            f"Contact {contact.id} already has {MAX_PAIN_POINTS} active pain points, the most a "
            f"contact can have: resolve one (DELETE /contacts/{contact.id}/pain-points/ID) "
            "before adding or re-opening another."
        )


def get_contact(*, session: Session, workspace: Workspace, contact_id: int) -> Contact | None:
    """The contact with this id in this workspace; None for another workspace's contact."""
    return get_scoped(session, Contact, workspace.id, contact_id)


def list_contacts(
    *,
    session: Session,
    workspace: Workspace,
    tier: str | None = None,
    search: str | None = None,
    limit: int = 50,
    offset: int = 0,
    due: DueFilter | None = None,
    cadences: Cadences | None = None,
    today: date | None = None,
) -> tuple[list[Contact], int]:
    """A page of contacts by name, filtered by tier, a name/company/email search and, with
    ``cadences`` and ``today``, by ``due`` ("due": due today or overdue, "overdue": past the
    due day), as ``next_due_on`` says (snoozes included)."""
    query = select(Contact).where(Contact.workspace_id == workspace.id)
    if tier:
        query = query.where(Contact.tier == tier)
    if search:
        pattern = like_pattern(search)
        query = query.where(
            or_(
                func.lower(Contact.name).like(pattern, escape="\\"),
                func.lower(Contact.company).like(pattern, escape="\\"),
                func.lower(Contact.email).like(pattern, escape="\\"),
            )
        )
    ordered = query.order_by(Contact.name, Contact.id)
    if due is None:
        return paginate(session, ordered, limit=limit, offset=offset)
    if cadences is None or today is None:
        raise ValueError("the due filter needs the cadences and the day")
    # The due day is computed per contact (cadence of the tier, first day, snooze), so the filter
    # runs on the workspace's matching contacts rather than in the query.
    latest = -1 if due == "overdue" else 0
    return paginate(
        session,
        ordered,
        limit=limit,
        offset=offset,
        keep=lambda c: (next_due_on(c, cadences) - today).days <= latest,
    )


def _replace_expertise(contact: Contact, lines: list[str]) -> None:
    """Set the expertise list, keeping the rows whose text is unchanged."""
    kept = {e.text: e for e in contact.expertise}
    new_rows = []
    for position, line in enumerate(dict.fromkeys(lines)):
        row = kept.pop(line, None) or Expertise(workspace_id=contact.workspace_id, text=line)
        row.position = position
        new_rows.append(row)
    contact.expertise = new_rows


def _new_pain_point(contact: Contact, data: PainPointCreate, today: date) -> PainPoint:
    return PainPoint(
        workspace_id=contact.workspace_id,
        text=data.text,
        noted_on=data.noted_on or today,
        active=data.active,
    )


def create_contact(
    *,
    session: Session,
    indexer: RecordIndexer,
    workspace: Workspace,
    data: ContactCreate,
    today: date,
) -> Contact:
    contact = Contact(
        workspace_id=workspace.id,
        name=data.name,
        email=data.email,
        company=data.company,
        title=data.title,
        field=data.field,
        tier=data.tier or workspace.default_tier,
        notes=data.notes,
        linkedin_url=data.linkedin_url,
        phones=list(dict.fromkeys(data.phones)),
        last_contacted_on=data.last_contacted_on,
    )
    session.add(contact)
    session.flush()
    for item in data.pain_points:
        spec = PainPointCreate(text=item) if isinstance(item, str) else item
        contact.pain_points.append(_new_pain_point(contact, spec, today))
    _replace_expertise(contact, data.expertise)
    session.flush()
    indexer.sync_contact(contact)
    return contact


def update_contact(
    *, session: Session, indexer: RecordIndexer, contact: Contact, data: ContactUpdate
) -> Contact:
    previous = contact_point_ids(contact)
    changes = data.model_dump(exclude_unset=True)
    expertise = changes.pop("expertise", None)
    for name, value in changes.items():
        setattr(contact, name, value)
    if expertise is not None:
        _replace_expertise(contact, expertise)
    session.flush()
    indexer.sync_contact(contact, previous)
    return contact


def delete_contact(*, session: Session, indexer: RecordIndexer, contact: Contact) -> None:
    indexer.remove_contact(contact)
    session.delete(contact)
    session.flush()


def add_pain_point(
    *,
    session: Session,
    indexer: RecordIndexer,
    contact: Contact,
    data: PainPointCreate,
    today: date,
) -> PainPoint:
    if data.active:
        _make_room_for_active(contact)
    pain_point = _new_pain_point(contact, data, today)
    contact.pain_points.append(pain_point)
    session.flush()
    indexer.sync_contact(contact)
    return pain_point


def get_pain_point(*, contact: Contact, pain_point_id: int) -> PainPoint | None:
    return next((p for p in contact.pain_points if p.id == pain_point_id), None)


def update_pain_point(
    *, session: Session, indexer: RecordIndexer, pain_point: PainPoint, data: PainPointUpdate
) -> None:
    """Edit a pain point; only its own vector is recomputed, and only if its text changed."""
    if data.active and not pain_point.active:
        _make_room_for_active(pain_point.contact)
    previous = contact_point_ids(pain_point.contact)
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(pain_point, name, value)
    session.flush()
    indexer.sync_contact(pain_point.contact, previous)


def resolve_pain_point(*, session: Session, indexer: RecordIndexer, pain_point: PainPoint) -> None:
    """Mark a pain point solved. It stays on record (history), but no longer drives suggestions."""
    previous = contact_point_ids(pain_point.contact)
    pain_point.active = False
    session.flush()
    indexer.sync_contact(pain_point.contact, previous)


def next_due_on(contact: Contact, cadences: Cadences) -> date:
    """The last touch plus the tier's cadence (a contact never touched is due from the day
    added), or the end of the contact's snooze if that is later."""
    if contact.last_contacted_on is None:
        due = contact.created_at.astimezone().date()  # the local day it was added
    else:
        due = cadences.next_due_on(contact.tier, contact.last_contacted_on)
    if contact.snoozed_until is not None and contact.snoozed_until > due:
        return contact.snoozed_until
    return due


def is_snoozed(contact: Contact, day: date) -> bool:
    """Whether the contact is kept off the lists on ``day``."""
    return contact.snoozed_until is not None and day < contact.snoozed_until


def snooze(*, session: Session, contact: Contact, until: date | None) -> None:
    """Keep the contact off every list before ``until`` (None: back now); nothing is logged."""
    contact.snoozed_until = until
    session.flush()


def to_public(contact: Contact, cadences: Cadences) -> ContactPublic:
    return ContactPublic(
        id=contact.id,
        name=contact.name,
        email=contact.email,
        company=contact.company,
        title=contact.title,
        field=contact.field,
        tier=contact.tier,
        pain_points=[PainPointPublic.model_validate(p) for p in contact.pain_points],
        expertise=[e.text for e in contact.expertise],
        notes=contact.notes,
        linkedin_url=contact.linkedin_url,
        phones=contact.phones,
        last_contacted_on=contact.last_contacted_on,
        next_due_on=next_due_on(contact, cadences),
        snoozed_until=contact.snoozed_until,
        created_at=contact.created_at,
        updated_at=contact.updated_at,
    )
