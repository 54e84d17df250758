"""QBO's per-company rate limits (reference section 10), as pure ASGI middleware.

Only `/v3/company/{realmId}/...` is limited, per realm, with sliding windows (any 1 s and any
60 s span, not fixed buckets): `rate_per_second` (10) and `rate_per_minute` (500); calls to
`/batch` also count against `batch_requests_per_minute` (40) and against the 500. A throttled
request consumes no budget and gets 429 with fault 3001 (JSON, or XML when
`throttle_fault_format` says so, as QBO has been seen to answer). No `Retry-After` header:
Intuit documents none (it says wait 60 s).

Windows use the monotonic clock, never the sandbox clock (which tests move for token expiry).
Read counters with `ThrottleLedger.stats()`; pass the ledger in to share it with the admin API:
`app.add_middleware(ThrottleMiddleware, config=config, clock=clock, ledger=ledger)`.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.qbo import faults
from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.config import QboSandboxConfig

_COMPANY_PATH = re.compile(r"^/v3/company/(?P<realm>[^/]+)(?P<rest>/.*)?$")
_BATCH_REST = re.compile(r"^/batch/?$")

Reason = Literal["per_second", "per_minute", "batch_per_minute"]


def _trim(window: deque[float], older_than: float) -> int:
    while window and window[0] <= older_than:
        window.popleft()
    return len(window)


@dataclass
class _RealmWindows:
    last_second: deque[float] = field(default_factory=deque)
    last_minute: deque[float] = field(default_factory=deque)
    batch_last_minute: deque[float] = field(default_factory=deque)
    accepted: int = 0
    throttled: dict[str, int] = field(default_factory=dict)


class ThrottleLedger:
    """The sliding windows and counters of every realm. Thread-safe."""

    def __init__(
        self, config: QboSandboxConfig, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._config = config
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._realms: dict[str, _RealmWindows] = {}

    def admit(self, realm_id: str, is_batch: bool) -> Reason | None:
        """Record and accept the call (None), or say which limit refuses it (no budget used)."""
        now = self._monotonic()
        config = self._config
        with self._lock:
            realm = self._realms.setdefault(realm_id, _RealmWindows())
            reason: Reason | None = None
            if _trim(realm.last_second, now - 1.0) >= config.rate_per_second:
                reason = "per_second"
            elif _trim(realm.last_minute, now - 60.0) >= config.rate_per_minute:
                reason = "per_minute"
            elif (
                is_batch
                and _trim(realm.batch_last_minute, now - 60.0) >= config.batch_requests_per_minute
            ):
                reason = "batch_per_minute"
            if reason is not None:
                realm.throttled[reason] = realm.throttled.get(reason, 0) + 1
                return reason
            realm.last_second.append(now)
            realm.last_minute.append(now)
            if is_batch:
                realm.batch_last_minute.append(now)
            realm.accepted += 1
            return None

    def stats(self) -> dict[str, Any]:
        config = self._config
        with self._lock:
            realms = {
                realm_id: {
                    "accepted": windows.accepted,
                    "throttled": sum(windows.throttled.values()),
                    "throttled_by_limit": dict(windows.throttled),
                }
                for realm_id, windows in self._realms.items()
            }
        return {
            "limits": {
                "rate_per_second": config.rate_per_second,
                "rate_per_minute": config.rate_per_minute,
                "batch_requests_per_minute": config.batch_requests_per_minute,
            },
            "accepted": sum(r["accepted"] for r in realms.values()),
            "throttled": sum(r["throttled"] for r in realms.values()),
            "realms": realms,
        }

    def reset(self) -> None:
        with self._lock:
            self._realms.clear()


class ThrottleMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        config: QboSandboxConfig,
        clock: SandboxClock,
        ledger: ThrottleLedger | None = None,
    ) -> None:
        self.app = app
        self.config = config
        self.clock = clock
        self.ledger = ledger or ThrottleLedger(config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _COMPANY_PATH.match(scope["path"]) if scope["type"] == "http" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        is_batch = bool(_BATCH_REST.match(match["rest"] or ""))
        if self.ledger.admit(match["realm"], is_batch) is None:
            await self.app(scope, receive, send)
            return
        await self._throttled()(scope, receive, send)

    def _throttled(self) -> Response:
        fault = faults.throttled()
        if self.config.throttle_fault_format == "xml":
            body = faults.fault_xml(fault, self.clock)
            return Response(body, status_code=429, media_type="application/xml")
        return fault.response(self.clock)
