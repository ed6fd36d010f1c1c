"""HTTP routes of the contacts resource: validation in, service call, schema out."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from app.contacts import service
from app.contacts.schemas import (
    ContactCreate,
    ContactPublic,
    ContactUpdate,
    PainPointCreate,
    PainPointPublic,
    PainPointUpdate,
    SnoozeRequest,
)
from app.deps import (
    ContactDep,
    IndexerDep,
    PagingDep,
    RecordId,
    SessionDep,
    SettingsDep,
    WorkspaceDep,
    pain_point_or_404,
)
from app.models import Tier
from app.schemas import Page
from app.workspaces.service import cadences_for

router = APIRouter(prefix="/contacts", tags=["contacts"])


def _too_many(error: service.TooManyPainPointsError) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error))


@router.post("", status_code=status.HTTP_201_CREATED)
def create_contact(
    data: ContactCreate,
    session: SessionDep,
    indexer: IndexerDep,
    workspace: WorkspaceDep,
    settings: SettingsDep,
) -> ContactPublic:
    """Add a contact, with their pain points (what they struggle with) and expertise (what they
    can help others with); they are matched against your articles and other contacts at once."""
    contact = service.create_contact(
        session=session, indexer=indexer, workspace=workspace, data=data, today=date.today()
    )
    return service.to_public(contact, cadences_for(workspace, settings))


@router.get("")
def list_contacts(
    session: SessionDep,
    workspace: WorkspaceDep,
    settings: SettingsDep,
    paging: PagingDep,
    tier: Annotated[Tier | None, Query(description="A, B or C")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Search name, company, email")
    ] = None,
    due: Annotated[
        service.DueFilter | None,
        Query(description="due: due today or overdue; overdue: past the due day"),
    ] = None,
) -> Page[ContactPublic]:
    """The workspace's contacts, a page at a time: search by name, company or e-mail, filter by
    tier and by due or overdue."""
    cadences = cadences_for(workspace, settings)
    contacts, total = service.list_contacts(
        session=session,
        workspace=workspace,
        tier=tier,
        search=q,
        limit=paging.limit,
        offset=paging.offset,
        due=due,
        cadences=cadences,
        today=date.today(),
    )
    return paging.page([service.to_public(c, cadences) for c in contacts], total)


@router.get("/{contact_id}")
def get_contact(
    contact: ContactDep, workspace: WorkspaceDep, settings: SettingsDep
) -> ContactPublic:
    """One contact, with their pain points, expertise and when they are next due."""
    return service.to_public(contact, cadences_for(workspace, settings))


@router.patch("/{contact_id}")
def update_contact(
    contact: ContactDep,
    data: ContactUpdate,
    session: SessionDep,
    indexer: IndexerDep,
    workspace: WorkspaceDep,
    settings: SettingsDep,
) -> ContactPublic:
    """Change a contact: only the fields sent change; ``expertise`` and ``phones`` replace the
    list. Pain points have their own routes."""
    service.update_contact(session=session, indexer=indexer, contact=contact, data=data)
    return service.to_public(contact, cadences_for(workspace, settings))


@router.delete("/{contact_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_contact(contact: ContactDep, session: SessionDep, indexer: IndexerDep) -> None:
    """Delete a contact and what is recorded about them (pain points, expertise); this cannot be
    undone."""
    service.delete_contact(session=session, indexer=indexer, contact=contact)


@router.post("/{contact_id}/snooze")
def snooze_contact(
    contact: ContactDep,
    data: SnoozeRequest,
    session: SessionDep,
    workspace: WorkspaceDep,
    settings: SettingsDep,
) -> ContactPublic:
    """Not now: the contact leaves every list (due, coming up, today's if its suggestion is still
    open) until ``until``, and no give is logged. Snoozing again replaces the day."""
    service.snooze(session=session, contact=contact, until=data.until)
    return service.to_public(contact, cadences_for(workspace, settings))


@router.delete("/{contact_id}/snooze")
def end_snooze(
    contact: ContactDep, session: SessionDep, workspace: WorkspaceDep, settings: SettingsDep
) -> ContactPublic:
    """End the contact's snooze now: due again if the cadence says so."""
    service.snooze(session=session, contact=contact, until=None)
    return service.to_public(contact, cadences_for(workspace, settings))


@router.post("/{contact_id}/pain-points", status_code=status.HTTP_201_CREATED)
def add_pain_point(
    contact: ContactDep,
    data: PainPointCreate,
    session: SessionDep,
    indexer: IndexerDep,
) -> PainPointPublic:
    """Add a pain point to a contact: what they struggle with, in their words. Suggestions for
    it are made from your articles and other contacts' expertise."""
    try:
        pain_point = service.add_pain_point(
            session=session, indexer=indexer, contact=contact, data=data, today=date.today()
        )
    except service.TooManyPainPointsError as error:
        raise _too_many(error) from error
    return PainPointPublic.model_validate(pain_point)


@router.patch("/{contact_id}/pain-points/{pain_point_id}")
def update_pain_point(
    contact: ContactDep,
    pain_point_id: RecordId,
    data: PainPointUpdate,
    session: SessionDep,
    indexer: IndexerDep,
) -> PainPointPublic:
    """Reword a pain point, change the day it was heard, or mark it active again or resolved."""
    pain_point = pain_point_or_404(contact, pain_point_id)
    try:
        service.update_pain_point(
            session=session, indexer=indexer, pain_point=pain_point, data=data
        )
    except service.TooManyPainPointsError as error:
        raise _too_many(error) from error
    return PainPointPublic.model_validate(pain_point)


@router.delete("/{contact_id}/pain-points/{pain_point_id}")
def resolve_pain_point(
    contact: ContactDep,
    pain_point_id: RecordId,
    session: SessionDep,
    indexer: IndexerDep,
) -> PainPointPublic:
    """Resolve a pain point: it is kept (``active: false``) but no longer drives suggestions."""
    pain_point = pain_point_or_404(contact, pain_point_id)
    service.resolve_pain_point(session=session, indexer=indexer, pain_point=pain_point)
    return PainPointPublic.model_validate(pain_point)
