"""Webhook registration (`/admin/webhooks`, reference 4.1) and delivery (4.2) to a real receiver."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.sandbox.crm.conftest import Crm
from tests.support.webhook_receiver import Receiver

RECORDED_WEBHOOK_KEYS = {
    "id", "event_model", "name", "is_activated", "created_at", "updated_at", "account_id",
    "last_run_at", "description", "event_action", "updated_by", "debug_enabled", "app_id",
    "event_column", "event_column_delta", "event_trigger_time", "automation_folder_id", "source",
    "position",
}  # fmt: skip


def register(crm: Crm, model: str, action: str, url: str, **extra: Any) -> dict[str, Any]:
    body = {"webhook": {"event_model": model, "event_action": action, "url": url, **extra}}
    hook: dict[str, Any] = crm.ok(crm.api.post("/admin/webhooks.json", json=body))
    return hook


def deliveries(crm: Crm) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = crm.ok(crm.control.get("/webhooks/deliveries"))["deliveries"]
    return found


def wait_until(check: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return result


def test_admin_webhooks_create_list_and_delete_have_the_recorded_shapes(crm: Crm) -> None:
    hook = register(
        crm, "deal", "create", "https://example.com/hooks/deal", failure_email="ops@example.com"
    )
    assert set(hook) == RECORDED_WEBHOOK_KEYS
    assert hook["name"] == f"{crm.config.app_name} deal:create"
    assert (
        hook["description"]
        == f"{crm.config.app_name} deal:create => https://example.com/hooks/deal"
    )
    assert hook["is_activated"] is True and hook["app_id"] == crm.config.app_id
    assert hook["created_at"].endswith("Z") and "T" in hook["created_at"]
    assert "url" not in hook
    assert crm.ok(crm.api.get("/admin/webhooks.json")) == {"webhooks": [hook]}
    deleted = crm.api.delete(f"/admin/webhooks/{hook['id']}.json")
    assert (deleted.status_code, deleted.content) == (200, b"null")
    assert crm.ok(crm.api.get("/admin/webhooks")) == {"webhooks": []}
    assert crm.api.delete(f"/admin/webhooks/{hook['id']}.json").status_code == 404
    bad = crm.api.post(
        "/admin/webhooks",
        json={"webhook": {"event_model": "note", "event_action": "create", "url": "ftp://x"}},
    )
    assert bad.status_code == 422 and {e["field"] for e in bad.json()} == {"event_model", "url"}


def test_every_model_and_action_posts_the_thin_payload_to_its_webhook(
    crm: Crm, receiver: Receiver
) -> None:
    hooks = {
        (model, action): register(crm, model, action, receiver.url(f"{model}/{action}"))
        for model in ("person", "company", "deal")
        for action in ("create", "update", "destroy")
    }
    records = {
        "person": crm.person(),
        "company": crm.company("Hooked"),
        "deal": crm.deal("Hooked deal"),
    }
    collections = {"person": "people", "company": "companies", "deal": "deals"}
    for model, record in records.items():
        path = f"/{collections[model]}/{record['id']}.json"
        crm.ok(
            crm.api.put(
                path, json={model: {"summary" if model != "company" else "description": "x"}}
            )
        )
        assert crm.api.delete(path).status_code == 204
    receiver.wait_for(9)
    for (model, action), hook in hooks.items():
        [received] = receiver.at(f"{model}/{action}")
        assert received.headers["content-type"] == "application/json"
        assert not any("signature" in name.lower() for name in received.headers)
        assert received.json() == {
            "trigger": hook["name"],
            "event_model": model,
            "event_action": action,
            "event_model_id": records[model]["id"],
        }


def test_delivery_runs_in_the_background_after_the_api_has_answered(
    crm: Crm, receiver: Receiver
) -> None:
    receiver.scripts["slow"] = [1.0]
    register(crm, "person", "create", receiver.url("slow"))
    started = time.monotonic()
    crm.person(full_name="Not Waiting")
    assert time.monotonic() - started < 0.5
    [received] = receiver.wait_for(1, "slow")
    assert received.json()["event_action"] == "create"


def test_every_attempt_is_recorded_and_failures_are_retried_with_backoff(
    crm: Crm, receiver: Receiver
) -> None:
    receiver.scripts["flaky"] = [500, 503, 200]
    register(crm, "person", "create", receiver.url("flaky"))
    person = crm.person(full_name="Retried")
    attempts = wait_until(lambda: [d for d in deliveries(crm) if d["ok"]] and deliveries(crm))
    assert [(a["attempt"], a["status"], a["ok"]) for a in attempts] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    assert [a["next_retry_in_s"] for a in attempts] == [
        pytest.approx(0.03),
        pytest.approx(0.06),
        None,
    ]
    assert attempts[0]["error"] == "HTTP 500"
    assert {a["payload"]["event_model_id"] for a in attempts} == {person["id"]}
    times = [r.at for r in receiver.at("flaky")]  # backoff: 30 s then 60 s, x time_scale 0.001
    assert times[1] - times[0] >= 0.03 and times[2] - times[1] >= 0.06


def test_after_the_last_failed_attempt_the_failure_email_notice_is_recorded(
    crm: Crm, receiver: Receiver
) -> None:
    receiver.scripts["down"] = [500]
    crm.control.put("/webhooks", json={"max_attempts": 2}).raise_for_status()
    register(crm, "company", "create", receiver.url("down"), failure_email="ops@example.com")
    crm.company("Undeliverable")
    failures = wait_until(lambda: crm.ok(crm.control.get("/webhooks/failures"))["failures"])
    assert [(f["to"], f["attempts"]) for f in failures] == [("ops@example.com", 2)]
    assert len(receiver.at("down")) == 2
    hook = crm.ok(crm.api.get("/admin/webhooks"))["webhooks"][0]
    assert hook["last_run_at"] is not None


def test_paused_deliveries_wait_and_flush_sends_them_now(crm: Crm, receiver: Receiver) -> None:
    crm.control.put("/webhooks", json={"paused": True}).raise_for_status()
    register(crm, "person", "create", receiver.url("paused"))
    crm.person(full_name="Held Back")
    time.sleep(0.2)
    assert receiver.at("paused") == []
    # Per URL: a delivery of an earlier test on the shared server may still be in flight.
    held = crm.ok(crm.control.get("/webhooks"))["in_flight_by_url"]
    assert held.get(receiver.url("paused")) == 1
    crm.control.put("/webhooks", json={"paused": False, "delay_s": 60_000}).raise_for_status()
    receiver.wait_for(1, "paused")  # unpaused, the held delivery goes at once
    due = crm.person(full_name="Not Yet Due")  # its first try waits a minute (time_scale 0.001)
    time.sleep(0.2)
    assert len(receiver.at("paused")) == 1
    flushed = crm.ok(crm.control.post("/webhooks/flush"))["attempts"]
    assert [(a["payload"]["event_model_id"], a["ok"]) for a in flushed] == [(due["id"], True)]
    assert len(receiver.at("paused")) == 2
    crm.control.put("/webhooks", json={"delay_s": 1.0}).raise_for_status()


def test_drop_next_loses_the_next_changes(crm: Crm, receiver: Receiver) -> None:
    register(crm, "person", "create", receiver.url("dropping"))
    crm.control.put("/webhooks", json={"drop_next": 1}).raise_for_status()
    crm.person(full_name="Lost Change")
    kept = crm.person(full_name="Kept Change")
    [received] = receiver.wait_for(1, "dropping")
    time.sleep(0.1)
    assert len(receiver.at("dropping")) == 1
    assert received.json()["event_model_id"] == kept["id"]
    assert crm.ok(crm.control.get("/webhooks"))["counts"]["dropped"] == 1


def test_the_action_can_be_past_tense_and_the_body_form_encoded(
    crm: Crm, receiver: Receiver
) -> None:
    crm.control.put(
        "/webhooks", json={"action_tense": "past", "encoding": "form"}
    ).raise_for_status()
    register(crm, "deal", "destroy", receiver.url("past"))
    deal = crm.deal("Short Lived")
    crm.api.delete(f"/deals/{deal['id']}")
    [received] = receiver.wait_for(1, "past")
    assert received.headers["content-type"] == "application/x-www-form-urlencoded"
    assert received.form() == {
        "trigger": f"{crm.config.app_name} deal:destroy",
        "event_model": "deal",
        "event_action": "deleted",
        "event_model_id": str(deal["id"]),
    }


def test_changes_made_as_another_user_and_implied_companies_fire_webhooks(
    crm: Crm, receiver: Receiver
) -> None:
    register(crm, "company", "create", receiver.url("companies"))
    register(crm, "person", "update", receiver.url("people"))
    person = crm.person(full_name="Edited Elsewhere", company_name="Brand New Co")
    basic = crm.basic_user()
    body = {"person": {"phone": "555-0199"}}
    edited = crm.ok(crm.control.put(f"/as/{basic['id']}/people/{person['id']}", json=body))
    assert edited["phone"] == "555-0199"
    [company_hook] = receiver.wait_for(1, "companies")
    assert company_hook.json()["event_model_id"] == person["company_id"]
    [person_hook] = receiver.wait_for(1, "people")
    assert person_hook.json()["event_model_id"] == person["id"]
