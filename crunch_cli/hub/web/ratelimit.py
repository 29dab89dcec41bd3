"""A sliding-window rate limit kept in the hub process, per client address.

In memory on purpose: it guards one form of a hub that runs as a single process; a restart
forgets the counts, and restarting the hub is not something a visitor can make happen.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from datetime import timedelta


class RateLimited(Exception):
    """Raised by `RateLimiter.take` when the key used its allowance; `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"try again in {retry_after} s")
        self.retry_after = retry_after


class RateLimiter:
    """At most `limit` events per `window` for each key."""

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window.total_seconds()
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Count one event for `key`, or raise `RateLimited` without counting it."""
        now = time.monotonic()
        with self._lock:
            self._forget_before(now - self.window)
            events = self._events.setdefault(key, deque())
            if len(events) >= self.limit:
                retry_after = events[0] + self.window - now if events else self.window
                raise RateLimited(max(1, math.ceil(retry_after)))
            events.append(now)

    def _forget_before(self, horizon: float) -> None:
        # Every key is swept, not just the caller's: addresses that never come back must
        # not keep their entries; there are at most `limit` of them per address and hour.
        for key in list(self._events):
            events = self._events[key]
            while events and events[0] <= horizon:
                events.popleft()
            if not events:
                del self._events[key]
