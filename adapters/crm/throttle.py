"""Client-side rate limiting per CRM api key: 10 requests per second (reference 1.4) without
collecting 429s, and a pause until `X-Ratelimit-Reset` when one comes anyway.

Three things hold a request back, whichever is longest:
- our own sliding window of *completed* requests plus those in flight (as adapters/qbo/throttle.py:
  a slot is stamped when its answer arrives, so we can never undercount what the CRM counted);
- the CRM's own count: every answer says how many requests the key has left
  (`X-Ratelimit-Remaining`) until the window resets (`X-Ratelimit-Reset`, epoch seconds). When
  another client shares the key that count falls faster than ours, and we stop at zero until
  the reset instead of running into 429s;
- a pause after a 429, until its reset (1 s when the header is missing).
Acquisition is FIFO under one lock per key, so concurrent callers are served in arrival order.
"""

from __future__ import annotations

import asyncio
import hashlib
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
    in_flight_poll_s: float = 0.005  # look again this soon when every slot is in flight
    missing_reset_pause_s: float = 1.0  # a 429 without X-Ratelimit-Reset
    min_pause_s: float = 0.05  # a reset already past on our clock (clock skew): still wait a bit
    max_pause_s: float = 60.0  # never trust a reset further away than this


class KeyLimiter:
    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limits = limits or RateLimits()
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self._completed: deque[float] = deque()  # completion stamps, oldest first
        self._in_flight = 0
        self._paused_until = 0.0
        self._server_reset_epoch = 0.0  # the CRM window our `_server_left` belongs to
        self._server_reset_at = 0.0  # the same moment on our monotonic clock
        self._server_left: int | None = None
        self._lock = asyncio.Lock()  # FIFO: waiters are woken in the order they arrived
        self.total_wait_s = 0.0  # time spent waiting here (benchmarks, logs)
        self.pauses = 0  # 429s waited out

    def _own_wait_s(self, now: float) -> float:
        while self._completed and self._completed[0] <= now - 1.0:
            self._completed.popleft()
        if len(self._completed) + self._in_flight < self.limits.per_second:
            return 0.0
        if self._completed:
            return self._completed[0] + 1.0 - now
        return self.limits.in_flight_poll_s

    def _server_wait_s(self, now: float) -> float:
        if self._server_left is None or now >= self._server_reset_at:
            return 0.0
        return self._server_reset_at - now if self._server_left <= 0 else 0.0

    async def acquire(self) -> float:
        """Wait until a request may go out; return the seconds waited."""
        started = self._clock()
        async with self._lock:
            while True:
                now = self._clock()
                paused = self._paused_until - now
                wait = max(paused, self._own_wait_s(now), self._server_wait_s(now))
                if wait <= 0:
                    break
                await self._sleep(wait)
            self._in_flight += 1
            if self._server_left is not None and self._clock() < self._server_reset_at:
                self._server_left -= 1
        waited = self._clock() - started
        self.total_wait_s += waited
        return waited

    def release(self) -> None:
        """The request has been answered (or failed): its slot now ages out of the window."""
        self._in_flight -= 1
        self._completed.append(self._clock())

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()

    def observe(self, remaining: int | None, reset_epoch: float | None) -> None:
        """An answer's X-Ratelimit-Remaining/Reset: what the CRM says is left in its window."""
        if remaining is None or reset_epoch is None or reset_epoch < self._server_reset_epoch:
            return  # no news, or news about a window that is already over
        wall = self._wall()  # read before the monotonic clock: never wake before the reset
        reset_at = self._clock() + self._bounded(reset_epoch - wall)
        if reset_epoch == self._server_reset_epoch and self._server_left is not None:
            remaining = min(remaining, self._server_left)  # answers arrive out of order
        self._server_reset_epoch, self._server_reset_at = reset_epoch, reset_at
        self._server_left = remaining

    def wait_out(self, reset_epoch: float | None) -> float:
        """The CRM said 429: nobody using this key sends before its reset. Returns the pause."""
        wall = self._wall()  # read before the monotonic clock: never wake before the reset
        if reset_epoch is None:
            pause = self.limits.missing_reset_pause_s
        else:
            pause = self._bounded(reset_epoch - wall)
        self._paused_until = max(self._paused_until, self._clock() + pause)
        self.pauses += 1
        return pause

    def _bounded(self, seconds: float) -> float:
        return min(self.limits.max_pause_s, max(self.limits.min_pause_s, seconds))

    @property
    def paused_for_s(self) -> float:
        return max(0.0, self._paused_until - self._clock())


class LimiterRegistry:
    """One limiter per api key for the whole process, shared by every client of that key."""

    def __init__(
        self,
        limits: RateLimits | None = None,
        *,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.limits = limits or RateLimits()
        self._clock, self._wall, self._sleep = clock, wall, sleep
        self._by_key: dict[str, KeyLimiter] = {}

    def for_key(self, api_key: str) -> KeyLimiter:
        digest = hashlib.sha256(api_key.encode()).hexdigest()  # no key kept in the clear
        limiter = self._by_key.get(digest)
        if limiter is None:
            limiter = KeyLimiter(self.limits, clock=self._clock, wall=self._wall, sleep=self._sleep)
            self._by_key[digest] = limiter
        return limiter
