"""A per-process rate limiter (fixed windows) for public forms.

Each key (e.g. survey + client address) may act `limit` times per `window` seconds. Counts live in
this process's memory: with several server processes each counts on its own, so the effective limit
is `limit` x processes (documented with the setting). Memory is bounded by dropping finished windows.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._counts: dict[str, tuple[float, int]] = {}

    def hit(self, key: str) -> int | None:
        """Count one action; returns None if allowed, else the seconds until it will be."""
        if self.limit <= 0:
            return None
        now = self.clock()
        start, count = self._counts.get(key, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        if count >= self.limit:
            return max(1, int(self.window - (now - start)) + 1)
        if len(self._counts) >= self.max_keys:
            self._counts = {k: v for k, v in self._counts.items() if now - v[0] < self.window}
        self._counts[key] = (start, count + 1)
        return None
