"""The web page's Contacts: the list (search, tier, due or overdue), adding a contact (with a tier
and a first pain point), and a contact's page (pain points added, reworded and resolved in place,
expertise, ledger and touches, the suggestions for them with Sent / Dismiss).

The pages live under ``/people`` because ``/contacts`` is the API's. Each calls the service the
matching API route calls, within the signed-in workspace: another workspace's contact is a 404.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from app.contacts import service as contacts
from app.contacts.schemas import ContactCreate, PainPointCreate, PainPointUpdate
from app.deps import (
    IndexerDep,
    RecordId,
    SessionDep,
    SettingsDep,
    pain_point_or_404,
    writes_on_read,
)
from app.ledger import service as ledger
from app.models import Contact, Tier, Workspace
from app.pages.router import (
    dismiss_suggestion,
    engine_of,
    is_htmx,
    render,
    see,
    send_suggestion,
    validated,
)
from app.pages.session import CsrfChecked, PageSession, PageSessionDep, PageWorkspaceDep
from app.suggestions import service as suggestions
from app.workspaces.service import cadences_for

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
TIERS = tuple(Tier)
DUE_FILTERS = {"due": "Due or overdue", "overdue": "Overdue"}


def _contact_or_404(session: SessionDep, workspace: Workspace, contact_id: int) -> Contact:
    contact = contacts.get_contact(session=session, workspace=workspace, contact_id=contact_id)
    if contact is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Contact {contact_id} not found.")
    return contact


@router.get("/people", response_class=HTMLResponse)
def contacts_page(
    request: Request,
    page: PageSessionDep,
    session: SessionDep,
    workspace: PageWorkspaceDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=200)] = "",
    tier: Annotated[str, Query(max_length=1)] = "",
    due: Annotated[str, Query(max_length=10)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    """As GET /contacts: search name, company or e-mail; filter by tier and by due / overdue."""
    cadences = cadences_for(workspace, settings)
    today = date.today()
    found, total = contacts.list_contacts(
        session=session,
        workspace=workspace,
        tier=tier if tier in TIERS else None,
        search=q.strip() or None,
        limit=PAGE_SIZE,
        offset=offset,
        due="due" if due == "due" else "overdue" if due == "overdue" else None,
        cadences=cadences,
        today=today,
    )
    return render(
        request,
        page,
        "contacts.html",
        {
            "workspace": workspace,
            "nav": "contacts",
            "contacts": [contacts.to_public(c, cadences) for c in found],
            "total": total,
            "offset": offset,
            "page_size": PAGE_SIZE,
            "q": q,
            "tier": tier,
            "due": due,
            "tiers": TIERS,
            "due_filters": DUE_FILTERS,
            "today": today,
        },
    )


def _new_contact_form(
    request: Request,
    page: PageSession,
    workspace: Workspace,
    values: dict[str, str],
    error: str | None = None,
) -> Response:
    """The form to add a contact; after a refusal, with what was typed and why."""
    return render(
        request,
        page,
        "contact_new.html",
        {
            "workspace": workspace,
            "nav": "contacts",
            "tiers": TIERS,
            "values": {"tier": workspace.default_tier, **values},
            "error": error,
        },
        status.HTTP_422_UNPROCESSABLE_CONTENT if error else status.HTTP_200_OK,
    )


@router.get("/people/new", response_class=HTMLResponse)
def new_contact_page(
    request: Request, page: PageSessionDep, workspace: PageWorkspaceDep
) -> Response:
    """The form of POST /contacts: name, e-mail, company, title, tier and a first pain point."""
    return _new_contact_form(request, page, workspace, {})


@router.post("/people", dependencies=[CsrfChecked])
def page_create_contact(
    request: Request,
    page: PageSessionDep,
    session: SessionDep,
    indexer: IndexerDep,
    workspace: PageWorkspaceDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    email: Annotated[str, Form(max_length=1000)] = "",
    company: Annotated[str, Form(max_length=1000)] = "",
    title: Annotated[str, Form(max_length=1000)] = "",
    tier: Annotated[str, Form(max_length=10)] = "",
    pain_point: Annotated[str, Form(max_length=5000)] = "",
    expertise: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """As POST /contacts; then to the new contact's page. Refused: the form again, as typed,
    with the API's message."""
    values = {
        "name": name,
        "email": email,
        "company": company,
        "title": title,
        "tier": tier,
        "pain_point": pain_point,
        "expertise": expertise,
    }
    try:
        data = validated(
            ContactCreate,
            name=name,
            email=email.strip(),
            company=company,
            title=title,
            tier=tier,
            pain_points=[pain_point] if pain_point.strip() else [],
            expertise=[expertise] if expertise.strip() else [],
        )
    except HTTPException as error:
        return _new_contact_form(request, page, workspace, values, str(error.detail))
    contact = contacts.create_contact(
        session=session, indexer=indexer, workspace=workspace, data=data, today=date.today()
    )
    session.flush()
    return see(f"/people/{contact.id}")


@router.get(
    "/people/{contact_id}",
    response_class=HTMLResponse,
    # The suggestions shown are stored (as GET /contacts/{id}/suggestions does): a write turn.
    dependencies=[Depends(writes_on_read)],
)
def contact_page(
    request: Request,
    contact_id: RecordId,
    page: PageSessionDep,
    session: SessionDep,
    workspace: PageWorkspaceDep,
    settings: SettingsDep,
) -> Response:
    """As GET /contacts/{id}, /ledger and /suggestions together."""
    contact = _contact_or_404(session, workspace, contact_id)
    cadences = cadences_for(workspace, settings)
    found = suggestions.suggest_for_contact(
        session=session,
        engine=engine_of(request),
        contact=contact,
        cadences=cadences,
        today=date.today(),
        limit=3,
    )
    return render(
        request,
        page,
        "contact.html",
        {
            "workspace": workspace,
            "nav": "contacts",
            "contact": contacts.to_public(contact, cadences),
            "ledger": ledger.ledger(session=session, contact=contact),
            "suggestions": [
                suggestions.to_public(session, s, signature=workspace.signature) for s in found
            ],
            "today": date.today(),
        },
    )


def _pain_points(
    request: Request,
    page: PageSession,
    session: SessionDep,
    workspace: Workspace,
    settings: SettingsDep,
    contact: Contact,
    note: str,
) -> Response:
    """The contact's pain points (htmx swaps the section in); a plain form post goes back to
    the contact's page."""
    if not is_htmx(request):
        return see(f"/people/{contact.id}")
    session.refresh(contact)
    return render(
        request,
        page,
        "_pain_points.html",
        {"contact": contacts.to_public(contact, cadences_for(workspace, settings)), "note": note},
    )


@router.post("/people/{contact_id}/pain-points", dependencies=[CsrfChecked])
def page_add_pain_point(
    request: Request,
    contact_id: RecordId,
    page: PageSessionDep,
    session: SessionDep,
    indexer: IndexerDep,
    workspace: PageWorkspaceDep,
    settings: SettingsDep,
    text: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """As POST /contacts/{id}/pain-points."""
    data = validated(PainPointCreate, text=text)
    contact = _contact_or_404(session, workspace, contact_id)
    try:
        contacts.add_pain_point(
            session=session, indexer=indexer, contact=contact, data=data, today=date.today()
        )
    except contacts.TooManyPainPointsError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    session.flush()
    return _pain_points(request, page, session, workspace, settings, contact, "Pain point added.")


@router.post("/people/{contact_id}/pain-points/{pain_point_id}", dependencies=[CsrfChecked])
def page_reword_pain_point(
    request: Request,
    contact_id: RecordId,
    pain_point_id: RecordId,
    page: PageSessionDep,
    session: SessionDep,
    indexer: IndexerDep,
    workspace: PageWorkspaceDep,
    settings: SettingsDep,
    text: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """As PATCH /contacts/{id}/pain-points/{pain_point_id} with a new ``text``."""
    checked = validated(PainPointCreate, text=text)  # the text is required here
    contact = _contact_or_404(session, workspace, contact_id)
    pain_point = pain_point_or_404(contact, pain_point_id)
    contacts.update_pain_point(
        session=session,
        indexer=indexer,
        pain_point=pain_point,
        data=PainPointUpdate(text=checked.text),
    )
    session.flush()
    note = f"Reworded: {pain_point.text}"
    return _pain_points(request, page, session, workspace, settings, contact, note)


@router.post("/people/{contact_id}/pain-points/{pain_point_id}/resolve", dependencies=[CsrfChecked])
def page_resolve_pain_point(
    request: Request,
    contact_id: RecordId,
    pain_point_id: RecordId,
    page: PageSessionDep,
    session: SessionDep,
    indexer: IndexerDep,
    workspace: PageWorkspaceDep,
    settings: SettingsDep,
) -> Response:
    """As DELETE /contacts/{id}/pain-points/{pain_point_id}: kept, no longer drives
    suggestions."""
    contact = _contact_or_404(session, workspace, contact_id)
    pain_point = pain_point_or_404(contact, pain_point_id)
    contacts.resolve_pain_point(session=session, indexer=indexer, pain_point=pain_point)
    session.flush()
    note = f"Resolved: {pain_point.text}"
    return _pain_points(request, page, session, workspace, settings, contact, note)


def _suggestion_card(
    request: Request,
    page: PageSession,
    session: SessionDep,
    workspace: Workspace,
    contact: Contact,
    suggestion_id: int,
    note: str,
) -> Response:
    if not is_htmx(request):
        return see(f"/people/{contact.id}")
    suggestion = suggestions.get_suggestion(
        session=session, workspace=workspace, suggestion_id=suggestion_id
    )
    context: dict[str, Any] = {
        "contact": contact,
        "s": None
        if suggestion is None
        else suggestions.to_public(session, suggestion, signature=workspace.signature),
        "note": note,
    }
    return render(request, page, "_contact_suggestion.html", context)


@router.post("/people/{contact_id}/suggestions/{suggestion_id}/sent", dependencies=[CsrfChecked])
def page_contact_sent(
    request: Request,
    contact_id: RecordId,
    suggestion_id: RecordId,
    page: PageSessionDep,
    session: SessionDep,
    workspace: PageWorkspaceDep,
) -> Response:
    """As POST /suggestions/{id}/sent."""
    contact = _contact_or_404(session, workspace, contact_id)
    note = send_suggestion(session, workspace, suggestion_id)
    return _suggestion_card(request, page, session, workspace, contact, suggestion_id, note)


@router.post("/people/{contact_id}/suggestions/{suggestion_id}/dismiss", dependencies=[CsrfChecked])
def page_contact_dismiss(
    request: Request,
    contact_id: RecordId,
    suggestion_id: RecordId,
    page: PageSessionDep,
    session: SessionDep,
    workspace: PageWorkspaceDep,
    settings: SettingsDep,
    reason: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """As POST /suggestions/{id}/dismiss."""
    contact = _contact_or_404(session, workspace, contact_id)
    note = dismiss_suggestion(session, workspace, settings, suggestion_id, reason)
    return _suggestion_card(request, page, session, workspace, contact, suggestion_id, note)
