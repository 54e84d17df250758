"""One CRM API call, done properly: throttled, authenticated, retried by the error policy table.

Authentication is `api_key` + `app_key` as query parameters (reference 1.3), so every URL holds
both secrets: no URL is ever logged here, both keys are registered with qbsync.logs (which also
scrubs `api_key=` from library log lines), and no httpx exception is chained into ours.
"""

from __future__ import annotations

import asyncio
import copy
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.backoff import jittered_backoff_s
from adapters.crm.errors import NO_ANSWER, NOT_SENT, Action, CrmError, rule_for
from adapters.crm.faults import error_from_response, make_error, rate_status
from adapters.crm.throttle import KeyLimiter
from qbsync.logs import get_logger, register_secret

log = get_logger(__name__)

Params = Sequence[tuple[str, str]]
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # tries for retryable failures, the first included
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_throttle_pauses: int | None = None  # None: a throttled call is never dropped
    timeout_s: float = 30.0

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        return jittered_backoff_s(attempt, self.base_delay_s, self.max_delay_s, rng)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # below /api/v3, without `.json`
    params: Params = ()
    json: Any = None
    # May a failure whose outcome is unknown (5xx, lost answer) be sent again? None: by method.
    replay_safe: bool | None = None

    @property
    def may_replay(self) -> bool:
        return self.method != "POST" if self.replay_safe is None else self.replay_safe


class CrmTransport:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        app_key: str,
        *,
        http: httpx.AsyncClient,
        limiter: KeyLimiter,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        register_secret(api_key)
        register_secret(app_key)
        self.base_url = base_url.rstrip("/")
        self._auth = (("api_key", api_key), ("app_key", app_key))
        self.limiter = limiter
        self.policy = policy or RetryPolicy()
        self._http = http
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)
        self._sleep = sleep
        self.calls = 0  # HTTP requests sent, retries included ("API calls used" in summaries)

    def __repr__(self) -> str:
        return f"CrmTransport({self.base_url!r})"  # never the keys

    def with_policy(self, policy: RetryPolicy) -> CrmTransport:
        clone = copy.copy(self)
        clone.policy = policy
        return clone

    async def call(self, request: Request) -> Any:
        """The parsed JSON answer (None for an empty one); raises the CrmError the table picks."""
        attempts = pauses = 0
        while True:
            error, body = await self._send_once(request)
            if error is None:
                return body
            action = rule_for(error.status).action
            if action is Action.RATE_LIMITED and self._may_pause(pauses):
                pauses += 1
                pause = self.limiter.wait_out(error.reset_at)
                log.warning(
                    "crm throttled; pausing key", path=request.path, pause_s=round(pause, 3)
                )
                continue
            if action is Action.RETRY_IF_IDEMPOTENT and not request.may_replay:
                error.maybe_applied = True
                raise error
            retryable = action in (Action.RETRY, Action.RETRY_IF_IDEMPOTENT)
            if retryable and attempts + 1 < self.policy.max_attempts:
                delay = self.policy.backoff_s(attempts, self._rng)
                attempts += 1
                log.warning(
                    "crm call failed; retrying",
                    method=request.method,
                    path=request.path,
                    status=error.status,
                    attempt=attempts,
                    delay_s=round(delay, 3),
                )
                await self._sleep(delay)
                continue
            raise error

    def _may_pause(self, pauses_so_far: int) -> bool:
        limit = self.policy.max_throttle_pauses
        return limit is None or pauses_so_far < limit

    async def _send_once(self, request: Request) -> tuple[CrmError | None, Any]:
        async with self.limiter.slot():
            self.calls += 1
            started = time.monotonic()
            try:
                response = await self._http.request(
                    request.method,
                    f"{self.base_url}/{request.path}.json",
                    params=[*request.params, *self._auth],
                    json=request.json,
                    headers={"Accept": "application/json"},
                    timeout=self.policy.timeout_s,
                )
            except _NOT_SENT_ERRORS as exc:
                return make_error(NOT_SENT, f"could not connect: {type(exc).__name__}"), None
            except httpx.TransportError as exc:  # read/write timeouts, resets
                return make_error(NO_ANSWER, f"no answer: {type(exc).__name__}"), None
            rate = rate_status(response.headers)  # before the slot frees, for the next caller
            self.limiter.observe(rate.remaining, rate.reset_epoch)
        error, body = error_from_response(response)
        log.debug(
            "crm call",
            method=request.method,
            path=request.path,
            status=response.status_code,
            ms=round((time.monotonic() - started) * 1000, 1),
            ratelimit_remaining=rate.remaining,
        )
        return error, body
