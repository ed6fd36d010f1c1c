"""One-click links: made for a digest's suggestions, checked, and acted on once."""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from app.actions.tokens import Action, Claim, read_claim, sign, token_hash, verify
from app.contacts.service import snooze
from app.models import Contact, Suggestion, UsedActionToken, Workspace
from app.scoped import get_scoped, scoped
from app.suggestions.service import SuggestionClosedError, dismiss, mark_sent

LABELS = {
    Action.SENT: "Mark sent",
    Action.NOT_RELEVANT: "Dismiss: not relevant",
    Action.BAD_TIMING: "Dismiss: bad timing",
    Action.SNOOZE: "Snooze the contact",
}


class LinkRefused(Exception):
    """A link that cannot act: ``status`` is the HTTP answer, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def link_secret(*, session: Session, workspace: Workspace) -> str:
    """The workspace's link key, made on first use."""
    if workspace.link_secret is None:
        workspace.link_secret = secrets.token_urlsafe(32)
        session.flush()
    return workspace.link_secret


def action_tokens(
    *,
    session: Session,
    workspace: Workspace,
    suggestion_ids: Iterable[int],
    expires_at: datetime,
) -> dict[int, dict[Action, str]]:
    """For each suggestion, a signed token per action, valid until ``expires_at``."""
    secret = link_secret(session=session, workspace=workspace)
    expiry = int(expires_at.timestamp())
    return {
        suggestion_id: {
            action: sign(Claim(workspace.id, suggestion_id, action, expiry), secret)
            for action in Action
        }
        for suggestion_id in suggestion_ids
    }


@dataclass(frozen=True)
class Link:
    """A checked link: its claim and the records it acts on, all of the claim's workspace."""

    claim: Claim
    suggestion: Suggestion
    contact: Contact


def check_link(*, session: Session, token: str, now: datetime) -> Link:
    """The link's claim and records if it may act now; ``LinkRefused`` otherwise."""
    claim = read_claim(token)
    workspace = session.get(Workspace, claim.workspace_id) if claim else None
    if (
        claim is None
        or workspace is None
        or workspace.link_secret is None
        or not verify(token, claim, workspace.link_secret)
    ):
        raise LinkRefused(403, "This link is not valid: it was not made by Givefirst, or altered.")
    used = session.scalar(
        scoped(UsedActionToken, claim.workspace_id).where(
            UsedActionToken.token_hash == token_hash(token)
        )
    )
    if used is not None:
        raise LinkRefused(410, f"This link was already used, on {used.used_at:%d %B %Y %H:%M} UTC.")
    if now.timestamp() >= claim.expires_at:
        raise LinkRefused(410, "This link has expired: act on the suggestion in the API.")
    suggestion = get_scoped(session, Suggestion, claim.workspace_id, claim.suggestion_id)
    contact = (
        get_scoped(session, Contact, claim.workspace_id, suggestion.contact_id)
        if suggestion
        else None
    )
    if suggestion is None or contact is None:
        raise LinkRefused(404, "The suggestion of this link no longer exists.")
    return Link(claim, suggestion, contact)


def act(
    *,
    session: Session,
    token: str,
    now: datetime,
    today: date,
    bad_timing_days: int,
    snooze_days: int,
) -> Link:
    """Do what the link says, once: the token is recorded as used in the same transaction."""
    link = check_link(session=session, token=token, now=now)
    action, suggestion = link.claim.action, link.suggestion
    try:
        if action is Action.SENT:
            mark_sent(session=session, suggestion=suggestion, today=today)
        elif action is Action.SNOOZE:
            snooze(session=session, contact=link.contact, until=today + timedelta(snooze_days))
        else:
            dismiss(
                session=session,
                suggestion=suggestion,
                reason=action.value,
                until=None,
                today=today,
                bad_timing_days=bad_timing_days,
            )
    except SuggestionClosedError as error:
        raise LinkRefused(409, f"Nothing done: {error}") from error
    session.add(
        UsedActionToken(
            workspace_id=link.claim.workspace_id, token_hash=token_hash(token), used_at=now
        )
    )
    session.flush()
    return link
