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
