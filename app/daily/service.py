"""Daily lists: build (once per workspace and day), read, and show."""

from datetime import date

from sqlalchemy.orm import Session

from app.contacts.service import is_snoozed
from app.daily.config import DailyConfig
from app.daily.planner import DayPlan, plan_day
from app.daily.schemas import ComingUp, DailyItemPublic, DailyListPublic
from app.models import ComingUp as ComingUpRow
from app.models import Contact, DailyItem, DailyList, Workspace
from app.scoped import load_scoped, scoped
from app.suggestions.engine import SuggestionEngine
from app.suggestions.service import contact_ref, store_candidate
from app.suggestions.service import to_public as suggestion_public
from app.workspaces.service import Cadences


def get_daily_list(*, session: Session, workspace: Workspace, day: date) -> DailyList | None:
    return session.scalar(scoped(DailyList, workspace.id).where(DailyList.day == day))


def build_daily_list(
    *,
    session: Session,
    engine: SuggestionEngine,
    workspace: Workspace,
    cadences: Cadences,
    day: date,
    config: DailyConfig,
) -> tuple[DailyList, bool]:
    """The workspace's list for ``day``, and whether it was built now.

    A list is built once: asking again for the same day returns the stored list unchanged. The
    caller commits (the list, its items and their suggestions in one transaction).
    """
    existing = get_daily_list(session=session, workspace=workspace, day=day)
    if existing is not None:
        return existing, False
    plan = plan_day(
        session=session,
        engine=engine,
        workspace=workspace,
        cadences=cadences,
        day=day,
        config=config,
    )
    return store_plan(session=session, workspace=workspace, plan=plan, budget=config.budget), True


def item_at(daily_list: DailyList, position: int) -> DailyItem | None:
    return next((item for item in daily_list.items if item.position == position), None)


def store_plan(*, session: Session, workspace: Workspace, plan: DayPlan, budget: int) -> DailyList:
    daily_list = DailyList(
        workspace_id=workspace.id,
        day=plan.day,
        budget=budget,
        due_count=plan.due_count,
        coming_up=[
            ComingUpRow(day=day, position=position, contact_id=contact.id)
            for day, contacts in plan.coming_up
            for position, contact in enumerate(contacts)
        ],
    )
    session.add(daily_list)
    for position, item in enumerate(plan.items, start=1):
        suggestion = store_candidate(session, item.candidate, plan.day)
        daily_list.items.append(
            DailyItem(
                position=position,
                contact_id=item.contact.id,
                suggestion=suggestion,
                due_on=item.due_on,
            )
        )
    session.flush()
    return daily_list


def _shown(item: DailyItem, day: date) -> bool:
    """An item is shown unless its contact was snoozed past the list's day before it was acted
    on (an item sent or dismissed stays as it was)."""
    return item.suggestion.status != "open" or not is_snoozed(item.contact, day)


def to_public(session: Session, daily_list: DailyList, workspace: Workspace) -> DailyListPublic:
    # Read within the list's workspace; a contact deleted since took its rows with it.
    later = load_scoped(
        session, Contact, daily_list.workspace_id, (row.contact_id for row in daily_list.coming_up)
    )
    coming_up: dict[date, list[Contact]] = {}
    for row in daily_list.coming_up:
        contact = later.get(row.contact_id)
        if contact is not None and not is_snoozed(contact, row.day):
            coming_up.setdefault(row.day, []).append(contact)
    return DailyListPublic(
        workspace=workspace.name,
        date=daily_list.day,
        budget=daily_list.budget,
        due_count=daily_list.due_count,
        items=[
            DailyItemPublic(
                position=item.position,
                contact=contact_ref(item.contact),
                tier=item.contact.tier,
                due_on=item.due_on,
                overdue_days=(daily_list.day - item.due_on).days,
                suggestion=suggestion_public(session, item.suggestion),
            )
            for item in daily_list.items
            if _shown(item, daily_list.day)
        ],
        coming_up=[
            ComingUp(date=day, contacts=[contact_ref(c) for c in contacts])
            for day, contacts in coming_up.items()
        ],
        created_at=daily_list.created_at,
    )
