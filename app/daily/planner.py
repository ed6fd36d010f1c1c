"""The day's list: whom to help tomorrow, and with what. Plain Python; no HTTP, no files.

Order (the seeds warn about neglect above all):

1. Contacts due or overdue, most overdue first, tier A before B before C on the same day. A
   contact put on one of the last ``rotation_days`` lists and not acted on goes after the others,
   so that the contacts that did not fit yesterday come up today instead of the same few every
   day.
2. Only when fewer contacts are due than the budget allows: contacts due within the next
   ``lookahead_days`` for whom there is a real gift (an article or an introduction, never a mere
   check-in), earliest first. Pulling them forward on a light day keeps the coming days light.

A snoozed contact is left out until the day its snooze ends: neither due, nor pulled forward,
nor coming up. So are the contacts in ``leave_out``: those already on a list built earlier for
the day, when the plan is for what to append to it.

The ``budget`` caps the list. The due contacts that do not fit are spread over the next days at
``budget`` a day (``DayPlan.coming_up``): the rotation above makes the next nights pick them in
that order.
"""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from app.contacts.service import next_due_on
from app.daily.config import DailyConfig
from app.models import (
    Contact,
    DailyItem,
    DailyList,
    Suggestion,
    SuggestionKind,
    SuggestionStatus,
    Tier,
    Workspace,
)
from app.suggestions.engine import Candidate, ContactRequest, SuggestionEngine
from app.suggestions.records import StoredRecords
from app.workspaces.service import Cadences

TIER_ORDER: dict[str, int] = {tier: number for number, tier in enumerate(Tier)}  # A first


@dataclass(frozen=True)
class PlannedItem:
    contact: Contact
    due_on: date
    candidate: Candidate


@dataclass
class DayPlan:
    day: date
    items: list[PlannedItem]
    due_count: int
    coming_up: list[tuple[date, list[Contact]]] = field(default_factory=list)


def plan_day(
    *,
    session: Session,
    engine: SuggestionEngine,
    workspace: Workspace,
    cadences: Cadences,
    day: date,
    config: DailyConfig,
    leave_out: Collection[int] = (),
) -> DayPlan:
    """The list for ``day``: at most ``config.budget`` contacts, each with its best suggestion."""
    found = session.scalars(
        select(Contact)
        .where(
            Contact.workspace_id == workspace.id,
            or_(Contact.snoozed_until.is_(None), Contact.snoozed_until <= day),
        )
        .options(selectinload(Contact.pain_points))
    )
    contacts = [c for c in found if c.id not in leave_out]
    due_on = {c.id: next_due_on(c, cadences) for c in contacts}
    waiting = _recently_listed(session, workspace, day, config.rotation_days)

    def priority(contact: Contact) -> tuple[bool, date, int, int]:
        return (contact.id in waiting, due_on[contact.id], TIER_ORDER[contact.tier], contact.id)

    due = sorted((c for c in contacts if due_on[c.id] <= day), key=priority)
    upcoming = sorted(
        (c for c in contacts if day < due_on[c.id] <= day + timedelta(config.lookahead_days)),
        key=priority,
    )
    items: list[PlannedItem] = []
    records = StoredRecords(session)
    for group, is_due in ((due, True), (upcoming, False)):
        for start in range(0, len(group), config.budget):
            if len(items) >= config.budget:
                break
            batch = group[start : start + config.budget]
            requests = [ContactRequest(c, is_due) for c in batch]
            ranked = engine.suggest_many(records=records, requests=requests, today=day, limit=1)
            for contact, candidates in zip(batch, ranked, strict=True):
                gift = [c for c in candidates if is_due or c.kind != SuggestionKind.check_in]
                if gift and len(items) < config.budget:
                    items.append(PlannedItem(contact, due_on[contact.id], gift[0]))
    listed = {item.contact.id for item in items}
    overflow = [c for c in due if c.id not in listed]
    days = [overflow[i : i + config.budget] for i in range(0, len(overflow), config.budget)]
    coming_up = [
        (day + timedelta(n), contacts)
        for n, contacts in enumerate(days[: config.coming_up_days], start=1)
    ]
    return DayPlan(day=day, items=items, due_count=len(due), coming_up=coming_up)


def _recently_listed(session: Session, workspace: Workspace, day: date, days: int) -> set[int]:
    """Contacts on a list of the last ``days`` days whose suggestion is still open."""
    return set(
        session.scalars(
            select(DailyItem.contact_id)
            .join(DailyList, DailyItem.daily_list_id == DailyList.id)
            .join(Suggestion, DailyItem.suggestion_id == Suggestion.id)
            .where(
                DailyList.workspace_id == workspace.id,
                DailyList.day >= day - timedelta(days),
                DailyList.day < day,
                Suggestion.status == SuggestionStatus.open,
            )
        )
    )
