"""Requests per API key, counted in a moving window (the ``limits`` library, in memory)."""

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


def parse_rate_limit(text: str) -> RateLimitItem:
    """``text`` in the ``limits`` notation ("120/minute", "10 per second"); ValueError if not."""
    return parse(text)


class KeyRateLimiter:
    """At most ``limit`` requests per key; the count lives in this process's memory."""

    def __init__(self, limit: str) -> None:
        self.limit = limit
        self._item = parse_rate_limit(limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, key_id: str) -> int | None:
        """Count one request of ``key_id``: None if it is allowed, else whole seconds to wait."""
        if self._limiter.hit(self._item, key_id):
            return None
        reset = self._limiter.get_window_stats(self._item, key_id).reset_time
        return max(1, math.ceil(reset - time.time()))
