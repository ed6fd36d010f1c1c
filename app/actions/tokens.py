"""The token of a one-click link: what to do, to which suggestion of which workspace, until when,
and its HMAC-SHA256 under the workspace's secret.

A token reads ``<workspace id>.<suggestion id>.<action>.<expiry, Unix seconds>.<signature>``
(the signature base64url, unpadded): safe in a URL path, and nothing in it is secret.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from app.models import DismissReason


class Action(StrEnum):
    SENT = "sent"
    NOT_RELEVANT = DismissReason.not_relevant.value
    BAD_TIMING = DismissReason.bad_timing.value
    SNOOZE = "snooze"


@dataclass(frozen=True)
class Claim:
    workspace_id: int
    suggestion_id: int
    action: Action
    expires_at: int  # Unix seconds

    def payload(self) -> str:
        return f"{self.workspace_id}.{self.suggestion_id}.{self.action}.{self.expires_at}"


def _mac(payload: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(claim: Claim, secret: str) -> str:
    return f"{claim.payload()}.{_mac(claim.payload(), secret)}"


def read_claim(token: str) -> Claim | None:
    """What the token says, not yet verified; None if it is not a token at all."""
    parts = token.split(".")
    numbers = (parts[0], parts[1], parts[3]) if len(parts) == 5 else ()
    if not numbers or not all(n.isascii() and n.isdigit() and len(n) <= 18 for n in numbers):
        return None
    if parts[2] not in {action.value for action in Action}:
        return None
    return Claim(int(parts[0]), int(parts[1]), Action(parts[2]), int(parts[3]))


def verify(token: str, claim: Claim, secret: str) -> bool:
    """Whether ``token`` is ``claim`` signed with ``secret`` (compared in constant time)."""
    return hmac.compare_digest(token.encode(), sign(claim, secret).encode())


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
