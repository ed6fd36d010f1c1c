"""The give/ask ledger: "Every time you ask for help, offer some in return."

A give moves ``last_contacted_on`` (and with it the tier cadence's next due date). An ask does
not: it is recorded, and counts against the balance, but it is not a gift, so it leaves the
contact exactly as due as before: a contact you have just asked something of is still owed a
give, and stays on the lists until one is logged.
"""

from datetime import date

from sqlalchemy.orm import Session

from app.ledger.schemas import (
    AskCreate,
    AskPublic,
    GiveCreate,
    GivePublic,
    Ledger,
    TouchEntry,
)
from app.models import Article, Ask, Contact, Give, Touch
from app.scoped import scoped


def touch(contact: Contact, on: date) -> None:
    """Record an interaction on ``on``: the cadence restarts from the latest one."""
    if contact.last_contacted_on is None or on > contact.last_contacted_on:
        contact.last_contacted_on = on


def log_give(
    *,
    session: Session,
    contact: Contact,
    description: str,
    kind: str,
    given_on: date,
    article: Article | None = None,
    introduced_contact_id: int | None = None,
    suggestion_id: int | None = None,
) -> Give:
    give = Give(
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        given_on=given_on,
        kind=kind,
        description=description,
        article_id=article.id if article else None,
        article_url=article.url if article else None,
        article_text_hash=article.text_hash if article else None,
        introduced_contact_id=introduced_contact_id,
        suggestion_id=suggestion_id,
    )
    session.add(give)
    touch(contact, given_on)
    session.flush()
    return give


def add_give(*, session: Session, contact: Contact, data: GiveCreate, today: date) -> Give:
    return log_give(
        session=session,
        contact=contact,
        description=data.description,
        kind=data.kind,
        given_on=data.given_on or today,
    )


def add_ask(*, session: Session, contact: Contact, data: AskCreate, today: date) -> Ask:
    """Record an ask; ``last_contacted_on`` and the cadence are left as they were."""
    ask = Ask(
        workspace_id=contact.workspace_id,
        contact_id=contact.id,
        asked_on=data.asked_on or today,
        description=data.description,
    )
    session.add(ask)
    session.flush()
    return ask


def ledger(*, session: Session, contact: Contact) -> Ledger:
    gives = list(
        session.scalars(
            scoped(Give, contact.workspace_id)
            .where(Give.contact_id == contact.id)
            .order_by(Give.given_on, Give.id)
        )
    )
    asks = list(
        session.scalars(
            scoped(Ask, contact.workspace_id)
            .where(Ask.contact_id == contact.id)
            .order_by(Ask.asked_on, Ask.id)
        )
    )
    touches = session.scalars(
        scoped(Touch, contact.workspace_id)
        .where(Touch.contact_id == contact.id)
        .order_by(Touch.happened_on.desc(), Touch.id.desc())
        .limit(100)
    )
    over = len(asks) > len(gives)
    if over:
        message = (
            f"You have asked {contact.name} for help more often than you have helped "
            f"({len(asks)} asks, {len(gives)} gives). Every time you ask for help, offer some "
            "in return."
        )
    elif not gives and not asks:
        message = f"Nothing logged with {contact.name} yet. Be the first to give."
    else:
        message = f"In balance: {len(gives)} gives, {len(asks)} asks. Keep giving."
    return Ledger(
        contact_id=contact.id,
        gives=[GivePublic.model_validate(g) for g in gives],
        asks=[AskPublic.model_validate(a) for a in asks],
        touches=[TouchEntry.model_validate(t) for t in touches],
        given=len(gives),
        asked=len(asks),
        balance=len(gives) - len(asks),
        asked_more_than_given=over,
        message=message,
    )
