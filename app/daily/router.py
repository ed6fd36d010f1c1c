"""HTTP routes of the daily list: read the day's list, build it now, snooze one of its contacts."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from sqlalchemy.orm import Session

from app.contacts.schemas import SnoozeRequest
from app.contacts.service import snooze
from app.daily import service
from app.daily.schemas import DailyListPublic
from app.deps import SessionDep, SettingsDep, WorkspaceDep
from app.models import DailyList, Workspace
from app.schemas import IsoDate
from app.suggestions.engine import SuggestionEngine
from app.workspaces.service import cadences_for

router = APIRouter(tags=["daily"])

DayQuery = Annotated[
    IsoDate | None,
    Query(alias="date", description="YYYY-MM-DD; default: today (the server's local day)."),
]
Position = Annotated[int, Path(ge=1, le=10_000, description="The item's `position` on the list.")]


def _stored_list(session: Session, workspace: Workspace, day: date) -> DailyList:
    """The list stored for ``day``; 404 if none was built."""
    daily_list = service.get_daily_list(session=session, workspace=workspace, day=day)
    if daily_list is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"No daily list for {day.isoformat()}: the nightly batch has not run for that day "
            "(run `givefirst nightly`, or POST /daily to build it now).",
        )
    return daily_list


@router.get("/daily", responses={404: {"description": "No list was built for that day."}})
def get_daily(
    session: SessionDep, workspace: WorkspaceDep, day: DayQuery = None
) -> DailyListPublic:
    """The day's list, as the nightly batch stored it: whom to help, and with what.

    A contact snoozed since it was built is left out while its suggestion is open; an item sent
    or dismissed stays as it was. Positions are kept, so a snoozed item leaves a gap.
    """
    daily_list = _stored_list(session, workspace, day or date.today())
    return service.to_public(session, daily_list, workspace)


@router.post("/daily")
def build_daily(
    request: Request,
    session: SessionDep,
    workspace: WorkspaceDep,
    settings: SettingsDep,
    day: DayQuery = None,
) -> DailyListPublic:
    """Build the day's list now, as the nightly batch would (a list already built is returned
    unchanged)."""
    engine: SuggestionEngine = request.app.state.suggestion_engine
    daily_list, _ = service.build_daily_list(
        session=session,
        engine=engine,
        workspace=workspace,
        cadences=cadences_for(workspace, settings),
        day=day or date.today(),
        config=settings.daily_config(),
    )
    return service.to_public(session, daily_list, workspace)


@router.post(
    "/daily/items/{position}/snooze",
    responses={404: {"description": "No list for that day, or no item at that position."}},
)
def snooze_item(
    position: Position,
    data: SnoozeRequest,
    session: SessionDep,
    workspace: WorkspaceDep,
    day: DayQuery = None,
) -> DailyListPublic:
    """Not now: snooze the contact of this item until ``until``, as POST
    /contacts/{id}/snooze does (no give is logged; its suggestion stays open for when the contact
    comes back). Answers the list as it now reads, without that contact."""
    daily_list = _stored_list(session, workspace, day or date.today())
    item = service.item_at(daily_list, position)
    if item is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"No item at position {position} on the list of {daily_list.day.isoformat()}.",
        )
    snooze(session=session, contact=item.contact, until=data.until)
    return service.to_public(session, daily_list, workspace)
