"""Fault injection: QBO-shaped 5xx/429, held connections, lost responses, slowness, control API."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from sandbox.qbo.faultinject import FaultInjectionMiddleware, FaultPlan, make_router
from tests.support.servers import live_server

CUSTOMER = "/v3/company/9130357766900456/customer"


class Handled:
    count = 0


def _app(plan: FaultPlan, handled: Handled) -> FastAPI:
    app = FastAPI()
    app.include_router(make_router(plan))

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    def anything(path: str) -> JSONResponse:
        handled.count += 1
        return JSONResponse({"Customer": {"Id": "1"}})

    app.add_middleware(FaultInjectionMiddleware, plan=plan)
    return app


@pytest.fixture
async def plan_and_http() -> AsyncIterator[tuple[FaultPlan, httpx.AsyncClient, Handled]]:
    plan, handled = FaultPlan(seed=7), Handled()
    transport = httpx.ASGITransport(app=_app(plan, handled))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield plan, http, handled


async def test_injected_500_503_and_429_use_qbos_fault_shapes(
    plan_and_http: tuple[FaultPlan, httpx.AsyncClient, Handled],
) -> None:
    plan, http, handled = plan_and_http
    expected = {"http_500": (500, "10000"), "http_503": (503, "10000"), "http_429": (429, "3001")}
    for kind, (status, code) in expected.items():
        setattr(plan, kind, 1.0)
        response = await http.post(CUSTOMER, json={})
        setattr(plan, kind, 0.0)
        assert response.status_code == status
        assert response.json()["Fault"]["Error"][0]["code"] == code
    assert response.json()["Fault"]["type"] == "SERVICE"
    assert handled.count == 0
    counts = plan.counts()
    assert [counts[kind] for kind in ("http_500", "http_503", "http_429", "timeout")] == [
        1,
        1,
        1,
        0,
    ]


async def test_control_and_oauth_paths_are_spared_unless_the_plan_says_so(
    plan_and_http: tuple[FaultPlan, httpx.AsyncClient, Handled],
) -> None:
    plan, http, _ = plan_and_http
    plan.http_500 = 1.0
    for path in ("/_sandbox/webhooks", "/oauth2/v1/tokens/bearer", "/connect/oauth2"):
        assert (await http.get(path)).status_code == 200
    plan.include_control_paths = True
    assert (await http.get("/oauth2/v1/tokens/bearer")).status_code == 500


async def test_only_writes_and_the_path_filter_narrow_where_faults_land(
    plan_and_http: tuple[FaultPlan, httpx.AsyncClient, Handled],
) -> None:
    plan, http, _ = plan_and_http
    plan.http_503, plan.only_writes = 1.0, True
    assert (await http.get(f"{CUSTOMER}/1")).status_code == 200
    assert (await http.post("/v3/company/1/query", content="select *")).status_code == 200
    assert (await http.post(CUSTOMER, json={})).status_code == 503
    plan.only_writes, plan.path_regex = False, r"/invoice\b"
    assert (await http.post(CUSTOMER, json={})).status_code == 200
    assert (await http.get("/v3/company/1/invoice/9")).status_code == 503


async def test_a_script_forces_the_next_faults_in_order(
    plan_and_http: tuple[FaultPlan, httpx.AsyncClient, Handled],
) -> None:
    plan, http, _ = plan_and_http
    plan.script = ["http_500", "http_429"]
    statuses = [(await http.get(f"{CUSTOMER}/1")).status_code for _ in range(3)]
    assert statuses == [500, 429, 200]


def test_a_seed_makes_the_dice_repeat_and_the_rates_match_the_plan() -> None:
    def run() -> list[str | None]:
        plan = FaultPlan(seed=1234, http_500=0.2, http_429=0.1, slow=0.5)
        return [plan.decide("POST", CUSTOMER).kind for _ in range(2000)]

    first, second = run(), run()
    assert first == second
    assert 0.17 < first.count("http_500") / 2000 < 0.23
    assert 0.08 < first.count("http_429") / 2000 < 0.12


def test_probabilities_above_one_in_total_are_refused() -> None:
    with pytest.raises(ValueError, match="more than 1"):
        FaultPlan(http_500=0.6, timeout=0.6)


async def test_slow_adds_latency_then_answers_normally(
    plan_and_http: tuple[FaultPlan, httpx.AsyncClient, Handled],
) -> None:
    plan, http, handled = plan_and_http
    plan.slow, plan.slow_ms = 1.0, 150
    started = time.monotonic()
    response = await http.get(f"{CUSTOMER}/1")
    assert response.status_code == 200 and time.monotonic() - started >= 0.15
    assert handled.count == 1 and plan.counts()["slow"] == 1


async def test_a_timeout_holds_the_connection_past_the_clients_patience() -> None:
    plan, handled = FaultPlan(timeout=1.0, timeout_s=30), Handled()
    with live_server(_app(plan, handled)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=0.3) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.post(CUSTOMER, json={})
            plan.timeout_s = 0.2
            assert (await http.post(CUSTOMER, json={})).status_code == 504
    assert handled.count == 0, "a timed-out request never reached the API"


async def test_a_lost_response_is_handled_but_the_client_only_sees_a_504() -> None:
    plan, handled = FaultPlan(lost_response=1.0, timeout_s=0.2), Handled()
    with live_server(_app(plan, handled)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=2) as http:
            response = await http.post(CUSTOMER, json={"DisplayName": "x"})
    assert response.status_code == 504 and "Gateway Time-out" in response.text
    assert handled.count == 1, "the write happened: the client must retry with its requestid"


async def test_the_control_api_reads_replaces_and_resets_the_plan(
    plan_and_http: tuple[FaultPlan, httpx.AsyncClient, Handled],
) -> None:
    plan, http, _ = plan_and_http
    put = await http.put("/_sandbox/faults", json={"http_429": 1.0, "seed": 3})
    assert put.status_code == 200 and put.json()["plan"]["http_429"] == 1.0
    assert plan.http_429 == 1.0 and plan.http_500 == 0.0
    assert (await http.get(f"{CUSTOMER}/1")).status_code == 429
    assert (await http.get("/_sandbox/faults")).json()["injected"]["http_429"] == 1
    bad = await http.put("/_sandbox/faults", json={"http_500": 0.7, "http_503": 0.7})
    assert bad.status_code == 422 and plan.http_429 == 1.0
    reset = (await http.post("/_sandbox/faults/reset")).json()
    assert reset["plan"]["http_429"] == 0.0 and reset["injected"]["http_429"] == 0
    assert (await http.get(f"{CUSTOMER}/1")).status_code == 200
