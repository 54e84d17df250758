"""Fault injection: make the sandbox fail the way QBO and the network do, on purpose.

A `FaultPlan` (mutable at runtime, through `PUT /_sandbox/faults` or in process) gives each
request a chance of: a 500 (QBO SystemFault 10000), a 503, a 429 (fault 3001), a `timeout` (the
request is never handled; the connection is held `timeout_s`, then 504), a `lost_response` (the
request IS handled, the answer is held back, then 504: the case `requestid` replays exist for),
and independently `slow` (`slow_ms` added before handling). `script` forces the next faults in
order, before any dice. `seed` makes the dice repeatable. `/_sandbox/*` and the OAuth paths are
spared unless `include_control_paths`.

    app.add_middleware(FaultInjectionMiddleware, plan=plan)
    app.include_router(make_router(plan))
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qbsync.logs import get_logger
from sandbox.holding import client_left_within
from sandbox.qbo import faults
from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.oauth import OAUTH_PATH_PREFIXES

log = get_logger(__name__)

FaultKind = Literal["http_500", "http_503", "http_429", "timeout", "lost_response"]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "http_500",
    "http_503",
    "http_429",
    "timeout",
    "lost_response",
)
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_Probability = Field(default=0.0, ge=0.0, le=1.0)


@dataclass(frozen=True)
class Decision:
    kind: FaultKind | None
    slow: bool


class FaultPlan(BaseModel):
    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    http_500: float = _Probability
    http_503: float = _Probability
    http_429: float = _Probability
    timeout: float = _Probability
    lost_response: float = _Probability
    slow: float = _Probability
    slow_ms: int = Field(default=500, ge=0)
    timeout_s: float = Field(default=30.0, ge=0)
    seed: int | None = None
    path_regex: str | None = None
    only_writes: bool = False
    include_control_paths: bool = False
    script: list[FaultKind] = Field(default_factory=list)

    _rng: random.Random = PrivateAttr(default_factory=random.Random)
    _counts: dict[str, int] = PrivateAttr(default_factory=dict)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @field_validator("path_regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            re.compile(value)
        return value

    @model_validator(mode="after")
    def _at_most_certain(self) -> FaultPlan:
        if sum(getattr(self, kind) for kind in FAULT_KINDS) > 1.0 + 1e-9:
            raise ValueError("the fault probabilities add up to more than 1")
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._rng.seed(self.seed)

    def applies_to(self, method: str, path: str) -> bool:
        if not self.include_control_paths and (
            path.startswith("/_sandbox") or path.startswith(OAUTH_PATH_PREFIXES)
        ):
            return False
        if self.only_writes and (method in _READS or path.rstrip("/").endswith("/query")):
            return False
        return self.path_regex is None or re.search(self.path_regex, path) is not None

    def decide(self, method: str, path: str) -> Decision:
        if not self.applies_to(method, path):
            return Decision(None, False)
        with self._lock:
            # Always two draws, so a seeded run repeats whatever the probabilities are.
            slow_draw, fault_draw = self._rng.random(), self._rng.random()
            kind = self.script.pop(0) if self.script else self._pick(fault_draw)
            slow = slow_draw < self.slow
            self._count("considered")
            if kind is not None:
                self._count(kind)
            if slow:
                self._count("slow")
        return Decision(kind, slow)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                name: self._counts.get(name, 0) for name in ("considered", *FAULT_KINDS, "slow")
            }

    def replace_with(self, other: FaultPlan) -> None:
        """Take every setting of `other` (already validated as a whole); counters carry on."""
        with self._lock:
            for name in type(self).model_fields:
                value = getattr(other, name)
                self.__dict__[name] = list(value) if isinstance(value, list) else value
            self._rng.seed(self.seed)

    def reset(self) -> None:
        self.replace_with(FaultPlan())
        with self._lock:
            self._counts.clear()

    def _pick(self, draw: float) -> FaultKind | None:
        threshold = 0.0
        for kind in FAULT_KINDS:
            threshold += getattr(self, kind)
            if draw < threshold:
                return kind
        return None

    def _count(self, name: str) -> None:
        self._counts[name] = self._counts.get(name, 0) + 1


_GATEWAY_TIMEOUT = (
    "<html><head><title>504 Gateway Time-out</title></head>"
    "<body><center><h1>504 Gateway Time-out</h1></center></body></html>"
)


class FaultInjectionMiddleware:
    def __init__(self, app: ASGIApp, plan: FaultPlan, clock: SandboxClock | None = None) -> None:
        self.app = app
        self.plan = plan
        self.clock = clock or SandboxClock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        decision = self.plan.decide(scope["method"], scope["path"])
        if decision.slow:
            await asyncio.sleep(self.plan.slow_ms / 1000)
        if decision.kind is None:
            await self.app(scope, receive, send)
            return
        log.info("qbo_sandbox.fault_injected", kind=decision.kind, path=scope["path"])
        if decision.kind in ("timeout", "lost_response"):
            await self._hold(decision.kind, scope, receive, send)
            return
        fault = {
            "http_500": faults.system_failure,
            "http_503": faults.service_unavailable,
            "http_429": faults.throttled,
        }[decision.kind]()
        await fault.response(self.clock)(scope, receive, send)

    async def _hold(self, kind: FaultKind, scope: Scope, receive: Receive, send: Send) -> None:
        if kind == "lost_response":

            async def discard(message: Message) -> None:
                return None

            await self.app(scope, receive, discard)
        if await client_left_within(receive, self.plan.timeout_s):
            return
        response: Response = HTMLResponse(_GATEWAY_TIMEOUT, status_code=504)
        await response(scope, receive, send)


def make_router(plan: FaultPlan) -> APIRouter:
    router = APIRouter(prefix="/_sandbox/faults")

    def view() -> dict[str, Any]:
        return {"plan": plan.model_dump(), "injected": plan.counts()}

    @router.get("")
    def get_plan() -> dict[str, Any]:
        return view()

    @router.put("")
    def put_plan(new_plan: FaultPlan) -> dict[str, Any]:
        plan.replace_with(new_plan)
        log.info("qbo_sandbox.fault_plan_set", plan=plan.model_dump())
        return view()

    @router.post("/reset")
    def reset_plan() -> dict[str, Any]:
        plan.reset()
        return view()

    return router
