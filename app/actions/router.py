"""The digest's one-click links: GET shows what the link does and a button, POST does it.

No API key: the link's signature is the authorisation, and everything it touches is read within
the workspace it names. A GET never acts (mail scanners open links).
"""

import html
from datetime import UTC, date, datetime

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from app.actions.service import Link, LinkRefused, act, check_link
from app.actions.tokens import Action
from app.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/act", tags=["digest links"], include_in_schema=False)


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _refused(error: LinkRefused) -> HTMLResponse:
    return _page("Nothing done", f"<p>{html.escape(str(error))}</p>", error.status)


def _describe(link: Link, snooze_days: int) -> str:
    name = link.contact.name
    return {
        Action.SENT: f"Mark the suggestion for {name} as sent (a give is logged).",
        Action.NOT_RELEVANT: f"Dismiss the suggestion for {name}: not relevant.",
        Action.BAD_TIMING: f"Dismiss the suggestion for {name} for now: bad timing.",
        Action.SNOOZE: f"Snooze {name}: off every list for {snooze_days} days.",
    }[link.claim.action]


@router.get("/{token}", response_class=HTMLResponse)
def confirm(token: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """What the link does, and a button to do it."""
    try:
        link = check_link(session=session, token=token, now=datetime.now(UTC))
    except LinkRefused as error:
        return _refused(error)
    what = html.escape(_describe(link, settings.action_snooze_days))
    return _page(
        "Confirm",
        f"<p>{what}</p>"
        # No action: the form posts back to the page's own address, behind any path prefix.
        '<form method="post"><button type="submit">Do it</button></form>',
    )


@router.post("/{token}", response_class=HTMLResponse)
def perform(token: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """Do what the link says, once."""
    try:
        link = act(
            session=session,
            token=token,
            now=datetime.now(UTC),
            today=date.today(),
            bad_timing_days=settings.bad_timing_days,
            snooze_days=settings.action_snooze_days,
        )
    except LinkRefused as error:
        return _refused(error)
    return _page("Done", f"<p>{html.escape(_describe(link, settings.action_snooze_days))}</p>")
