"""One QBO API call, done properly: throttled, authenticated, retried by the error policy table.

Every call carries `Accept: application/json` and `minorversion`; every write carries the
caller's `requestid`, which is what makes retrying a write safe (QBO replays the first answer).
"""

from __future__ import annotations

import asyncio
import copy
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.backoff import jittered_backoff_s
from adapters.qbo.errors import NO_ANSWER, Action, QboError, rule_for
from adapters.qbo.faults import error_from_response, make_error
from adapters.qbo.oauth import QboOAuth
from adapters.qbo.throttle import RealmLimiter
from qbsync.logs import get_logger

MINOR_VERSION = 75  # QBO treats anything lower (or nothing) as 75 since Aug 2025 (reference 1)
MAX_REQUEST_ID = 50
MAX_BATCH_REQUEST_ID = 36

log = get_logger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # tries for RETRY actions, the first included
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    throttle_pause_s: float = 60.0  # Intuit: wait 60 s after a 429 that has no Retry-After
    max_throttle_pauses: int | None = None  # None: a throttled call is never dropped
    max_throttle_pause_s: float = 900.0  # cap on a Retry-After we are asked to honour
    timeout_s: float = 30.0

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        return jittered_backoff_s(attempt, self.base_delay_s, self.max_delay_s, rng)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # below /v3/company/{realm}/
    params: dict[str, str] | None = None
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None
    request_id: str | None = None
    batch: bool = False


class QboTransport:
    def __init__(
        self,
        base_url: str,
        *,
        tenant_id: str,
        realm_id: str,
        oauth: QboOAuth,
        limiter: RealmLimiter,
        http: httpx.AsyncClient,
        policy: RetryPolicy | None = None,
        minor_version: int = MINOR_VERSION,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        base = base_url.rstrip("/").removesuffix("/v3")
        self.company_url = f"{base}/v3/company/{realm_id}"
        self.tenant_id = tenant_id
        self.realm_id = realm_id
        self.oauth = oauth
        self.limiter = limiter
        self.policy = policy or RetryPolicy()
        self._http = http
        self._minor_version = str(minor_version)
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)
        self._sleep = sleep

    def with_policy(self, policy: RetryPolicy) -> QboTransport:
        clone = copy.copy(self)
        clone.policy = policy
        return clone

    async def call(self, request: Request) -> Any:
        """The parsed JSON answer; raises the QboError subclass the error table picks."""
        _check_request_id(request)
        attempts = throttle_pauses = 0
        refreshed = False
        while True:
            tokens = await self.oauth.tokens(self.tenant_id, self.realm_id)
            error, body = await self._send_once(request, tokens.access_token)
            if error is None:
                return body
            action = rule_for(error.status, error.code).action
            if action is Action.REFRESH_THEN_RETRY and not refreshed:
                refreshed = True
                await self.oauth.refresh(
                    self.tenant_id, self.realm_id, rejected_access_token=tokens.access_token
                )
                continue
            if action is Action.RATE_LIMITED and self._may_pause(throttle_pauses):
                throttle_pauses += 1
                pause = error.retry_after_s
                if pause is None:
                    pause = self.policy.throttle_pause_s * (1 + self._rng.uniform(0, 0.1))
                pause = min(pause, self.policy.max_throttle_pause_s)
                log.warning(
                    "qbo throttled; pausing realm",
                    realm_id=self.realm_id,
                    pause_s=round(pause, 3),
                    intuit_tid=error.intuit_tid,
                )
                self.limiter.pause(pause)
                continue
            if action is Action.RETRY and attempts + 1 < self.policy.max_attempts:
                delay = self.policy.backoff_s(attempts, self._rng)
                attempts += 1
                log.warning(
                    "qbo call failed; retrying",
                    realm_id=self.realm_id,
                    path=request.path,
                    status=error.status,
                    code=error.code,
                    attempt=attempts,
                    delay_s=round(delay, 3),
                    intuit_tid=error.intuit_tid,
                )
                await self._sleep(delay)
                continue
            raise error

    def _may_pause(self, pauses_so_far: int) -> bool:
        limit = self.policy.max_throttle_pauses
        return limit is None or pauses_so_far < limit

    async def _send_once(self, request: Request, access_token: str) -> tuple[QboError | None, Any]:
        params = {"minorversion": self._minor_version, **(request.params or {})}
        if request.request_id:
            params["requestid"] = request.request_id
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        if request.content_type:
            headers["Content-Type"] = request.content_type
        started = time.monotonic()
        async with self.limiter.slot(batch=request.batch):
            try:
                response = await self._http.request(
                    request.method,
                    f"{self.company_url}/{request.path}",
                    params=params,
                    json=request.json,
                    content=request.content,
                    headers=headers,
                    timeout=self.policy.timeout_s,
                )
            except httpx.TransportError as exc:  # timeouts included
                return make_error(NO_ANSWER, "", f"no answer from QBO: {exc!r}"), None
        error, body = error_from_response(response)
        log.debug(
            "qbo call",
            method=request.method,
            path=request.path,
            status=response.status_code,
            ms=round((time.monotonic() - started) * 1000, 1),
            intuit_tid=response.headers.get("intuit_tid"),
            request_id=request.request_id,
        )
        return error, body


def _check_request_id(request: Request) -> None:
    if request.request_id is None:
        return
    limit = MAX_BATCH_REQUEST_ID if request.batch else MAX_REQUEST_ID
    if not request.request_id or len(request.request_id) > limit:
        raise ValueError(f"QBO requestid must be 1..{limit} characters: {request.request_id!r}")
