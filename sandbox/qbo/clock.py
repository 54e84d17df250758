"""The sandbox's notion of time: real time plus an offset tests can advance.

QBO stamps entities in the company's local offset (e.g. 2026-11-24T13:04:05-08:00); the sandbox
uses one fixed offset per server. Advancing the clock lets tests reach token expiry or the CDC
30-day window without waiting.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone


class SandboxClock:
    def __init__(self, utc_offset_hours: float = -8.0) -> None:
        self._tz = timezone(timedelta(hours=utc_offset_hours))
        self._skew = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Now, in the company's offset, truncated to whole seconds as QBO shows it."""
        with self._lock:
            skew = self._skew
        return (datetime.now(UTC) + skew).astimezone(self._tz).replace(microsecond=0)

    def now_precise(self) -> datetime:
        with self._lock:
            skew = self._skew
        return (datetime.now(UTC) + skew).astimezone(self._tz)

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._skew += timedelta(seconds=seconds)
        return self.now()

    @staticmethod
    def stamp(moment: datetime) -> str:
        """QBO's timestamp format: ISO 8601 with the offset, no fraction."""
        return moment.isoformat(timespec="seconds")
