"""Rate limits for the public forms (fixed windows), in this process or shared through Redis.

Each key (e.g. survey + client address) may act `limit` times per `window` seconds. By default counts live
in this process's memory, bounded by dropping finished windows: with several server processes each counts
on its own, so the effective limit is `limit` x processes. With `PRG_RATE_LIMIT_REDIS_URL` set, every
process counts in the same Redis, so the limit holds across them. Keys are hashed before they reach Redis:
a client address is personal data and has no business in a cache. If Redis does not answer, the form
stays open (patients are not turned away because a cache is down) and the failure is logged, at most once
a minute.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("prg")


class RateLimiter:
    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000, *, name: str = "", redis_url: str = "") -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self.name = name
        self._counts: dict[str, tuple[float, int]] = {}
        self._redis = None
        self._redis_url = redis_url
        self._last_failure_logged = float("-inf")

    async def acquire(self, key: str) -> int | None:
        """Count one action; returns None if allowed, else the seconds until it will be."""
        if self._redis_url and self.limit > 0:
            return await self._shared_hit(key)
        return self.hit(key)

    def hit(self, key: str) -> int | None:
        """Count one action in this process's memory (see `acquire`)."""
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

    async def _shared_hit(self, key: str) -> int | None:
        # Windows are aligned to the wall clock so that every process agrees where one starts.
        now = time.time()
        window_index = int(now // self.window)
        digest = hashlib.sha256(f"{self.name}|{key}".encode()).hexdigest()[:32]
        redis_key = f"prg:ratelimit:{digest}:{window_index}"
        try:
            if self._redis is None:
                import redis.asyncio

                self._redis = redis.asyncio.from_url(self._redis_url, socket_timeout=0.5,
                                                     socket_connect_timeout=0.5)
            async with self._redis.pipeline(transaction=True) as pipe:
                count, _ = await pipe.incr(redis_key).expire(redis_key, int(self.window) + 1).execute()
        except Exception as exc:  # the cache is down: stay open, say so in the log
            if now - self._last_failure_logged > 60:
                self._last_failure_logged = now
                log.warning("rate-limit store unavailable (%s); limiting is off until it answers",
                            type(exc).__name__)
            return None
        if count > self.limit:
            return max(1, int((window_index + 1) * self.window - now) + 1)
        return None

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


def app_limiter(state: Any, name: str, limit: int, window: float, redis_url: str) -> RateLimiter:
    """The application's limiter called `name` (kept on its `state`, so each app starts afresh), made
    again when its limit or the shared store changes."""
    wanted = (limit, window, redis_url)
    made_for, limiter = getattr(state, f"{name}_limiter", (None, None))
    if limiter is None or made_for != wanted:
        limiter = RateLimiter(limit, window, name=name, redis_url=redis_url)
        setattr(state, f"{name}_limiter", (wanted, limiter))
    return limiter
