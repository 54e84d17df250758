"""Issue 7 end to end: the demo's Jane Smith, told by the history and put back by a restore.

The real broker, both sandboxes over HTTP with their webhooks into `qbsync api` (which keeps the
projections), a real worker. John Smith is imported (the CRM keeps its phone, website and city);
renamed Jane Smith in QBO, the CRM loses them (the vendor's overwrite). The timeline of the
person shows the phone cleared by the engine, caused by that QBO change; `as_of` shows John as he
was. A restore of what that QBO change touched brings the fields back in the CRM; with `both`,
in QBO too, and the echoes of both writes are recognised: nothing is written a third time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from schemas.settings import IntegrationSettings
from tests.e2e import requests as req
from tests.e2e.waiting import eventually
from tests.support.stack import INGEST_KEY, Stack, running_stack, serving_bridges

pytestmark = pytest.mark.broker

TENANT = "hist-co"
JOHN = "john.smith@history.example"
CRM_ONLY = {"phone": "555-1234", "website": "https://smith.example", "work_city": "Springfield"}
ADMIN = {"user_id": 1, "is_admin": True}


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("history")
    with running_stack(tmp, [TENANT]) as stack, serving_bridges(stack, TENANT) as api:
        stack.start_worker()
        john_qbo = stack.qbo_api(
            TENANT,
            "POST",
            "customer",
            json={
                "DisplayName": "John Smith",
                "GivenName": "John",
                "FamilyName": "Smith",
                "PrimaryEmailAddr": {"Address": JOHN},
            },
        )["Customer"]
        john_crm = stack.crm[TENANT].api(
            "POST",
            "people.json",
            json={
                "person": {"first_name": "John", "last_name": "Smith", "email": JOHN, **CRM_ONLY}
            },
        )
        install, enable, run = (
            req.install(TENANT, stack.realms[TENANT]),
            req.enable(TENANT),
            req.run_import(TENANT),
        )
        asyncio.run(stack.publish(install, enable, run))
        asyncio.run(stack.accounted(run.id, timeout=90))
        client = httpx.Client(
            base_url=f"{api}/v1/tenants/{TENANT}",
            headers={"Authorization": f"Bearer {INGEST_KEY}"},
            timeout=10,
        )
        story = {"stack": stack, "api": client, "john_qbo": john_qbo, "john_crm": john_crm}
        # The link is made, and the history has John as the CRM reported him.
        eventually(lambda: _history(story), lambda h: h is not None and h["record"] is not None)
        time.sleep(1.1)  # the moment to restore to is strictly after the import settled
        story["before_rename"] = datetime.now(UTC)
        time.sleep(1.1)
        yield story
        client.close()


def _history(story: dict[str, Any], as_of: datetime | None = None) -> dict[str, Any] | None:
    params = {"as_of": as_of.isoformat()} if as_of else {}
    answer = story["api"].get(f"/history/person/{story['john_crm']['id']}", params=params)
    return None if answer.status_code == 404 else answer.raise_for_status().json()


def _person(story: dict[str, Any]) -> dict[str, Any]:
    return story["stack"].crm[TENANT].api("GET", f"people/{story['john_crm']['id']}.json")


def _qbo(story: dict[str, Any]) -> dict[str, Any]:
    return story["stack"].qbo_customer(TENANT, story["john_qbo"]["Id"])


def _rename_in_qbo(story: dict[str, Any], given: str) -> None:
    current = _qbo(story)
    body = {
        "Id": current["Id"],
        "SyncToken": current["SyncToken"],
        "sparse": True,
        "GivenName": given,
        "DisplayName": f"{given} Smith",
    }
    story["stack"].qbo_api(TENANT, "POST", "customer", json=body)


def _cleared_by_qbo(story: dict[str, Any], given: str) -> dict[str, Any]:
    """Rename in QBO, wait for the CRM to be overwritten, and for the history to tell it."""
    _rename_in_qbo(story, given)
    eventually(
        lambda: _person(story), lambda p: p["first_name"] == given and p["phone"] in (None, "")
    )
    return eventually(
        lambda: _history(story),
        lambda h: any(_clears_phone(e) and e["cause"]["summary"] for e in h["entries"]),
    )


def _clears_phone(entry: dict[str, Any]) -> bool:
    return entry["reported_by"] == "engine" and any(
        c["field"] == "phone" and c["before"] == "555-1234" and c["after"] is None
        for c in entry["changes"]
    )


def _restore(story: dict[str, Any], cause_id: str, dry_run: bool, **options: Any) -> httpx.Response:
    body = {
        **options,
        "actor": ADMIN,
        "scope": "qbo_change",
        "id": cause_id,
        "as_of": story["before_rename"].isoformat(),
        "dry_run": dry_run,
    }
    return story["api"].post("/restores", json=body)


def _commands_about(stack: Stack, person_id: int) -> list[dict[str, Any]]:
    records = asyncio.run(stack.read_all("qbsync.commands.v1"))
    return [
        r
        for r in records
        if r["type"]
        in ("qbsync.command.crm.person.update.v1", "qbsync.command.qbo.customer.update.v1")
        and (r["data"].get("person_id") == person_id)
    ]


def test_the_timeline_shows_the_phone_cleared_by_the_qbo_change_with_its_cause(story):
    history = _cleared_by_qbo(story, "Jane")
    [write] = [e for e in history["entries"] if _clears_phone(e)]
    assert write["command_id"]
    cause = write["cause"]
    assert cause["type"] == "qbsync.qbo.customer.changed.v1"
    assert {"field": "DisplayName", "before": "John Smith", "after": "Jane Smith"} in cause[
        "changes"
    ]
    cleared = {c["field"] for c in write["changes"] if c["after"] is None}
    assert {"phone", "website", "work_city"} <= cleared
    # The CRM's report of that write is the engine's, not a person's.
    history = eventually(
        lambda: _history(story),
        lambda h: any(e["echo_of"] == write["command_id"] for e in h["entries"]),
    )
    echoes = [e for e in history["entries"] if e["echo_of"] == write["command_id"]]
    assert echoes
    assert all(e["source"] == "engine" and e["reported_by"] == "crm" for e in echoes)
    story["qbo_change_id"] = cause["id"]


def test_as_of_shows_john_as_he_was_before_the_rename(story):
    then = _history(story, story["before_rename"])
    assert then is not None
    assert then["record"]["first_name"] == "John"
    assert {k: then["record"][k] for k in CRM_ONLY} == CRM_ONLY


def test_restore_brings_the_cleared_fields_back_in_the_crm(story):
    plan = _restore(story, story["qbo_change_id"], dry_run=True)
    assert plan.status_code == 200
    [person] = plan.json()["plan"]["people"]
    restored = {c["field"]: c["restored"] for c in person["changes"]}
    assert {k: restored[k] for k in CRM_ONLY} == CRM_ONLY
    assert _person(story)["phone"] in (None, "")  # a dry run writes nothing

    assert restored["first_name"] == "John"  # a whole restore undoes the rename too
    sent = _restore(story, story["qbo_change_id"], dry_run=False)
    assert sent.status_code == 202, sent.text
    person = eventually(lambda: _person(story), lambda p: p["phone"] == "555-1234")
    assert {k: person[k] for k in CRM_ONLY} == CRM_ONLY
    assert person["first_name"] == "John"
    # qbo_to_crm: QBO is the master and is not written.
    assert not (_qbo(story).get("PrimaryPhone") or {}).get("FreeFormNumber")
    history = eventually(
        lambda: _history(story), lambda h: any(e["source"] == "user" for e in h["entries"])
    )
    assert any("restore" in e["summary"] for e in history["entries"] if e["source"] == "user")


def test_with_both_restore_writes_both_sides_without_an_echo_loop(story):
    stack = story["stack"]
    save = req.save_settings(TENANT, IntegrationSettings(direction="both"))
    asyncio.run(stack.publish(save))
    asyncio.run(stack.accounted(save.id))
    # QBO still lacks the phone: with `both` its next change clears the CRM again.
    history = _cleared_by_qbo(story, "Janet")
    latest = [e for e in history["entries"] if _clears_phone(e)][-1]
    # Only what the overwrite emptied: the new name QBO gave stays.
    sent = _restore(story, latest["cause"]["id"], dry_run=False, only_cleared=True)
    assert sent.status_code == 202, sent.text
    [person_plan] = sent.json()["plan"]["people"]
    assert {c["field"] for c in person_plan["changes"]} == set(CRM_ONLY)
    customer = eventually(
        lambda: _qbo(story),
        lambda c: (c.get("PrimaryPhone") or {}).get("FreeFormNumber") == "555-1234",
    )
    assert customer["WebAddr"]["URI"] == CRM_ONLY["website"]
    assert customer["BillAddr"]["City"] == CRM_ONLY["work_city"]
    person = eventually(lambda: _person(story), lambda p: p["phone"] == "555-1234")
    assert person["first_name"] == "Janet"
    person_id = story["john_crm"]["id"]
    settled = len(_commands_about(stack, person_id))
    time.sleep(6)  # both echoes come back through the webhooks meanwhile
    assert len(_commands_about(stack, person_id)) == settled
    assert _person(story)["phone"] == "555-1234"


def test_a_basic_user_may_not_restore_and_nothing_is_written(story):
    # John's first name at T differs from today's (Janet): there is something to restore.
    body = {
        "actor": {"user_id": 9, "is_admin": False},
        "scope": "person",
        "id": str(story["john_crm"]["id"]),
        "as_of": story["before_rename"].isoformat(),
        "dry_run": False,
    }
    answer = story["api"].post("/restores", json=body)
    assert answer.status_code == 202, answer.text
    [request] = answer.json()["requests"]
    status = eventually(
        lambda: story["api"].get(request["status_url"].removeprefix(f"/v1/tenants/{TENANT}")),
        lambda r: r.status_code == 200 and r.json()["verdict"] != "pending",
    ).json()
    assert status["verdict"] == "denied" and status["code"] == "not_allowed"
    assert "only admins" in status["reason"]
    assert status["commands"] == []
    assert _person(story)["first_name"] == "Janet"


def test_nothing_known_at_the_time_is_nothing_to_restore(story):
    body = {
        "actor": ADMIN,
        "scope": "person",
        "id": str(story["john_crm"]["id"]),
        "as_of": (story["before_rename"] - timedelta(days=1)).isoformat(),
        "dry_run": False,
    }
    answer = story["api"].post("/restores", json=body)
    assert answer.status_code == 200 and "requests" not in answer.json()
    assert "no CRM record" in answer.json()["plan"]["people"][0]["skipped"]
