"""HTTP routes of the daily list: read the day's list, or build it now."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from app.daily import service
from app.daily.schemas import DailyListPublic
from app.deps import SessionDep, SettingsDep, WorkspaceDep
from app.schemas import IsoDate
from app.suggestions.engine import SuggestionEngine
from app.workspaces.service import cadences_for

router = APIRouter(tags=["daily"])

DayQuery = Annotated[
    IsoDate | None,
    Query(alias="date", description="YYYY-MM-DD; default: today (the server's local day)."),
]


@router.get("/daily", responses={404: {"description": "No list was built for that day."}})
def get_daily(
    session: SessionDep, workspace: WorkspaceDep, day: DayQuery = None
) -> DailyListPublic:
    """The day's list, as the nightly batch stored it: whom to help, and with what."""
    day = day or date.today()
    daily_list = service.get_daily_list(session=session, workspace=workspace, day=day)
    if daily_list is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"No daily list for {day.isoformat()}: the nightly batch has not run for that day "
            "(run `givefirst nightly`, or POST /daily to build it now).",
        )
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
