"""HTTP routes of suggestions: per contact, per article (recipients), and acting on them."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from app.articles.service import get_article
from app.deps import ContactDep, RecordId, SessionDep, SettingsDep, WorkspaceDep, writes_on_read
from app.errors import BUSY_DESCRIPTION
from app.models import Contact, Suggestion
from app.scoped import load_scoped
from app.suggestions import service
from app.suggestions.engine import SuggestionEngine
from app.suggestions.schemas import (
    DismissRequest,
    RecipientChoice,
    RecipientList,
    SuggestionList,
    SuggestionPublic,
)
from app.workspaces.service import cadences_for

router = APIRouter(tags=["suggestions"])


def _engine(request: Request) -> SuggestionEngine:
    engine: SuggestionEngine = request.app.state.suggestion_engine
    return engine


def _suggestion_or_404(
    session: SessionDep, workspace: WorkspaceDep, suggestion_id: int
) -> Suggestion:
    suggestion = service.get_suggestion(
        session=session, workspace=workspace, suggestion_id=suggestion_id
    )
    if suggestion is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Suggestion {suggestion_id} not found.")
    return suggestion


@router.get(
    "/contacts/{contact_id}/suggestions",
    # It stores the suggestions it shows (their ids are what sent and dismiss take), so it takes
    # the write turn: concurrent requests for one contact get the same suggestions, one by one.
    dependencies=[Depends(writes_on_read)],
    responses={503: {"description": BUSY_DESCRIPTION}},
)
def suggestions_for_contact(
    request: Request,
    contact: ContactDep,
    session: SessionDep,
    workspace: WorkspaceDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=20)] = 3,
) -> SuggestionList:
    """What to send this contact, best first: articles, introductions, or a check-in.

    The suggestions are stored (an open one is reused for the same target), so that they can be
    marked sent or dismissed by id; like a write, it may answer 503 while another process holds
    the database for longer than the busy timeout.
    """
    suggestions = service.suggest_for_contact(
        session=session,
        engine=_engine(request),
        contact=contact,
        cadences=cadences_for(workspace, settings),
        today=date.today(),
        limit=limit,
    )
    return SuggestionList(
        items=[service.to_public(session, s, signature=workspace.signature) for s in suggestions]
    )


@router.post(
    "/suggestions/{suggestion_id}/sent",
    responses={409: {"description": "Already sent or dismissed."}},
)
def mark_sent(
    suggestion_id: RecordId, session: SessionDep, workspace: WorkspaceDep
) -> SuggestionPublic:
    """You sent it: a give is logged and the contact's cadence restarts."""
    suggestion = _suggestion_or_404(session, workspace, suggestion_id)
    try:
        service.mark_sent(session=session, suggestion=suggestion, today=date.today())
    except service.SuggestionClosedError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    return service.to_public(session, suggestion, signature=workspace.signature)


@router.post(
    "/suggestions/{suggestion_id}/dismiss",
    responses={409: {"description": "Already sent or dismissed."}},
)
def dismiss(
    suggestion_id: RecordId,
    data: DismissRequest,
    session: SessionDep,
    workspace: WorkspaceDep,
    settings: SettingsDep,
) -> SuggestionPublic:
    """Not this one. It will not come back; ``not_relevant`` also lowers similar articles.

    ``bad_timing`` is "not now": the gift is set aside until ``until`` (default:
    GIVEFIRST_BAD_TIMING_DAYS days) and may be suggested again from that day.
    """
    suggestion = _suggestion_or_404(session, workspace, suggestion_id)
    try:
        service.dismiss(
            session=session,
            suggestion=suggestion,
            reason=data.reason,
            until=data.until,
            today=date.today(),
            bad_timing_days=settings.bad_timing_days,
        )
    except service.SuggestionClosedError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    return service.to_public(session, suggestion, signature=workspace.signature)


@router.get("/articles/{article_id}/recipients")
def article_recipients(
    request: Request,
    article_id: RecordId,
    session: SessionDep,
    workspace: WorkspaceDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> RecipientList:
    """The contacts this article would help most, with the pain point it answers."""
    article = get_article(session=session, workspace=workspace, article_id=article_id)
    if article is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Article {article_id} not found.")
    items = service.recipients_for_article(
        session=session, engine=_engine(request), article=article, today=date.today(), limit=limit
    )
    return RecipientList(items=items)


@router.post(
    "/articles/{article_id}/recipients/suggestions",
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"description": "The article was already sent to one of them, or dismissed."},
        422: {"description": "The article answers none of one contact's active pain points."},
    },
)
def suggest_article_to_recipients(
    request: Request,
    article_id: RecordId,
    data: RecipientChoice,
    session: SessionDep,
    workspace: WorkspaceDep,
) -> SuggestionList:
    """Who needs this article? Suggest it to the contacts you chose among its recipients.

    Each gets an article suggestion with its reason, matched passage and drafts, as
    ``GET /contacts/{id}/suggestions`` makes them (an open one of the same article is reused), to
    mark sent or dismiss by id. A snoozed contact may be chosen: the suggestion waits on their
    page. Nothing is stored if one of them is not in the workspace (404), already had the article
    or dismissed it (409), or has no active pain point it answers (422).
    """
    article = get_article(session=session, workspace=workspace, article_id=article_id)
    if article is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Article {article_id} not found.")
    wanted = list(dict.fromkeys(data.contact_ids))
    found = load_scoped(session, Contact, workspace.id, wanted)
    missing = [i for i in wanted if i not in found]
    if missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Contact {missing[0]} not found.")
    try:
        stored = service.suggest_article_to(
            session=session,
            engine=_engine(request),
            article=article,
            contacts=[found[i] for i in wanted],
            today=date.today(),
        )
    except service.SuggestionClosedError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
    except service.NotARecipientError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error
    return SuggestionList(
        items=[service.to_public(session, s, signature=workspace.signature) for s in stored]
    )
