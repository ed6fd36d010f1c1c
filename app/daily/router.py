"""HTTP routes of the daily list: read the day's list, build it now, snooze one of its contacts."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from sqlalchemy.orm import Session

from app.config import Settings
from app.contacts.schemas import SnoozeRequest
from app.contacts.service import snooze
from app.daily import service
from app.daily.schemas import DailyListPublic
from app.deps import SessionDep, SettingsDep, WorkspaceDep, writes_on_read
from app.errors import BUSY_DESCRIPTION
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


@dataclass(frozen=True)
class _Lists:
    """The caller's daily lists, as this request reads and builds them."""

    session: Session
    workspace: Workspace
    settings: Settings
    engine: SuggestionEngine

    def stored(self, day: date) -> DailyList:
        """The list stored for ``day``; 404 if none was built."""
        daily_list = service.get_daily_list(session=self.session, workspace=self.workspace, day=day)
        if daily_list is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                f"No daily list for {day.isoformat()}: the nightly batch has not run for that day "
                "(run `givefirst nightly`, or POST /daily to build it now).",
            )
        return daily_list

    def current(self, day: date) -> DailyListPublic:
        """The list for ``day``, built now if it was not, and kept current (see GET /daily)."""
        daily_list, _ = service.build_daily_list(
            session=self.session,
            engine=self.engine,
            workspace=self.workspace,
            cadences=cadences_for(self.workspace, self.settings),
            day=day,
            config=self.settings.daily_config(),
            keep_current_on=date.today(),
        )
        return service.to_public(self.session, daily_list, self.workspace)


def _lists(
    request: Request, session: SessionDep, workspace: WorkspaceDep, settings: SettingsDep
) -> _Lists:
    engine: SuggestionEngine = request.app.state.suggestion_engine
    return _Lists(session, workspace, settings, engine)


ListsDep = Annotated[_Lists, Depends(_lists)]


@router.get(
    "/daily",
    # It may append to the stored list (and store the suggestions it shows): a write.
    dependencies=[Depends(writes_on_read)],
    responses={
        404: {"description": "No list was built for that day."},
        503: {"description": BUSY_DESCRIPTION},
    },
)
def get_daily(lists: ListsDep, day: DayQuery = None) -> DailyListPublic:
    """The day's list, as the nightly batch stored it: whom to help, and with what.

    The list is built once but kept current when read (today's and later days'): contacts that
    fell due since it was built (added, imported, tier changed, snooze ended) are appended after
    the stored items while the list holds fewer than its budget (a full list leaves them to the
    next day's); the stored items never move. A contact snoozed since is left out while its
    suggestion is open; an item sent or dismissed stays as it was. Positions are kept, so a
    snoozed item leaves a gap. A past day's list is shown as it was.
    """
    day = day or date.today()
    lists.stored(day)
    return lists.current(day)


@router.post("/daily")
def build_daily(lists: ListsDep, day: DayQuery = None) -> DailyListPublic:
    """Build the day's list now, as the nightly batch would; a list already built is returned
    as GET /daily shows it."""
    return lists.current(day or date.today())


@router.post(
    "/daily/items/{position}/snooze",
    responses={404: {"description": "No list for that day, or no item at that position."}},
)
def snooze_item(
    position: Position, data: SnoozeRequest, lists: ListsDep, day: DayQuery = None
) -> DailyListPublic:
    """Not now: snooze the contact of this item until ``until``, as POST
    /contacts/{id}/snooze does (no give is logged; its suggestion stays open for when the contact
    comes back). Answers the list as it now reads, without that contact."""
    daily_list = lists.stored(day or date.today())
    item = service.item_at(daily_list, position)
    if item is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"No item at position {position} on the list of {daily_list.day.isoformat()}.",
        )
    snooze(session=lists.session, contact=item.contact, until=data.until)
    return lists.current(daily_list.day)
