"""Requests per API key, counted in a moving window.

Where the count lives decides what it limits: this process's memory counts what one process sees
(the embedded default: one server); several replicas must count in a store they share, or each
would let through the whole limit. So: a ``limits`` storage the operator names
(``GIVEFIRST_RATE_LIMIT_STORAGE``, e.g. ``redis://…``), else the database on PostgreSQL
(``DatabaseRateLimiter``), else memory.
"""

import math
import time
from typing import Protocol

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.orm import Session

from app.db import RATE_LIMIT, advisory_lock
from app.models import RateLimitHit


def parse_rate_limit(text: str) -> RateLimitItem:
    """``text`` in the ``limits`` notation ("120/minute", "10 per second"); ValueError if not."""
    return parse(text)


class RateLimiter(Protocol):
    limit: str

    def retry_after(self, key_id: str) -> int | None:
        """Count one request of ``key_id``: None if it is allowed, else whole seconds to wait."""


class KeyRateLimiter:
    """At most ``limit`` requests per key, counted by ``limits`` in ``storage`` (a ``limits``
    storage URI; default: this process's memory)."""

    def __init__(self, limit: str, storage: str | None = None) -> None:
        self.limit = limit
        self._item = parse_rate_limit(limit)
        store = storage_from_string(storage) if storage else MemoryStorage()
        if not isinstance(store, Storage):  # an asyncio storage ("async+redis://…")
            raise ValueError(f"{storage!r} is an asyncio storage; name the plain one")
        self._limiter = MovingWindowRateLimiter(store)

    def retry_after(self, key_id: str) -> int | None:
        """Count one request of ``key_id``: None if it is allowed, else whole seconds to wait."""
        if self._limiter.hit(self._item, key_id):
            return None
        reset = self._limiter.get_window_stats(self._item, key_id).reset_time
        return max(1, math.ceil(reset - time.time()))


class DatabaseRateLimiter:
    """The same moving window, counted in the database (PostgreSQL) that every replica shares:
    one row per allowed request, kept for the window. Each count is a short transaction under
    the key's advisory lock, so two processes counting one key at once never both take its last
    request; times come from the database's clock, which the replicas share too."""

    def __init__(self, limit: str, engine: Engine, *, scope: str = "api") -> None:
        self.limit = limit
        self._item = parse_rate_limit(limit)
        self._engine = engine
        self._scope = scope

    def retry_after(self, key_id: str) -> int | None:
        """Count one request of ``key_id``: None if it is allowed, else whole seconds to wait."""
        key = f"{self._scope}:{key_id}"
        window, amount = float(self._item.get_expiry()), self._item.amount
        with Session(self._engine) as session, session.begin():
            advisory_lock(session, RATE_LIMIT, func.hashtext(key), wait=False)
            clock = select(func.extract("epoch", func.clock_timestamp()))
            now = float(session.execute(clock).scalar_one())
            session.execute(
                delete(RateLimitHit).where(RateLimitHit.key == key, RateLimitHit.at <= now - window)
            )
            times = list(
                session.scalars(
                    select(RateLimitHit.at)
                    .where(RateLimitHit.key == key)
                    .order_by(RateLimitHit.at)
                    .limit(amount)
                )
            )
            if len(times) < amount:
                session.execute(insert(RateLimitHit).values(key=key, at=now))
                return None
            return max(1, math.ceil(times[0] + window - now))


def rate_limiter_for(limit: str, engine: Engine, storage: str | None) -> RateLimiter:
    """The limiter for ``limit``: in ``storage`` if named, else in the database on PostgreSQL,
    else in this process's memory."""
    if storage is None and engine.dialect.name == "postgresql":
        return DatabaseRateLimiter(limit, engine)
    return KeyRateLimiter(limit, storage)
