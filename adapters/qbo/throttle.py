"""Client-side rate limiting per QBO realm, so the engine stays under QBO's limits instead of
collecting 429s: 10 req/s and 500 req/min per realm, and 40 batch req/min (reference section 10).

Each limit is a sliding window of *completed* requests plus the ones in flight. A request's slot
is stamped when its answer arrives, not when it was sent: QBO counts a request when it receives
it, which is at or before our answer arrives, so stamping on completion can never undercount,
whatever the network or connection-pool delays. Acquisition is FIFO under one lock per realm,
so concurrent callers are served in arrival order. A 429 pauses the whole realm.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RateLimits:
    per_second: int = 10
    per_minute: int = 500
    batch_per_minute: int = 40
    # How long to look again when every slot of a window is still in flight.
    in_flight_poll_s: float = 0.005


class _Window:
    def __init__(self, period_s: float, limit: int) -> None:
        self.period_s = period_s
        self.limit = limit
        self.completed: deque[float] = deque()  # completion stamps, oldest first
        self.in_flight = 0

    def wait_s(self, now: float, poll_s: float) -> float:
        while self.completed and self.completed[0] <= now - self.period_s:
            self.completed.popleft()
        if len(self.completed) + self.in_flight < self.limit:
            return 0.0
        if self.completed:
            return self.completed[0] + self.period_s - now
        return poll_s  # all in flight: nothing frees until one of them answers


class RealmLimiter:
    def __init__(
        self, limits: RateLimits, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._general = (_Window(1.0, limits.per_second), _Window(60.0, limits.per_minute))
        self._batch = _Window(60.0, limits.batch_per_minute)
        self._paused_until = 0.0
        self._lock = asyncio.Lock()  # FIFO: waiters are woken in the order they arrived
        self.total_wait_s = 0.0  # for benchmarks and logs: time spent waiting here

    def _windows(self, batch: bool) -> tuple[_Window, ...]:
        return (*self._general, self._batch) if batch else self._general

    async def acquire(self, *, batch: bool = False) -> float:
        """Wait for room in every window that applies; return the seconds waited."""
        windows = self._windows(batch)
        started = self._clock()
        async with self._lock:
            while True:
                now = self._clock()
                poll = self.limits.in_flight_poll_s
                wait = max(self._paused_until - now, *(w.wait_s(now, poll) for w in windows))
                if wait <= 0:
                    break
                await self._sleep(wait)
            for window in windows:
                window.in_flight += 1
        waited = self._clock() - started
        self.total_wait_s += waited
        return waited

    def release(self, *, batch: bool = False) -> None:
        """The request has been answered (or failed): its slot now ages out of each window."""
        now = self._clock()
        for window in self._windows(batch):
            window.in_flight -= 1
            window.completed.append(now)

    @asynccontextmanager
    async def slot(self, *, batch: bool = False) -> AsyncIterator[None]:
        await self.acquire(batch=batch)
        try:
            yield
        finally:
            self.release(batch=batch)

    def pause(self, seconds: float) -> None:
        """QBO said 429: nobody in this realm sends for `seconds`."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    @property
    def paused_for_s(self) -> float:
        return max(0.0, self._paused_until - self._clock())


class LimiterRegistry:
    """One limiter per realm for the whole process, shared by every client of that realm."""

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limits = limits or RateLimits()
        self._clock = clock
        self._sleep = sleep
        self._by_realm: dict[str, RealmLimiter] = {}

    def for_realm(self, realm_id: str) -> RealmLimiter:
        limiter = self._by_realm.get(realm_id)
        if limiter is None:
            limiter = RealmLimiter(self.limits, clock=self._clock, sleep=self._sleep)
            self._by_realm[realm_id] = limiter
        return limiter
