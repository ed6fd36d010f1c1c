"""Typed dependencies handed to the routers. The objects behind them are built once, by the
lifespan in ``app.main``, and kept on ``app.state``."""

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.contacts.service import get_contact, get_pain_point
from app.db import session_scope
from app.indexing import RecordIndexer
from app.models import Contact, PainPoint, Workspace
from app.ratelimit import KeyRateLimiter
from app.schemas import Page
from app.workspaces.service import hash_key, is_well_formed_key, workspace_for_key

T = TypeVar("T")

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An API key made by `givefirst keys create WORKSPACE` (or printed on first start).",
)


def reject_unknown_query_parameters(request: Request) -> None:
    """A query parameter the operation does not document is a 422 naming it: a misspelt
    ``?limt=5`` would otherwise be ignored, and the caller get a default they did not ask for."""
    route = request.scope.get("route")
    path = getattr(route, "path_format", None)
    operation = request.app.openapi()["paths"].get(path, {}).get(request.method.lower())
    if operation is None:
        return
    known = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in known]
    if unknown:
        expected = ", ".join(sorted(known)) or "none"
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": f"unknown query parameter (this operation takes: {expected})",
                    "input": request.query_params[name],
                }
                for name in unknown
            ]
        )


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def writes_on_read(request: Request) -> None:
    """A route dependency for a GET that stores what it shows: it takes the write turn too."""
    request.state.writes = True


async def take_write_turn(request: Request) -> AsyncIterator[None]:
    """Requests that may write take turns, waiting in the event loop without a time limit.

    SQLite has one writer at a time, and a write request holds it while it embeds its texts:
    under load, writers queued on SQLite's busy timeout instead ran out of it ("database is
    locked"). Reads never wait here (WAL lets them read beside the writer), save those that
    write (``writes_on_read``: route dependencies are solved before the session is opened). A
    route that is slow before it writes takes the turn only for its write (``get_write_turn``).

    This turn is the process's; the session then takes the database's (``app.db.take_write_turn``),
    which on PostgreSQL is what makes several replicas take turns.
    """
    if request.method in ("GET", "HEAD", "OPTIONS") and not getattr(request.state, "writes", False):
        yield
        return
    async with request.app.state.write_turn:
        request.state.write_turn = True
        yield


def get_session(
    request: Request, _turn: Annotated[None, Depends(take_write_turn, scope="function")]
) -> Iterator[Session]:
    """One session per request, committed once when the route returns without error."""
    write = getattr(request.state, "write_turn", False)
    with session_scope(request.app.state.session_factory, write=write) as session:
        yield session


WriteTurn = Callable[[], AbstractContextManager[Session]]


def get_write_turn(request: Request) -> WriteTurn:
    """For a sync route whose slow part (fetching a page) must not hold every workspace's writes:
    ``with write_turn() as session:`` waits for the turn there and then, and commits the session
    before giving the turn back. The route takes no ``SessionDep``, which would hold the turn for
    the whole request."""
    return write_turn_of(request.app.state.write_turn, request.app.state.session_factory)


def write_turn_of(turn: anyio.Semaphore, factory: sessionmaker[Session]) -> WriteTurn:
    """``with write_turn() as session:`` from a worker thread of the app's event loop: waits for
    the process's write turn there, and commits the session before giving the turn back."""

    @contextmanager
    def write_turn() -> Iterator[Session]:
        anyio.from_thread.run(turn.acquire)
        try:
            with session_scope(factory, write=True) as session:
                yield session
        finally:
            anyio.from_thread.run_sync(turn.release)

    return write_turn


def get_indexer(request: Request) -> RecordIndexer:
    indexer: RecordIndexer = request.app.state.indexer
    return indexer


@dataclass(frozen=True)
class Paging:
    """The page a list request asks for."""

    limit: int
    offset: int

    def page(self, items: list[T], total: int) -> Page[T]:
        return Page(items=items, total=total, limit=self.limit, offset=self.offset)


def get_paging(
    limit: Annotated[int, Query(ge=1, le=500, description="How many records, at most 500.")] = 50,
    offset: Annotated[
        int, Query(ge=0, le=1_000_000_000, description="How many records to skip.")
    ] = 0,
) -> Paging:
    return Paging(limit=limit, offset=offset)


PagingDep = Annotated[Paging, Depends(get_paging)]
# Larger ids would overflow the database's 64-bit integers.
RecordId = Annotated[int, Path(ge=1, le=2**63 - 1)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
IndexerDep = Annotated[RecordIndexer, Depends(get_indexer)]
# scope="function": commit before the response is sent, so an acknowledged write is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def get_current_workspace(
    request: Request, session: SessionDep, credentials: Credentials
) -> Workspace:
    """The workspace of the request's key: 401 without a live key, 429 past its rate limit."""
    return _workspace_of_key(request, session, credentials)


def get_workspace_outside_turn(request: Request, credentials: Credentials) -> Workspace:
    """The same check, read in a session of its own that is closed at once: for a route that
    takes the write turn later (``WriteTurnDep``) and must hold neither it nor a connection
    while it waits on the network."""
    with session_scope(request.app.state.session_factory) as session:
        return _workspace_of_key(request, session, credentials)


def _workspace_of_key(
    request: Request, session: Session, credentials: HTTPAuthorizationCredentials | None
) -> Workspace:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Missing API key: send the header 'Authorization: Bearer <key>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    workspace = workspace_for_key(session=session, key=credentials.credentials)
    if workspace is None:
        message = "Invalid or revoked API key."
        if is_well_formed_key(credentials.credentials):
            where = get_settings_dep(request).records_location()
            message = (
                f"Unknown or revoked API key. This server reads its keys from {where}: a key "
                "made by `givefirst keys create` with another data folder is not known here."
            )
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"}
        )
    limiter: KeyRateLimiter | None = request.app.state.rate_limiter
    if limiter is not None:
        wait = limiter.retry_after(hash_key(credentials.credentials))
        if wait is not None:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"Too many requests with this API key (the limit is {limiter.limit}): "
                f"retry in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
    return workspace


WorkspaceDep = Annotated[Workspace, Depends(get_current_workspace)]
WorkspaceOutsideTurnDep = Annotated[Workspace, Depends(get_workspace_outside_turn)]
WriteTurnDep = Annotated[WriteTurn, Depends(get_write_turn)]


def get_contact_from_path(
    contact_id: RecordId, session: SessionDep, workspace: WorkspaceDep
) -> Contact:
    """The contact named in the path, if it is in the caller's workspace; 404 otherwise."""
    contact = get_contact(session=session, workspace=workspace, contact_id=contact_id)
    if contact is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"Contact {contact_id} not found.")
    return contact


ContactDep = Annotated[Contact, Depends(get_contact_from_path)]


def pain_point_or_404(contact: Contact, pain_point_id: int) -> PainPoint:
    """The contact's pain point with this id (the API's routes and the page's); 404 otherwise."""
    pain_point = get_pain_point(contact=contact, pain_point_id=pain_point_id)
    if pain_point is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"Pain point {pain_point_id} not found on contact {contact.id}.",
        )
    return pain_point
