"""The client-side limiter, on a fake clock: QBO's windows are never exceeded, waiters are served
in arrival order, and a 429 pauses the realm."""

from __future__ import annotations

import asyncio

from adapters.qbo.throttle import LimiterRegistry, RateLimits, RealmLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def limiter(clock: FakeClock, **limits: int) -> RealmLimiter:
    return RealmLimiter(RateLimits(**limits), clock=clock, sleep=clock.sleep)


async def take(limiter_: RealmLimiter, clock: FakeClock, count: int, batch=False) -> list[float]:
    """Acquire and immediately complete `count` requests; the times they were let through."""
    times = []
    for _ in range(count):
        async with limiter_.slot(batch=batch):
            times.append(clock.now)
    return times


def most_in_any_window(times: list[float], period: float) -> int:
    return max(sum(1 for t in times if start <= t < start + period) for start in times)


async def test_at_most_ten_requests_go_out_in_any_second():
    clock = FakeClock()
    times = await take(limiter(clock, per_second=10, per_minute=500), clock, 25)
    assert times[:10] == [0.0] * 10
    assert times[10:20] == [1.0] * 10
    assert times[20:] == [2.0] * 5
    assert most_in_any_window(times, 1.0) == 10


async def test_the_minute_window_holds_when_it_is_the_tighter_one():
    clock = FakeClock()
    times = await take(limiter(clock, per_second=100, per_minute=20), clock, 21)
    assert times[19] == 0.0
    assert times[20] == 60.0


async def test_batch_requests_have_their_own_budget_and_count_against_the_general_one():
    clock = FakeClock()
    limits = limiter(clock, per_second=100, per_minute=500, batch_per_minute=2)
    batches = await take(limits, clock, 3, batch=True)
    assert batches == [0.0, 0.0, 60.0]
    plain = await take(limits, clock, 1)
    assert plain == [60.0]  # not held back by the batch window


async def test_a_slot_frees_one_period_after_its_answer_not_after_it_was_sent():
    clock = FakeClock()
    limits = limiter(clock, per_second=2, per_minute=500)
    await limits.acquire()
    await limits.acquire()  # two requests in flight: the window is full
    admitted: list[float] = []

    async def third():
        await limits.acquire()
        admitted.append(clock.now)

    waiter = asyncio.create_task(third())
    while clock.now < 5.0:  # the waiter polls, advancing the fake clock
        await asyncio.sleep(0)
    limits.release()  # the first answer arrives at t≈5
    released_at = clock.now
    await waiter
    assert admitted[0] >= released_at + 1.0


async def test_concurrent_callers_are_served_in_arrival_order():
    clock = FakeClock()
    limits = limiter(clock, per_second=3, per_minute=500)
    order: list[int] = []

    async def caller(index: int):
        async with limits.slot():
            order.append(index)

    await asyncio.gather(*(caller(i) for i in range(12)))
    assert order == list(range(12))
    assert clock.now == 3.0


async def test_a_429_pauses_every_caller_of_the_realm():
    clock = FakeClock()
    limits = limiter(clock, per_second=10, per_minute=500)
    limits.pause(30.0)
    assert limits.paused_for_s == 30.0
    times = await take(limits, clock, 2)
    assert times == [30.0, 30.0]
    assert limits.total_wait_s == 30.0


async def test_a_shorter_pause_never_shortens_a_longer_one():
    clock = FakeClock()
    limits = limiter(clock)
    limits.pause(30.0)
    limits.pause(5.0)
    assert limits.paused_for_s == 30.0


def test_each_realm_has_one_shared_limiter():
    registry = LimiterRegistry(RateLimits(per_second=5))
    assert registry.for_realm("1") is registry.for_realm("1")
    assert registry.for_realm("1") is not registry.for_realm("2")
    assert registry.for_realm("2").limits.per_second == 5
