"""The web page's session: a signed cookie naming the API key it was opened with, and a CSRF
token for every form and htmx request.

The cookie holds the key's record id, never the key: each request reads that record again, so a
revoked key's sessions stop at once, and the workspace is the key's, as for the API. The cookie
is signed (itsdangerous) with ``GIVEFIRST_SESSION_SECRET`` or a random key kept in the data
folder; it is HttpOnly, SameSite=Lax, and Secure when the page is served over HTTPS.
"""

import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response, status
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope
from app.deps import SessionDep
from app.models import ApiKey, Workspace
from app.ratelimit import KeyRateLimiter

COOKIE = "givefirst_session"
MAX_AGE_SECONDS = 14 * 24 * 3600
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SECRET_FILE = "session_secret"


class SignInRequired(Exception):
    """No live session: the page answers with the sign-in page (see ``install``)."""


@dataclass
class PageSession:
    """What the cookie carries. ``fresh``: made by this request, so the answer must set it."""

    csrf: str
    key_id: int | None = None
    fresh: bool = field(default=False, compare=False)

    @classmethod
    def new(cls, key_id: int | None = None) -> "PageSession":
        return cls(csrf=secrets.token_urlsafe(32), key_id=key_id, fresh=True)


def _secret(settings: Settings) -> str:
    """The signing key: the setting, or the one kept in the data folder (made on first use,
    readable by its owner only)."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    path: Path = settings.data_dir / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _serializer(request: Request) -> URLSafeTimedSerializer:
    """One serializer per app, made on first use."""
    serializer: URLSafeTimedSerializer | None = getattr(request.app.state, "page_serializer", None)
    if serializer is None:
        serializer = URLSafeTimedSerializer(
            _secret(request.app.state.settings), salt="givefirst-page-session"
        )
        request.app.state.page_serializer = serializer
    return serializer


def read_session(request: Request) -> PageSession:
    """The request's session, or a new anonymous one (with its CSRF token) if it has none or
    its cookie is forged, too old, or unreadable."""
    cookie = request.cookies.get(COOKIE)
    if cookie:
        try:
            data: Any = _serializer(request).loads(cookie, max_age=MAX_AGE_SECONDS)
        except BadSignature:
            data = None
        if isinstance(data, dict) and isinstance(data.get("csrf"), str):
            key_id = data.get("key")
            key_id = key_id if isinstance(key_id, int) else None
            return PageSession(csrf=data["csrf"], key_id=key_id)
    return PageSession.new()


def write_session(request: Request, response: Response, page: PageSession) -> None:
    response.set_cookie(
        COOKIE,
        _serializer(request).dumps({"csrf": page.csrf, "key": page.key_id}),
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/"
    )


PageSessionDep = Annotated[PageSession, Depends(read_session)]


async def check_csrf(request: Request, page: PageSessionDep) -> None:
    """Every POST of the page carries the session's token: in the ``X-CSRF-Token`` header
    (htmx) or the ``csrf_token`` form field (a plain form); 403 otherwise."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()  # parsed once: the route's Form parameters reuse it
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if page.fresh or not sent or not hmac.compare_digest(sent.encode(), page.csrf.encode()):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "The form's security token is missing or out of date: reload the page and try again.",
        )


def live_key(session: Session, page: PageSession) -> ApiKey | None:
    """The session's key if it is still live."""
    if page.key_id is None:
        return None
    api_key = session.get(ApiKey, page.key_id)
    if api_key is None or api_key.revoked_at is not None:
        return None
    return api_key


def signed_in_workspace(request: Request, session: SessionDep, page: PageSessionDep) -> Workspace:
    """The workspace of the session's key, as ``get_current_workspace`` gives the API's: the
    sign-in page if the key was revoked (or there is no session), 429 past the key's rate limit
    (the page and the API share it)."""
    return _workspace_of_session(request, session, page)


def signed_in_workspace_outside_turn(request: Request, page: PageSessionDep) -> Workspace:
    """The same check in a session of its own, closed at once, as
    ``get_workspace_outside_turn`` for the API: for a route that takes the write turn only for
    its write (``WriteTurnDep``), after a slow fetch."""
    with session_scope(request.app.state.session_factory) as session:
        return _workspace_of_session(request, session, page)


def _workspace_of_session(request: Request, session: Session, page: PageSession) -> Workspace:
    api_key = live_key(session, page)
    if api_key is None:
        raise SignInRequired
    limiter: KeyRateLimiter | None = request.app.state.rate_limiter
    if limiter is not None:
        wait = limiter.retry_after(api_key.key_hash)
        if wait is not None:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"Too many requests with this API key (the limit is {limiter.limit}): "
                f"retry in {wait} s.",
                headers={"Retry-After": str(wait)},
            )
    return api_key.workspace


CsrfChecked = Depends(check_csrf)
PageWorkspaceDep = Annotated[Workspace, Depends(signed_in_workspace)]
PageWorkspaceOutsideTurnDep = Annotated[Workspace, Depends(signed_in_workspace_outside_turn)]
