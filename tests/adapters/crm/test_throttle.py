"""The per-key limiter on a fake clock: at most 10 requests in any second, the CRM's own
Remaining count respected when another client shares the key, and a 429 waits until the reset."""

from __future__ import annotations

import asyncio

import pytest

from adapters.crm.throttle import KeyLimiter, LimiterRegistry, RateLimits

EPOCH = 1_700_000_000.0  # the fake wall clock reads EPOCH + monotonic time


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return EPOCH + self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def limiter(clock: FakeClock, **limits) -> KeyLimiter:
    return KeyLimiter(RateLimits(**limits), clock=clock, wall=clock.wall, sleep=clock.sleep)


async def take(limiter_: KeyLimiter, clock: FakeClock, count: int) -> list[float]:
    """Acquire and immediately complete `count` requests; the times they were let through."""
    times = []
    for _ in range(count):
        async with limiter_.slot():
            times.append(clock.now)
    return times


def most_in_any_window(times: list[float], period: float = 1.0) -> int:
    return max(sum(1 for t in times if start <= t < start + period) for start in times)


async def test_at_most_ten_requests_go_out_in_any_second():
    clock = FakeClock()
    times = await take(limiter(clock), clock, 25)
    assert times == [0.0] * 10 + [1.0] * 10 + [2.0] * 5
    assert most_in_any_window(times) == 10


async def test_a_slot_frees_one_second_after_its_answer_not_after_it_was_sent():
    clock = FakeClock()
    limits = limiter(clock, per_second=1)
    await limits.acquire()
    admitted: list[float] = []

    async def second() -> None:
        await limits.acquire()
        admitted.append(clock.now)

    waiter = asyncio.create_task(second())
    while clock.now < 3.0:  # the answer takes 3 s; the waiter polls meanwhile
        await asyncio.sleep(0)
    limits.release()
    released_at = clock.now
    await waiter
    assert admitted[0] >= released_at + 1.0


async def test_concurrent_callers_are_served_in_arrival_order():
    clock = FakeClock()
    limits = limiter(clock, per_second=3)
    order: list[int] = []

    async def caller(index: int) -> None:
        async with limits.slot():
            order.append(index)

    await asyncio.gather(*(caller(i) for i in range(12)))
    assert order == list(range(12)) and clock.now == 3.0


async def test_a_429_waits_until_the_reset_it_names():
    clock = FakeClock()
    limits = limiter(clock)
    pause = limits.wait_out(EPOCH + 0.75)
    assert pause == 0.75
    assert await take(limits, clock, 1) == [0.75]
    assert limits.pauses == 1


async def test_a_429_without_a_reset_waits_one_second():
    clock = FakeClock()
    limits = limiter(clock)
    assert limits.wait_out(None) == 1.0
    assert await take(limits, clock, 1) == [1.0]


async def test_a_reset_already_past_on_our_clock_still_waits_a_little_and_a_far_one_is_capped():
    clock = FakeClock()
    limits = limiter(clock, min_pause_s=0.05, max_pause_s=60.0)
    assert limits.wait_out(EPOCH - 3) == 0.05  # clocks disagree: do not hammer
    assert limits.wait_out(EPOCH + 86_400) == 60.0  # a bogus reset does not stall us for a day


async def test_a_shorter_pause_never_shortens_a_longer_one():
    clock = FakeClock()
    limits = limiter(clock)
    limits.wait_out(EPOCH + 5)
    limits.wait_out(EPOCH + 1)
    assert limits.paused_for_s == 5.0


async def test_when_another_client_used_the_key_we_stop_at_zero_remaining_until_the_reset():
    clock = FakeClock()
    limits = limiter(clock)
    # Our first answer says the key has 2 requests left in the window that ends in 0.4 s.
    async with limits.slot():
        pass
    limits.observe(remaining=2, reset_epoch=EPOCH + 0.4)
    times = await take(limits, clock, 3)
    assert times == pytest.approx([0.0, 0.0, 0.4])  # two more now, the third after the reset


async def test_out_of_order_answers_never_raise_the_count_within_a_window():
    clock = FakeClock()
    limits = limiter(clock)
    limits.observe(remaining=1, reset_epoch=EPOCH + 0.5)
    limits.observe(remaining=6, reset_epoch=EPOCH + 0.5)  # an older answer arriving late
    assert await take(limits, clock, 2) == pytest.approx([0.0, 0.5])


async def test_news_of_an_older_window_is_ignored_and_a_new_window_starts_afresh():
    clock = FakeClock()
    limits = limiter(clock)
    limits.observe(remaining=5, reset_epoch=EPOCH + 1)
    limits.observe(remaining=0, reset_epoch=EPOCH)  # a late answer from the window before
    assert await take(limits, clock, 1) == [0.0]
    clock.now = 1.0
    limits.observe(remaining=9, reset_epoch=EPOCH + 2)
    assert await take(limits, clock, 1) == [1.0]


def test_each_api_key_has_one_shared_limiter_and_the_key_is_not_kept_in_the_clear():
    registry = LimiterRegistry(RateLimits(per_second=5))
    assert registry.for_key("key-one") is registry.for_key("key-one")
    assert registry.for_key("key-one") is not registry.for_key("key-two")
    assert registry.for_key("key-two").limits.per_second == 5
    assert "key-one" not in repr(vars(registry))
