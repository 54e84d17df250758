"""10 requests per one-second window, the X-Ratelimit-* headers, 429 beyond (reference 1.4)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from sandbox.crm.config import CrmSandboxConfig
from sandbox.crm.ratelimit import RateLimiter
from sandbox.crm.server import create_app
from tests.sandbox.crm.conftest import client_for, fast_config
from tests.support.servers import serving


@pytest.fixture(scope="module")
def limited() -> Iterator[tuple[str, CrmSandboxConfig]]:
    config = fast_config(rate_limit_per_second=10)
    with serving(create_app(config)) as base_url:
        yield base_url, config


def burst_in_one_second(
    http: httpx.Client, count: int, path: str = "/profile"
) -> list[httpx.Response]:
    """`count` requests inside one epoch second (starting just after a boundary; retried if
    the burst straddled one anyway)."""
    for _ in range(3):
        time.sleep(1 - time.time() % 1 + 0.01)
        answers = [http.get(path) for _ in range(count)]
        if len({a.headers["x-ratelimit-reset"] for a in answers}) == 1:
            return answers
    raise AssertionError("could not fit the burst into one second")


def test_every_api_answer_carries_the_rate_limit_headers(
    limited: tuple[str, CrmSandboxConfig],
) -> None:
    base_url, config = limited
    with client_for(base_url, config) as http:
        time.sleep(1 - time.time() % 1 + 0.01)
        answers = [
            http.get("/profile.json"),
            http.get("/people/1.json"),
            http.post("/people.json", json={}),
            httpx.get(f"{base_url}/api/v3/people.json"),
        ]
    assert [a.status_code for a in answers] == [200, 404, 400, 401]
    for answer in answers:
        assert answer.headers["x-ratelimit-limit"] == "10"
        assert 0 <= int(answer.headers["x-ratelimit-remaining"]) < 10
        reset = int(answer.headers["x-ratelimit-reset"])
        assert time.time() < reset <= time.time() + 1.05


def test_the_eleventh_request_in_one_second_is_429_too_many_requests(
    limited: tuple[str, CrmSandboxConfig],
) -> None:
    base_url, config = limited
    with client_for(base_url, config) as http:
        answers = burst_in_one_second(http, 11)
    assert [a.status_code for a in answers] == [200] * 10 + [429]
    assert [int(a.headers["x-ratelimit-remaining"]) for a in answers] == [
        9,
        8,
        7,
        6,
        5,
        4,
        3,
        2,
        1,
        0,
        0,
    ]
    assert answers[-1].json() == {"error": "Too many requests"}
    assert answers[-1].headers["x-ratelimit-reset"] == answers[0].headers["x-ratelimit-reset"]


def test_the_next_second_restores_the_budget(limited: tuple[str, CrmSandboxConfig]) -> None:
    base_url, config = limited
    with client_for(base_url, config) as http:
        answers = burst_in_one_second(http, 11)
        assert answers[-1].status_code == 429
        time.sleep(max(0.0, int(answers[-1].headers["x-ratelimit-reset"]) - time.time()) + 0.01)
        assert http.get("/profile").status_code == 200


def test_each_api_key_has_its_own_budget(limited: tuple[str, CrmSandboxConfig]) -> None:
    base_url, config = limited
    basic = httpx.post(
        f"{base_url}/_sandbox/users",
        json={"first_name": "Other", "last_name": "Key", "email": "other@example.com"},
    ).json()
    other_params = {"api_key": basic["api_key"], "app_key": config.app_key}
    with client_for(base_url, config) as http:
        answers = burst_in_one_second(http, 11)
        other = httpx.get(f"{base_url}/api/v3/profile", params=other_params)
    assert answers[-1].status_code == 429
    assert other.status_code == 200 and other.headers["x-ratelimit-remaining"] == "9"
    stats = httpx.get(f"{base_url}/_sandbox/stats").json()
    assert stats["rate_limit"]["throttled"] >= 1
    assert stats["requests"]["by_status"]["429"] >= 1


def test_the_budget_can_be_shared_by_the_whole_account() -> None:
    ticks = iter([100.2] * 3 + [101.0])
    limiter = RateLimiter(
        CrmSandboxConfig(rate_limit_per_second=2, rate_limit_scope="account"), lambda: next(ticks)
    )
    assert limiter.admit("account") == (True, 1, 101)
    assert limiter.admit("account") == (True, 0, 101)
    assert limiter.admit("account") == (False, 0, 101)
    assert limiter.admit("account") == (True, 1, 102)
