"""Fault injection through `/_sandbox/faults`: Pipeline-shaped failures on purpose."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.sandbox.crm.conftest import Crm


def set_plan(crm: Crm, **plan: object) -> None:
    crm.control.put("/faults", json=plan).raise_for_status()


def test_injected_500_503_and_429_look_like_pipelines_and_keep_rate_limit_headers(crm: Crm) -> None:
    set_plan(crm, script=["http_500", "http_503", "http_429"])
    answers = [crm.api.get("/profile.json") for _ in range(4)]
    assert [a.status_code for a in answers] == [500, 503, 429, 200]
    assert answers[0].json() == {"status": 500, "error": "Internal Server Error"}
    assert answers[1].headers["content-type"].startswith("text/html")
    assert answers[2].json() == {"error": "Too many requests"}
    assert all("x-ratelimit-reset" in a.headers for a in answers)
    injected = crm.ok(crm.control.get("/faults"))["injected"]
    assert (injected["http_500"], injected["http_503"], injected["http_429"]) == (1, 1, 1)


def test_a_timeout_holds_the_connection_until_the_client_gives_up(crm: Crm) -> None:
    set_plan(crm, script=["timeout"], timeout_s=5)
    with pytest.raises(httpx.ReadTimeout):
        crm.api.get("/profile.json", timeout=0.3)
    assert crm.api.get("/profile.json").status_code == 200


def test_a_held_request_answers_504_when_the_client_waits(crm: Crm) -> None:
    set_plan(crm, script=["timeout"], timeout_s=0.2)
    response = crm.api.get("/profile.json")
    assert response.status_code == 504


def test_a_lost_response_still_applies_the_write(crm: Crm) -> None:
    set_plan(crm, script=["lost_response"], timeout_s=0.2)
    response = crm.api.post("/people.json", json={"person": {"full_name": "Written Anyway"}})
    assert response.status_code == 504
    people = crm.ok(crm.api.get("/people.json"))["entries"]
    assert [p["full_name"] for p in people] == ["Written Anyway"]


def test_faults_can_target_writes_only_and_spare_the_control_paths(crm: Crm) -> None:
    set_plan(crm, http_500=1.0, only_writes=True)
    assert crm.api.get("/people.json").status_code == 200
    assert crm.api.post("/people.json", json={"person": {"full_name": "No"}}).status_code == 500
    assert crm.control.get("/stats").status_code == 200
    crm.control.post("/faults/reset").raise_for_status()
    assert crm.api.post("/people.json", json={"person": {"full_name": "Yes"}}).status_code == 200


def test_slow_answers_are_delayed_but_correct(crm: Crm) -> None:
    set_plan(crm, slow=1.0, slow_ms=300)
    started = time.monotonic()
    response = crm.api.get("/profile.json")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3
