"""The sandbox's notion of time: real time plus a skew tests can move (advance or set).

Instants are kept as aware UTC datetimes truncated to whole seconds, the precision Pipeline
shows, so a record's `updated_at` as printed is exactly what a `*_modified` condition compares.
Rate-limit windows do not use this clock (they follow real time, as clients sleep in real time).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SandboxClock:
    def __init__(self) -> None:
        self._skew = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            skew = self._skew
        return (datetime.now(UTC) + skew).replace(microsecond=0)

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._skew += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._skew = timedelta(0)

    def set(self, moment: datetime) -> datetime:
        """Make `now()` read `moment` (aware) from here on, time flowing normally after."""
        if moment.tzinfo is None:
            raise ValueError("the moment must carry a UTC offset")
        with self._lock:
            self._skew = moment - datetime.now(UTC)
        return self.now()
