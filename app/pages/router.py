"""The web page's routes: sign-in and sign-out, and Today with its Sent / Dismiss / Snooze
(Contacts: ``app.pages.contacts``, Library: ``app.pages.library``); the helpers they share.

A thin client of the services the API routes call, with the same arguments: it reads and
writes only within the signed-in workspace (``PageWorkspaceDep``, the key's, as for the API)
and holds no rule of its own. Its input is checked by the API's own request models. An action
sent by htmx is answered with the card it changed; a plain form post (no JavaScript) with a
redirect to the page.
"""

import pathlib
from datetime import date, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError

from app.contacts.schemas import SnoozeRequest
from app.contacts.service import snooze
from app.daily import service as daily
from app.daily.digest import KIND_LABEL
from app.daily.mail import mailto_url
from app.daily.schemas import DailyItemPublic, DailyListPublic
from app.deps import RecordId, SessionDep, SettingsDep, writes_on_read
from app.errors import describe_errors
from app.models import Contact, DismissReason, Suggestion, Workspace
from app.pages.session import (
    CSRF_FIELD,
    CSRF_HEADER,
    CsrfChecked,
    PageSession,
    PageSessionDep,
    PageWorkspaceDep,
    clear_session,
    live_key,
    write_session,
)
from app.scoped import load_scoped
from app.suggestions import service as suggestions
from app.suggestions.engine import SuggestionEngine
from app.suggestions.schemas import DismissRequest
from app.workspaces.service import cadences_for, live_api_key

TEMPLATES = Jinja2Templates(directory=pathlib.Path(__file__).parent / "templates")

# The reasons the page offers (the API takes any snake_case word).
DISMISS_REASONS: dict[str, str] = {
    DismissReason.not_relevant: "Not relevant",
    DismissReason.already_has_it: "They already have it",
    DismissReason.bad_timing: "Bad timing (may come back later)",
}
DRAFT_LABELS = {
    "email": "E-mail",
    "note": "Short note",
    "to_contact_email": "E-mail to {contact}",
    "to_contact_note": "Note to {contact}",
    "to_introduced_email": "E-mail to {introduce}",
    "to_introduced_note": "Note to {introduce}",
}

router = APIRouter(include_in_schema=False)


def render(
    request: Request,
    page: PageSession,
    template: str,
    context: dict[str, Any],
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "draft_labels": DRAFT_LABELS,
            "mailto": {},
            **context,
            "csrf": page.csrf,
            "csrf_field": CSRF_FIELD,
            "csrf_header": CSRF_HEADER,
            "kind_label": KIND_LABEL,
            "dismiss_reasons": DISMISS_REASONS,
        },
        status_code=status_code,
    )
    if page.fresh:
        write_session(request, response, page)
    return response


def see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=status.HTTP_303_SEE_OTHER)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def engine_of(request: Request) -> SuggestionEngine:
    engine: SuggestionEngine = request.app.state.suggestion_engine
    return engine


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, page: PageSessionDep, session: SessionDep) -> Response:
    if live_key(session, page) is not None:
        return see("/")
    return render(request, page, "sign_in.html", {})


@router.post("/sign-in", dependencies=[CsrfChecked], response_class=HTMLResponse)
def sign_in(
    request: Request,
    page: PageSessionDep,
    session: SessionDep,
    api_key: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A live API key opens a session of its workspace (a new session: new CSRF token)."""
    key = live_api_key(session=session, key=api_key.strip())
    if key is None:
        return render(
            request,
            page,
            "sign_in.html",
            {"error": "That API key is unknown or revoked."},
            status.HTTP_401_UNAUTHORIZED,
        )
    response = see("/")
    write_session(request, response, PageSession.new(key_id=key.id))
    return response


@router.post("/sign-out", dependencies=[CsrfChecked])
def sign_out(request: Request) -> Response:
    response = see("/sign-in")
    clear_session(request, response)
    return response


def _todays_list(
    request: Request, session: SessionDep, workspace: Workspace, settings: SettingsDep
) -> DailyListPublic:
    """Today's list as GET /daily keeps it current, built now if the nightly has not (as POST
    /daily does)."""
    today = date.today()
    daily_list, _ = daily.build_daily_list(
        session=session,
        engine=engine_of(request),
        workspace=workspace,
        cadences=cadences_for(workspace, settings),
        day=today,
        config=settings.daily_config(),
        keep_current_on=today,
    )
    return daily.to_public(session, daily_list, workspace)


def _stored_list(session: SessionDep, workspace: Workspace) -> DailyListPublic | None:
    """Today's list as stored (read only), to show a card after an action."""
    daily_list = daily.get_daily_list(session=session, workspace=workspace, day=date.today())
    return None if daily_list is None else daily.to_public(session, daily_list, workspace)


def _card_context(
    session: SessionDep, workspace: Workspace, items: list[DailyItemPublic], settings: SettingsDep
) -> dict[str, Any]:
    contacts = load_scoped(session, Contact, workspace.id, (i.contact.id for i in items))
    return {
        "mailto": {
            i.suggestion.id: mailto_url(
                i, contacts[i.contact.id].email if i.contact.id in contacts else None
            )
            for i in items
        },
        "snooze_default": date.today() + timedelta(settings.action_snooze_days),
        "tomorrow": date.today() + timedelta(1),
    }


@router.get("/", response_class=HTMLResponse, dependencies=[Depends(writes_on_read)])
def today_page(
    request: Request,
    page: PageSessionDep,
    session: SessionDep,
    workspace: PageWorkspaceDep,
    settings: SettingsDep,
) -> Response:
    daily_list = _todays_list(request, session, workspace, settings)
    return render(
        request,
        page,
        "today.html",
        {
            "workspace": workspace,
            "daily": daily_list,
            **_card_context(session, workspace, daily_list.items, settings),
        },
    )


def _card(
    request: Request,
    page: PageSession,
    session: SessionDep,
    workspace: Workspace,
    settings: SettingsDep,
    suggestion_id: int,
    note: str,
) -> Response:
    """The card of today's list that shows ``suggestion_id``, after an action (htmx swaps it
    in); a plain form post goes back to the page."""
    if not is_htmx(request):
        return see("/")
    daily_list = _stored_list(session, workspace)
    items = [] if daily_list is None else daily_list.items
    item = next((i for i in items if i.suggestion.id == suggestion_id), None)
    return render(
        request,
        page,
        "_card.html",
        {"item": item, "note": note, **_card_context(session, workspace, items, settings)},
    )


def _suggestion_or_404(session: SessionDep, workspace: Workspace, suggestion_id: int) -> Suggestion:
    suggestion = suggestions.get_suggestion(
        session=session, workspace=workspace, suggestion_id=suggestion_id
    )
    if suggestion is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Suggestion {suggestion_id} not found.")
    return suggestion


@router.post("/today/suggestions/{suggestion_id}/sent", dependencies=[CsrfChecked])
def page_mark_sent(
    request: Request,
    suggestion_id: RecordId,
    page: PageSessionDep,
    session: SessionDep,
    workspace: PageWorkspaceDep,
    settings: SettingsDep,
) -> Response:
    """As POST /suggestions/{id}/sent."""
    note = send_suggestion(session, workspace, suggestion_id)
    return _card(request, page, session, workspace, settings, suggestion_id, note)


def send_suggestion(session: SessionDep, workspace: Workspace, suggestion_id: int) -> str:
    """POST /suggestions/{id}/sent's service call (Today's cards and a contact's page): the
    note to show."""
    suggestion = _suggestion_or_404(session, workspace, suggestion_id)
    try:
        suggestions.mark_sent(session=session, suggestion=suggestion, today=date.today())
    except suggestions.SuggestionClosedError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    session.flush()
    return "Marked sent."


def dismiss_suggestion(
    session: SessionDep,
    workspace: Workspace,
    settings: SettingsDep,
    suggestion_id: int,
    reason: str,
) -> str:
    """POST /suggestions/{id}/dismiss's service call (bad timing: set aside for the default
    days): the note to show."""
    data = validated(DismissRequest, reason=reason)
    suggestion = _suggestion_or_404(session, workspace, suggestion_id)
    try:
        until = suggestions.dismiss(
            session=session,
            suggestion=suggestion,
            reason=data.reason,
            until=data.until,
            today=date.today(),
            bad_timing_days=settings.bad_timing_days,
        )
    except suggestions.SuggestionClosedError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    label = DISMISS_REASONS.get(data.reason, data.reason).split(" (")[0].lower()
    return f"Dismissed: {label}" + (f", until {until:%d %b %Y}." if until else ".")


Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], **values: Any) -> Model:
    """The form's values checked by the API's request model: 422 with its readable message
    (the API's own words, each naming its field)."""
    try:
        return model.model_validate({k: v for k, v in values.items() if v not in (None, "")})
    except ValidationError as error:
        message = describe_errors(error.errors())
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, message) from error


@router.post("/today/suggestions/{suggestion_id}/dismiss", dependencies=[CsrfChecked])
def page_dismiss(
    request: Request,
    suggestion_id: RecordId,
    page: PageSessionDep,
    session: SessionDep,
    workspace: PageWorkspaceDep,
    settings: SettingsDep,
    reason: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """As POST /suggestions/{id}/dismiss."""
    note = dismiss_suggestion(session, workspace, settings, suggestion_id, reason)
    return _card(request, page, session, workspace, settings, suggestion_id, note)


@router.post("/today/items/{position}/snooze", dependencies=[CsrfChecked])
def page_snooze(
    request: Request,
    position: Annotated[int, Path(ge=1, le=10_000)],
    page: PageSessionDep,
    session: SessionDep,
    workspace: PageWorkspaceDep,
    settings: SettingsDep,
    until: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """As POST /daily/items/{position}/snooze: the contact is off the lists until ``until``."""
    data = validated(SnoozeRequest, until=until)
    daily_list = daily.get_daily_list(session=session, workspace=workspace, day=date.today())
    item = None if daily_list is None else daily.item_at(daily_list, position)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No item at position {position} today.")
    snooze(session=session, contact=item.contact, until=data.until)
    session.flush()
    if not is_htmx(request):
        return see("/")
    return render(
        request,
        page,
        "_snoozed.html",
        {"name": item.contact.name, "until": data.until, "suggestion_id": item.suggestion.id},
    )
