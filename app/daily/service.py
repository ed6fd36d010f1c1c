"""Daily lists: build (once per workspace and day), read, and show."""

from dataclasses import replace
from datetime import date, datetime

from sqlalchemy.orm import Session

from app.actions.service import LABELS, action_tokens
from app.actions.tokens import Action
from app.contacts.service import is_snoozed
from app.daily.config import DailyConfig
from app.daily.mail import ActionLink, MailContext
from app.daily.planner import DayPlan, PlannedItem, plan_day
from app.daily.schemas import ComingUp, DailyItemPublic, DailyListPublic
from app.db import DAILY_LIST, advisory_lock
from app.models import ComingUp as ComingUpRow
from app.models import Contact, DailyItem, DailyList, SuggestionStatus, Workspace
from app.scoped import load_scoped, scoped
from app.suggestions.engine import SuggestionEngine
from app.suggestions.service import contact_ref, store_candidate
from app.suggestions.service import to_public as suggestion_public
from app.workspaces.service import Cadences


def lock_daily_lists(session: Session, workspace_id: int, *, wait: bool) -> None:
    """The workspace's daily lists to this transaction alone, across processes, until it ends
    (a PostgreSQL advisory lock; SQLite's single writer gives the same already). A batch waits
    for it as long as it takes (``wait``); a request gives up after the busy timeout."""
    advisory_lock(session, DAILY_LIST, workspace_id, wait=wait)


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
    keep_current_on: date | None = None,
) -> tuple[DailyList, bool]:
    """The workspace's list for ``day``, and whether it was built now.

    A list is built once: asking again for the same day returns the stored list unchanged, save
    with ``keep_current_on`` (today, for a reader of the list): a stored list of that day or a
    later one that holds fewer items than its budget gets the contacts due on its day that are
    not on it yet (added, imported, re-tiered or woken from a snooze since it was built),
    appended after its items in the planner's order; the items already there never move. The
    caller commits (the list, its items and their suggestions in one transaction).

    The workspace's list lock (``lock_daily_lists``) is taken first: on PostgreSQL two processes
    (replicas, nightly runs) never build the same list side by side.
    """
    lock_daily_lists(session, workspace.id, wait=False)
    existing = get_daily_list(session=session, workspace=workspace, day=day)
    if existing is not None and not _open_to_additions(existing, keep_current_on):
        return existing, False
    listed = {item.contact_id for item in existing.items} if existing else set()
    if existing is not None:  # only due contacts, as many as there is room for
        config = replace(config, budget=existing.budget - len(listed), lookahead_days=0)
    plan = plan_day(
        session=session,
        engine=engine,
        workspace=workspace,
        cadences=cadences,
        day=day,
        config=config,
        leave_out=listed,
    )
    if existing is None:
        return store_plan(
            session=session, workspace=workspace, plan=plan, budget=config.budget
        ), True
    _append_items(session, existing, plan.items)
    session.flush()
    return existing, False


def _open_to_additions(daily_list: DailyList, keep_current_on: date | None) -> bool:
    """A list of a past day is left as it was, and a full one takes nobody: the contacts due
    since wait for the next list, as they would have had they been due when it was built."""
    return (
        keep_current_on is not None
        and daily_list.day >= keep_current_on
        and len(daily_list.items) < daily_list.budget
    )


def _append_items(session: Session, daily_list: DailyList, items: list[PlannedItem]) -> None:
    last = max((item.position for item in daily_list.items), default=0)
    for position, item in enumerate(items, start=last + 1):
        daily_list.items.append(
            DailyItem(
                position=position,
                contact_id=item.contact.id,
                suggestion=store_candidate(session, item.candidate, daily_list.day),
                due_on=item.due_on,
            )
        )


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
    _append_items(session, daily_list, plan.items)
    session.flush()
    return daily_list


def _shown(item: DailyItem, day: date) -> bool:
    """An item is shown unless its contact was snoozed past the list's day before it was acted
    on (an item sent or dismissed stays as it was)."""
    return item.suggestion.status != SuggestionStatus.open or not is_snoozed(item.contact, day)


def to_public(session: Session, daily_list: DailyList, workspace: Workspace) -> DailyListPublic:
    # Read within the list's workspace; a contact deleted since took its rows with it.
    later = load_scoped(
        session, Contact, daily_list.workspace_id, (row.contact_id for row in daily_list.coming_up)
    )
    listed = {item.contact_id for item in daily_list.items}
    coming_up: dict[date, list[Contact]] = {}
    for row in daily_list.coming_up:
        contact = later.get(row.contact_id)
        if contact is not None and contact.id not in listed and not is_snoozed(contact, row.day):
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
                suggestion=suggestion_public(
                    session, item.suggestion, signature=workspace.signature
                ),
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


def mail_context(
    *,
    session: Session,
    workspace: Workspace,
    daily: DailyListPublic,
    public_url: str | None,
    links_expire_at: datetime,
    snooze_days: int,
) -> MailContext:
    """What the digest e-mail adds to the list: the contacts' addresses, and for each
    suggestion its one-click links (none without a public URL to make them with)."""
    contacts = load_scoped(session, Contact, workspace.id, (i.contact.id for i in daily.items))
    emails = {contact_id: c.email for contact_id, c in contacts.items() if c.email}
    if not public_url:
        return MailContext(emails=emails, actions=None)
    base = public_url.rstrip("/")
    tokens = action_tokens(
        session=session,
        workspace=workspace,
        suggestion_ids=[
            i.suggestion.id for i in daily.items if i.suggestion.status == SuggestionStatus.open
        ],
        expires_at=links_expire_at,
    )
    labels = {**LABELS, Action.SNOOZE: f"{LABELS[Action.SNOOZE]} ({snooze_days} days)"}
    actions = {
        suggestion_id: [
            ActionLink(labels[action], f"{base}/act/{token}") for action, token in by_action.items()
        ]
        for suggestion_id, by_action in tokens.items()
    }
    return MailContext(emails=emails, actions=actions)
