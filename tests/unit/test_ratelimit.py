import logging
import os
import uuid

import pytest
import redis.asyncio

from prg.ratelimit import RateLimiter


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_allows_limit_per_window_then_says_when():
    clock = Clock()
    limiter = RateLimiter(3, 60, clock)
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    assert limiter.hit("a") == 61
    assert limiter.hit("b") is None  # keys are independent
    clock.now = 59.5
    assert limiter.hit("a") == 1
    clock.now = 60
    assert limiter.hit("a") is None


def test_zero_disables_and_memory_is_bounded():
    assert all(RateLimiter(0, 60).hit("a") is None for _ in range(100))
    clock = Clock()
    limiter = RateLimiter(1, 10, clock, max_keys=5)
    for i in range(5):
        limiter.hit(str(i))
    clock.now = 11
    limiter.hit("new")
    assert len(limiter._counts) == 1


# Shared limits: a real Redis (PRG_TEST_REDIS_URL, set by .ci/run); two limiters stand for two processes.
REDIS_URL = os.environ.get("PRG_TEST_REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="set PRG_TEST_REDIS_URL to test limits shared through Redis")


@needs_redis
async def test_processes_sharing_redis_share_one_limit():
    name = f"test-{uuid.uuid4().hex}"
    first, second = (RateLimiter(4, 60, name=name, redis_url=REDIS_URL) for _ in range(2))
    answers = [await limiter.acquire("survey|203.0.113.9") for limiter in (first, second) * 3]
    assert answers[:4] == [None] * 4
    assert all(isinstance(wait, int) and 1 <= wait <= 61 for wait in answers[4:])
    assert await first.acquire("survey|203.0.113.10") is None  # another client has its own count
    client = redis.asyncio.from_url(REDIS_URL)
    keys = [key.decode() async for key in client.scan_iter("prg:ratelimit:*")]
    await client.aclose()
    assert keys and not any("203.0.113" in key for key in keys)  # addresses are hashed
    await first.close()
    await second.close()


async def test_an_unreachable_store_leaves_the_form_open_and_says_so(caplog):
    limiter = RateLimiter(1, 60, name="down", redis_url="redis://127.0.0.1:9/0")  # nothing listens on port 9
    with caplog.at_level(logging.WARNING, logger="prg"):
        assert [await limiter.acquire("k") for _ in range(3)] == [None, None, None]
    assert [r.getMessage() for r in caplog.records].count(
        "rate-limit store unavailable (ConnectionError); limiting is off until it answers") == 1
    await limiter.close()
