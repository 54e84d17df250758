"""Delivery to one subscribed URL: strictly in order, retried on Intuit's schedule.

A batch is delivered when the endpoint answers 2xx within the timeout. Otherwise it is retried
after QBO_WEBHOOK_RETRY_SCHEDULE_S[n] seconds (0, 10, 20, 30 s, 5, 20 min, 2, 4, 6 h, then every
6 h), each delay multiplied by `time_scale`; the batches behind it wait, as Intuit holds later
events until the failing one is acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from qbsync.logs import get_logger
from sandbox.qbo.config import QBO_WEBHOOK_RETRY_SCHEDULE_S

log = get_logger(__name__)

# (url, body) -> (HTTP status or None, error text or None)
Sender = Callable[[str, bytes], Awaitable[tuple[int | None, str | None]]]


def retry_delay_s(failed_attempts: int, time_scale: float) -> float:
    """Delay before the next try after `failed_attempts` failures in a row (1-based)."""
    schedule = QBO_WEBHOOK_RETRY_SCHEDULE_S
    step = schedule[min(failed_attempts, len(schedule)) - 1]
    return step * time_scale


@dataclass
class Batch:
    batch_id: str
    body: bytes
    events: int
    attempted: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class AttemptOutcome:
    url: str
    batch: Batch
    attempt: int
    status: int | None
    error: str | None
    next_retry_in_s: float | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Endpoint:
    def __init__(
        self,
        url: str,
        send: Sender,
        record: Callable[[AttemptOutcome], None],
        unpaused: asyncio.Event,
        time_scale: Callable[[], float],
    ) -> None:
        self.url = url
        self.queue: deque[Batch] = deque()
        self._send = send
        self._record = record
        self._unpaused = unpaused
        self._time_scale = time_scale
        self._work = asyncio.Event()
        self._retry_now = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def holding(self) -> bool:
        """True while the head batch has failed and waits for a retry."""
        return bool(self.queue) and self.queue[0].attempted.is_set()

    def enqueue(self, batch: Batch) -> None:
        self.queue.append(batch)
        self._work.set()

    def retry_now(self) -> None:
        self._retry_now.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"qbo-webhook {self.url}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            while not self.queue:
                self._work.clear()
                await self._work.wait()
            await self._deliver(self.queue[0])
            self.queue.popleft()

    async def _deliver(self, batch: Batch) -> None:
        attempt = 0
        while True:
            await self._unpaused.wait()
            attempt += 1
            # Cleared before the POST, not after its failure: a retry asked for while this
            # attempt is in flight must still skip the wait that follows it.
            self._retry_now.clear()
            status, error = await self._send(self.url, batch.body)
            ok = status is not None and 200 <= status < 300
            delay = None if ok else retry_delay_s(attempt, self._time_scale())
            self._record(AttemptOutcome(self.url, batch, attempt, status, error, delay))
            batch.attempted.set()
            if ok:
                return
            log.info("qbo_sandbox.webhook_failed", url=self.url, attempt=attempt, error=error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._retry_now.wait(), delay)
