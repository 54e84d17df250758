"""What every `/api/...` exchange gets, whatever the route: the `.json` suffix made optional
(reference 1.2: `/people.json` and `/people` are the same resource), an `X-Request-Id` and
`Cache-Control: no-store` as Pipeline sends, and a count of answers by status for the stats.

Runs outermost, so later middleware (rate limit, faults) and the routes see the path without
its suffix.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_status: Counter[int] = Counter()
        self._by_method: Counter[str] = Counter()

    def count(self, method: str, status: int) -> None:
        with self._lock:
            self._by_status[status] += 1
            self._by_method[method] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._by_status.values()),
                "by_status": {str(k): v for k, v in sorted(self._by_status.items())},
                "by_method": dict(self._by_method),
            }

    def reset(self) -> None:
        with self._lock:
            self._by_status.clear()
            self._by_method.clear()


class ApiTransportMiddleware:
    def __init__(self, app: ASGIApp, counter: RequestCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.endswith(".json"):
            scope = {**scope, "path": path[: -len(".json")]}
            scope["raw_path"] = scope["path"].encode()
        request_id = str(uuid.uuid4()).encode()
        method: str = scope["method"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"x-request-id", request_id), (b"cache-control", b"no-store")]
                message["headers"] = headers
                self.counter.count(method, int(message["status"]))
            await send(message)

        await self.app(scope, receive, send_with_headers)
