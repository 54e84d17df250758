"""QBO's per-realm rate limits: sliding 1 s / 60 s windows, the batch limit, fault 3001 on 429."""

from __future__ import annotations

import asyncio
import math
import time

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.config import QboSandboxConfig
from sandbox.qbo.throttle import ThrottleLedger, ThrottleMiddleware
from tests.support.servers import live_server

REALM, OTHER = "9130357766900456", "9130357766900457"


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _app(config: QboSandboxConfig, ledger: ThrottleLedger) -> FastAPI:
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    def anything(path: str) -> JSONResponse:
        return JSONResponse({"path": path})

    app.add_middleware(ThrottleMiddleware, config=config, clock=SandboxClock(), ledger=ledger)
    return app


class Harness:
    def __init__(self, **limits: int | str) -> None:
        self.config = QboSandboxConfig(**limits)  # type: ignore[arg-type]
        self.time = FakeMonotonic()
        self.ledger = ThrottleLedger(self.config, monotonic=self.time)
        transport = httpx.ASGITransport(app=_app(self.config, self.ledger))
        self.http = httpx.AsyncClient(transport=transport, base_url="http://sandbox")

    async def statuses(self, count: int, path: str = "query", realm: str = REALM) -> list[int]:
        return [
            (await self.http.post(f"/v3/company/{realm}/{path}")).status_code for _ in range(count)
        ]


@pytest.fixture
async def qbo() -> Harness:
    return Harness()


async def test_a_burst_over_ten_per_second_gets_429_with_fault_3001(qbo: Harness) -> None:
    responses = [await qbo.http.get(f"/v3/company/{REALM}/customer/1") for _ in range(15)]
    assert [r.status_code for r in responses] == [200] * 10 + [429] * 5
    fault = responses[-1].json()["Fault"]
    assert fault["type"] == "SERVICE"
    assert fault["Error"][0]["code"] == "3001"
    assert fault["Error"][0]["Message"].startswith("message=ThrottleExceeded")


async def test_traffic_within_both_limits_is_never_throttled(qbo: Harness) -> None:
    statuses = []
    for _ in range(600):  # 8 requests/s for 75 s: under 10/s and under 500 in any minute
        statuses += await qbo.statuses(1)
        qbo.time.now += 0.125
    assert set(statuses) == {200}


async def test_the_second_window_slides_instead_of_resetting_on_the_second(qbo: Harness) -> None:
    qbo.time.now = 1000.9
    assert await qbo.statuses(10) == [200] * 10
    qbo.time.now = 1001.1  # a new fixed bucket would start here; the sliding window does not
    assert await qbo.statuses(1) == [429]
    qbo.time.now = 1001.91
    assert await qbo.statuses(10) == [200] * 10


async def test_throttled_requests_consume_no_budget(qbo: Harness) -> None:
    assert await qbo.statuses(10) == [200] * 10
    qbo.time.now += 0.5
    assert set(await qbo.statuses(100)) == {429}
    qbo.time.now += 0.51  # 1.01 s after the accepted ten, 0.51 s after the refused hundred
    assert await qbo.statuses(10) == [200] * 10


async def test_five_hundred_a_minute_then_429_until_the_oldest_leaves_the_window(
    qbo: Harness,
) -> None:
    start = qbo.time.now
    for _ in range(50):
        assert await qbo.statuses(10) == [200] * 10
        qbo.time.now += 1.0
    assert await qbo.statuses(1) == [429]  # 50 s in: 500 used, the second window is empty
    assert qbo.ledger.stats()["realms"][REALM]["throttled_by_limit"] == {"per_minute": 1}
    qbo.time.now = start + 60.0001
    assert await qbo.statuses(10) == [200] * 10
    assert await qbo.statuses(1, realm=OTHER) == [200]  # every realm has its own budget


async def test_batch_calls_have_their_own_limit_and_count_toward_the_minute() -> None:
    qbo = Harness(batch_requests_per_minute=4, rate_per_minute=6)
    assert await qbo.statuses(4, path="batch") == [200] * 4
    assert await qbo.statuses(1, path="batch") == [429]
    assert await qbo.statuses(3, path="customer") == [200, 200, 429]  # 4 batch + 2 = 6
    by_limit = qbo.ledger.stats()["realms"][REALM]["throttled_by_limit"]
    assert by_limit == {"batch_per_minute": 1, "per_minute": 1}


async def test_only_company_api_paths_are_limited(qbo: Harness) -> None:
    for path in (
        "/_sandbox/faults",
        "/oauth2/v1/tokens/bearer",
        "/.well-known/openid_configuration",
    ):
        assert {(await qbo.http.get(path)).status_code for _ in range(30)} == {200}


async def test_the_fault_can_come_back_as_xml_as_qbo_sometimes_does() -> None:
    qbo = Harness(rate_per_second=1, throttle_fault_format="xml")
    await qbo.statuses(1)
    response = await qbo.http.get(f"/v3/company/{REALM}/customer/1")
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/xml")
    assert '<Error code="3001">' in response.text and 'Fault type="SERVICE"' in response.text


async def test_stats_count_accepted_and_throttled_per_realm(qbo: Harness) -> None:
    await qbo.statuses(12)
    await qbo.statuses(3, realm=OTHER)
    stats = qbo.ledger.stats()
    assert stats["accepted"] == 13 and stats["throttled"] == 2
    assert stats["realms"][OTHER] == {"accepted": 3, "throttled": 0, "throttled_by_limit": {}}


async def test_real_time_accuracy_over_http_accepts_the_limit_per_sliding_second() -> None:
    """A 1.5 s flood over real HTTP: accepted ~= 100/s, none refused in the first 100."""
    config = QboSandboxConfig(rate_per_second=100, rate_per_minute=100_000)
    ledger = ThrottleLedger(config)
    with live_server(_app(config, ledger)) as base:
        async with httpx.AsyncClient(base_url=base) as http:
            results: list[tuple[float, int]] = []

            async def hammer() -> None:
                end = time.monotonic() + 1.5
                while time.monotonic() < end:
                    response = await http.get(f"/v3/company/{REALM}/customer/1")
                    results.append((time.monotonic(), response.status_code))

            started = time.monotonic()
            await asyncio.gather(*(hammer() for _ in range(8)))
            elapsed = time.monotonic() - started
    accepted = sorted(t for t, status in results if status == 200)
    assert len(results) > 150, "the flood must exceed the limit for the test to mean anything"
    assert {status for _, status in results} == {200, 429}
    # A continuous flood of D seconds can get at most 100 * (floor(D) + 1) through a sliding
    # window: the first hundred at once, the next as each leaves the window a second later.
    allowed = 100 * (math.floor(elapsed) + 1)
    print(f"throttle: {len(accepted)}/{allowed} accepted in {elapsed:.2f} s of flood")
    assert 100 <= len(accepted) <= allowed
    assert ledger.stats()["accepted"] == len(accepted)
