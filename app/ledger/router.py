"""HTTP routes of the give/ask ledger."""

from datetime import date

from fastapi import APIRouter, status

from app.deps import ContactDep, SessionDep
from app.ledger import service
from app.ledger.schemas import AskCreate, AskPublic, GiveCreate, GivePublic, Ledger

router = APIRouter(prefix="/contacts/{contact_id}", tags=["ledger"])


@router.post("/gives", status_code=status.HTTP_201_CREATED)
def log_give(contact: ContactDep, data: GiveCreate, session: SessionDep) -> GivePublic:
    """Log something you gave outside the service; the contact's cadence restarts."""
    give = service.add_give(session=session, contact=contact, data=data, today=date.today())
    return GivePublic.model_validate(give)


@router.post("/asks", status_code=status.HTTP_201_CREATED)
def log_ask(contact: ContactDep, data: AskCreate, session: SessionDep) -> AskPublic:
    """Log something you asked for. Asks and gives should stay in balance.

    An ask is not a gift: the contact's cadence does not restart, so they stay due until you
    give something back."""
    ask = service.add_ask(session=session, contact=contact, data=data, today=date.today())
    return AskPublic.model_validate(ask)


@router.get("/ledger")
def get_ledger(contact: ContactDep, session: SessionDep) -> Ledger:
    """Gives, asks and their balance; says plainly when you have asked more than given."""
    return service.ledger(session=session, contact=contact)
