"""Workspaces and their API keys."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ApiKey, Tier, Workspace, utcnow

KEY_PREFIX = "gf_"
_KEY_SHAPE = re.compile(re.escape(KEY_PREFIX) + r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32)
DEFAULT_WORKSPACE = "default"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def get_workspace_by_name(*, session: Session, name: str) -> Workspace | None:
    return session.scalar(select(Workspace).where(Workspace.name == name))


def get_or_create_workspace(*, session: Session, name: str) -> tuple[Workspace, bool]:
    """The workspace called ``name``, and whether it was created now."""
    workspace = get_workspace_by_name(session=session, name=name)
    if workspace is not None:
        return workspace, False
    workspace = Workspace(name=name)
    session.add(workspace)
    session.flush()
    return workspace, True


def create_api_key(*, session: Session, workspace: Workspace) -> str:
    """A new key for ``workspace``. Only its hash is stored: the caller shows the key once."""
    secret = secrets.token_urlsafe(32)
    key = f"{KEY_PREFIX}{secret}"
    session.add(ApiKey(workspace_id=workspace.id, prefix=key[:10], key_hash=hash_key(key)))
    session.flush()
    return key


def is_well_formed_key(key: str) -> bool:
    """Whether ``key`` looks like a key this service makes (whether or not it is known)."""
    return bool(_KEY_SHAPE.fullmatch(key))


def live_api_key(*, session: Session, key: str) -> ApiKey | None:
    """The stored key ``key`` is, if it is live (not revoked); None otherwise."""
    return session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    )


def workspace_for_key(*, session: Session, key: str) -> Workspace | None:
    """The workspace a live (not revoked) key belongs to, or None."""
    api_key = live_api_key(session=session, key=key)
    return api_key.workspace if api_key is not None else None


def list_api_keys(*, session: Session, workspace: Workspace | None = None) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if workspace is not None:
        query = query.where(ApiKey.workspace_id == workspace.id)
    return list(session.scalars(query))


def revoke_api_key(*, session: Session, key_id: int) -> ApiKey | None:
    api_key = session.get(ApiKey, key_id)
    if api_key is not None and api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
    return api_key


def create_first_key_if_none(*, session: Session) -> str | None:
    """On a brand-new install, a key for the default workspace, so the first run is usable."""
    if session.scalar(select(ApiKey.id).limit(1)) is not None:
        return None
    workspace, _ = get_or_create_workspace(session=session, name=DEFAULT_WORKSPACE)
    return create_api_key(session=session, workspace=workspace)


@dataclass(frozen=True)
class Cadences:
    """Days between touches for each tier (the "follow up forever" rhythm)."""

    a: int
    b: int
    c: int

    def days(self, tier: str) -> int:
        days: dict[str, int] = {Tier.A: self.a, Tier.B: self.b, Tier.C: self.c}
        return days[tier]

    def next_due_on(self, tier: str, last_touch: date) -> date:
        return last_touch + timedelta(days=self.days(tier))


class CadenceDefaults(Protocol):
    """The service-wide cadences, in days (``app.config.Settings`` is one)."""

    @property
    def cadence_a_days(self) -> int: ...
    @property
    def cadence_b_days(self) -> int: ...
    @property
    def cadence_c_days(self) -> int: ...


def cadences_for(workspace: Workspace, defaults: CadenceDefaults) -> Cadences:
    """The workspace's own cadences where set, the service-wide ones otherwise."""
    return Cadences(
        a=workspace.cadence_a_days or defaults.cadence_a_days,
        b=workspace.cadence_b_days or defaults.cadence_b_days,
        c=workspace.cadence_c_days or defaults.cadence_c_days,
    )
