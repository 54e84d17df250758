"""Pipeline's rate limit (reference 1.4): 10 requests per one-second window, headers on every
`/api/...` answer, 429 `{"error": "Too many requests"}` beyond.

Windows are whole epoch seconds (fixed, not sliding): every recording has `X-Ratelimit-Reset`
equal to the next whole second after its `Date`. `X-Ratelimit-Remaining` counts the request
being answered (the first of a window shows limit - 1, as the 2023 recordings do). A refused
request uses no budget. The budget belongs to the api_key (or, by configuration, the whole
account; what Pipeline keys it on is unknown); a call without an api_key has one per client
address. Real time, never the sandbox clock: clients wait in real time.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.crm.config import CrmSandboxConfig
from sandbox.crm.errors import JSON_TYPE

TOO_MANY = json.dumps({"error": "Too many requests"}).encode()


class RateLimiter:
    def __init__(self, config: CrmSandboxConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (epoch second, requests)
        self._accepted: Counter[str] = Counter()
        self._throttled: Counter[str] = Counter()

    @property
    def limit(self) -> int:
        return self.config.rate_limit_per_second

    def admit(self, key: str) -> tuple[bool, int, int]:
        """(accepted, remaining, reset epoch second) for one request under `key`."""
        now = int(self._clock())
        with self._lock:
            window, used = self._windows.get(key, (now, 0))
            if window != now:
                window, used = now, 0
            accepted = used < self.limit
            if accepted:
                used += 1
                self._accepted[key] += 1
            else:
                self._throttled[key] += 1
            self._windows[key] = (window, used)
        return accepted, max(self.limit - used, 0), now + 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "limit_per_second": self.limit,
                "scope": self.config.rate_limit_scope,
                "accepted": sum(self._accepted.values()),
                "throttled": sum(self._throttled.values()),
                "throttled_by_key": dict(self._throttled),
            }

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self._accepted.clear()
            self._throttled.clear()


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    def _key(self, scope: Scope) -> str:
        if self.limiter.config.rate_limit_scope == "account":
            return "account"
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        api_key = (query.get("api_key") or [""])[0]
        if api_key:
            return f"api_key:{api_key}"
        client = scope.get("client") or ("unknown", 0)
        return f"address:{client[0]}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        accepted, remaining, reset = self.limiter.admit(self._key(scope))
        headers = [
            (b"x-ratelimit-limit", str(self.limiter.limit).encode()),
            (b"x-ratelimit-remaining", str(remaining).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
        ]
        if not accepted:
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", JSON_TYPE.encode()),
                        (b"content-length", str(len(TOO_MANY)).encode()),
                        *headers,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": TOO_MANY})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)
