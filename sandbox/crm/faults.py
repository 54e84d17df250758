"""Fault injection: make the sandbox fail the way Pipeline and the network do, on purpose.

The plan is the QBO sandbox's `FaultPlan` (same knobs, same `/_sandbox/faults` control API:
`http_500`, `http_503`, `http_429`, `timeout`, `lost_response`, `slow`, `script`, `seed`,
`path_regex`, `only_writes`); only the answers are Pipeline's:

- 500: Rails' JSON error page `{"status": 500, "error": "Internal Server Error"}`;
- 503: an HTML page from the proxy in front (clients must not assume JSON on 5xx);
- 429: `{"error": "Too many requests"}`, as the rate limiter answers;
- timeout / lost_response: the connection is held `timeout_s`, then a 504 HTML page
  (lost_response first runs the request: the write happened, the answer is lost).

Runs inside the rate limiter, so injected answers carry the rate-limit headers too.
"""

from __future__ import annotations

import asyncio

from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qbsync.logs import get_logger
from sandbox.crm.errors import CrmJSONResponse
from sandbox.holding import client_left_within
from sandbox.qbo.faultinject import FaultKind, FaultPlan, make_router

__all__ = ["CrmFaultInjectionMiddleware", "FaultPlan", "make_router"]

log = get_logger(__name__)

_UNAVAILABLE = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head>"
    "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
_GATEWAY_TIMEOUT = (
    "<html><head><title>504 Gateway Time-out</title></head>"
    "<body><center><h1>504 Gateway Time-out</h1></center></body></html>"
)


def fault_response(kind: FaultKind) -> Response:
    if kind == "http_500":
        return CrmJSONResponse({"status": 500, "error": "Internal Server Error"}, 500)
    if kind == "http_503":
        return HTMLResponse(_UNAVAILABLE, status_code=503)
    if kind == "http_429":
        return CrmJSONResponse({"error": "Too many requests"}, 429)
    return HTMLResponse(_GATEWAY_TIMEOUT, status_code=504)


class CrmFaultInjectionMiddleware:
    def __init__(self, app: ASGIApp, plan: FaultPlan) -> None:
        self.app = app
        self.plan = plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        decision = self.plan.decide(scope["method"], scope["path"])
        if decision.slow:
            await asyncio.sleep(self.plan.slow_ms / 1000)
        if decision.kind is None:
            await self.app(scope, receive, send)
            return
        log.info("crm_sandbox.fault_injected", kind=decision.kind, path=scope["path"])
        if decision.kind in ("timeout", "lost_response"):
            if decision.kind == "lost_response":

                async def discard(message: Message) -> None:
                    return None

                await self.app(scope, receive, discard)
            if await client_left_within(receive, self.plan.timeout_s):
                return
        await fault_response(decision.kind)(scope, receive, send)
