"""SYNC-RULES 4, 5 and 7 end to end: the real broker, both sandboxes as HTTP servers with their
webhooks pointed at the bridges of `qbsync api`, a real `qbsync worker` process and its store.

One story per module (the stack takes seconds to start): the import links the vendor's John
Smith, then each test makes a change in one system, the way a user would, and waits for its
effect in the other (or for the decision that explains why there is none).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from schemas.settings import IntegrationSettings
from tests.e2e import requests as req
from tests.e2e.waiting import eventually
from tests.support.stack import Stack, running_stack, serving_bridges

pytestmark = pytest.mark.broker
TENANT = "acme-co"
JOHN = "john.smith@example.com"
CRM_ONLY = {"phone": "555-1234", "website": "https://smith.example", "work_city": "Springfield"}


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("customer-sync")
    with running_stack(tmp, [TENANT]) as stack, serving_bridges(stack, TENANT):
        stack.start_worker()
        crm = stack.crm[TENANT]
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
        no_mail = stack.qbo_api(TENANT, "POST", "customer", json={"DisplayName": "Cash Sales"})
        new_one = stack.qbo_api(
            TENANT,
            "POST",
            "customer",
            json={
                "DisplayName": "Ann Lee",
                "GivenName": "Ann",
                "FamilyName": "Lee",
                "CompanyName": "Lee Gardens",
                "PrimaryEmailAddr": {"Address": "ann@lee.example"},
            },
        )["Customer"]
        john_crm = crm.api(
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
        summary = asyncio.run(_import_finished(stack, run.id))["summary"]
        yield {
            "stack": stack,
            "summary": summary,
            "john_qbo": john_qbo,
            "john_crm": john_crm,
            "no_mail": no_mail["Customer"],
            "ann_qbo": new_one,
        }


async def _import_finished(stack: Stack, request_id: str) -> dict[str, Any]:
    """The data of the ImportFinished of `request_id` (waits for it)."""

    def finished(record: dict[str, Any]) -> bool:
        return (
            record["type"] == "qbsync.decision.import.finished.v1"
            and record["data"]["request_id"] == request_id
        )

    records = await stack.decisions(lambda rs: any(finished(r) for r in rs), timeout=90)
    return next(r["data"] for r in records if finished(r))


def _person(stack: Stack, person_id: int) -> dict[str, Any]:
    return stack.crm[TENANT].api("GET", f"people/{person_id}.json")


def _people(stack: Stack, email: str) -> list[dict[str, Any]]:
    found = stack.crm[TENANT].api("GET", "people.json", params={"conditions[person_email]": email})
    return [p for p in found["entries"] if (p.get("email") or "").lower() == email.lower()]


def _qbo_update(stack: Stack, customer_id: str, **fields: Any) -> dict[str, Any]:
    current = stack.qbo_customer(TENANT, customer_id)
    body = {"Id": customer_id, "SyncToken": current["SyncToken"], "sparse": True, **fields}
    return stack.qbo_api(TENANT, "POST", "customer", json=body)["Customer"]


async def _wait_input_about(stack: Stack, predicate: Callable[[dict[str, Any]], bool]) -> dict:
    records = await stack.decisions(lambda rs: any(predicate(r) for r in rs), timeout=60)
    return next(r for r in records if predicate(r))


# --- SYNC-RULES 4: the import -----------------------------------------------------------------


def test_rule_4_3_import_links_by_email_and_4_6_keeps_the_crm_data(story):
    stack, john = story["stack"], story["john_crm"]
    link = stack.store.link(TENANT, john["id"])
    assert link is not None and link.customer_id == story["john_qbo"]["Id"]
    person = _person(stack, john["id"])
    assert {k: person[k] for k in CRM_ONLY} == CRM_ONLY
    assert story["summary"]["linked_existing"] == 1


def test_rule_4_8_the_summary_is_posted_to_the_crm_as_an_account_notification(story):
    notes = story["stack"].crm[TENANT].control("GET", "/account_notifications")
    entries = notes["entries"] if isinstance(notes, dict) else notes
    [note] = [n for n in entries if "import" in str(n).lower()]
    assert "1 linked" in str(note) or "linked" in str(note).lower()
    assert "Cash Sales" in str(note)  # the skipped customer is named


def test_rule_4_2_a_customer_without_email_is_skipped_and_named(story):
    skipped = story["summary"]["skipped"]
    assert [(s["customer_id"], s["name"]) for s in skipped] == [
        (story["no_mail"]["Id"], "Cash Sales")
    ]


def test_rule_4_3_and_4_4_a_new_person_is_created_with_the_company(story):
    stack = story["stack"]
    [ann] = _people(stack, "ann@lee.example")
    assert (ann["first_name"], ann["last_name"]) == ("Ann", "Lee")
    company = stack.crm[TENANT].api("GET", f"companies/{ann['company_id']}.json")
    assert company["name"] == "Lee Gardens"
    assert story["summary"]["people_created"] == 1
    assert story["summary"]["companies_created"] == 1
    assert stack.store.link_for_customer(TENANT, story["ann_qbo"]["Id"]).person_id == ann["id"]


# --- SYNC-RULES 5 ------------------------------------------------------------------------------


def test_rule_5_a_qbo_change_overwrites_the_crm_and_clears_what_qbo_lacks(story):
    stack, john = story["stack"], story["john_crm"]
    _qbo_update(stack, story["john_qbo"]["Id"], GivenName="Jane", DisplayName="Jane Smith")
    person = eventually(lambda: _person(stack, john["id"]), lambda p: p["first_name"] == "Jane")
    assert person["full_name"] == "Jane Smith"
    assert all(person[k] in (None, "") for k in CRM_ONLY)  # the vendor's hazard, on purpose


def test_rule_5_with_qbo_to_crm_a_crm_edit_is_recorded_and_not_sent(story):
    stack, john = story["stack"], story["john_crm"]
    stack.crm[TENANT].api(
        "PUT", f"people/{john['id']}.json", json={"person": {"phone": "555-2020"}}
    )
    seen = asyncio.run(
        _wait_input_about(
            stack,
            lambda r: (
                r["type"] == "qbsync.decision.link.observed.v1"
                and r["data"]["side"] == "crm"
                and r["data"]["snapshot"].get("phone") == "555-2020"
            ),
        )
    )
    ignored = asyncio.run(stack.accounted(seen["data"]["input_id"]))
    assert (ignored["data"]["reason"], ignored["data"]["input_type"]) == (
        "direction",
        "qbsync.crm.person.changed.v1",
    )
    assert stack.qbo_customer(TENANT, story["john_qbo"]["Id"]).get("PrimaryPhone") is None


def test_rule_5_with_both_a_crm_edit_reaches_qbo_and_its_echo_is_not_sent_back(story):
    stack, john = story["stack"], story["john_crm"]
    save = req.save_settings(TENANT, IntegrationSettings(direction="both"))
    asyncio.run(stack.publish(save))
    asyncio.run(stack.accounted(save.id))
    stack.crm[TENANT].api(
        "PUT", f"people/{john['id']}.json", json={"person": {"phone": "555-7777"}}
    )
    customer = eventually(
        lambda: stack.qbo_customer(TENANT, story["john_qbo"]["Id"]),
        lambda c: (c.get("PrimaryPhone") or {}).get("FreeFormNumber") == "555-7777",
    )
    echo = asyncio.run(
        _wait_input_about(
            stack,
            lambda r: (
                r["type"] == "qbsync.decision.input.ignored.v1"
                and r["data"]["reason"] == "echo"
                and r["data"]["input_type"] == "qbsync.qbo.customer.changed.v1"
            ),
        )
    )
    assert echo["data"]["detail"]
    assert _person(stack, john["id"])["phone"] == "555-7777"
    assert customer["DisplayName"] == "Jane Smith"


def test_rule_5_a_new_crm_person_does_not_create_a_qbo_customer(story):
    stack = story["stack"]
    email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    person = stack.crm[TENANT].api(
        "POST", "people.json", json={"person": {"first_name": "Neu", "email": email}}
    )
    ignored = asyncio.run(
        _wait_input_about(
            stack,
            lambda r: (
                r["type"] == "qbsync.decision.input.ignored.v1"
                and r["data"]["reason"] == "not_linked"
                and f"person {person['id']}" in r["data"]["detail"]
            ),
        )
    )
    assert ignored
    found = stack.qbo_query(TENANT, f"SELECT * FROM Customer WHERE PrimaryEmailAddr = '{email}'")
    assert found == []


def test_rule_2_6_while_disabled_a_change_is_recorded_and_nothing_is_written(story):
    stack, john = story["stack"], story["john_crm"]
    off = req.disable(TENANT)
    asyncio.run(stack.publish(off))
    asyncio.run(stack.accounted(off.id))
    _qbo_update(stack, story["john_qbo"]["Id"], FamilyName="Doe", DisplayName="Jane Doe")
    asyncio.run(
        _wait_input_about(
            stack,
            lambda r: (
                r["type"] == "qbsync.decision.input.ignored.v1"
                and r["data"]["reason"] == "disabled"
            ),
        )
    )
    assert _person(stack, john["id"])["last_name"] == "Smith"
    on = req.enable(TENANT)
    asyncio.run(stack.publish(on))
    asyncio.run(stack.accounted(on.id))


def test_rule_4_7_a_second_import_duplicates_nothing(story):
    stack = story["stack"]
    again = req.run_import(TENANT)
    asyncio.run(stack.publish(again))
    summary = asyncio.run(_import_finished(stack, again.id))["summary"]
    assert (summary["people_created"], summary["companies_created"]) == (0, 0)
    assert len(_people(stack, "ann@lee.example")) == 1
    assert len(_people(stack, JOHN)) == 1


def test_rule_5_a_deleted_crm_person_ends_the_link_and_leaves_the_customer(story):
    stack = story["stack"]
    [ann] = _people(stack, "ann@lee.example")
    stack.crm[TENANT].api("DELETE", f"people/{ann['id']}.json")
    eventually(lambda: stack.store.link(TENANT, ann["id"]).status, lambda s: s == "ended")
    assert stack.qbo_customer(TENANT, story["ann_qbo"]["Id"])["Active"] is True


def test_rule_7_bad_input_is_dead_lettered_with_its_bytes_and_the_worker_carries_on(story):
    stack = story["stack"]
    from aiokafka import AIOKafkaProducer

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait("qbsync.crm.changes.v1", b"{not json", key=TENANT.encode())
        finally:
            await producer.stop()

    asyncio.run(send())
    letters = asyncio.run(
        stack.wait_for("qbsync.deadletter.v1", lambda rs: len(rs) >= 1, timeout=60)
    )
    assert letters[0]["data"]["stage"] == "parse"
    assert all(proc.poll() is None for proc in stack.workers)


def test_rule_4_9_a_dry_run_writes_nothing_and_lists_what_a_qbo_update_would_clear(story):
    stack = story["stack"]
    people_before = len(stack.crm[TENANT].api("GET", "people.json")["entries"])
    fresh = stack.qbo_api(
        TENANT,
        "POST",
        "customer",
        json={"DisplayName": "Dry Run", "PrimaryEmailAddr": {"Address": "dry@run.example"}},
    )["Customer"]
    dry = req.run_import(TENANT, dry_run=True)
    asyncio.run(stack.publish(dry))
    finished = asyncio.run(_import_finished(stack, dry.id))
    assert finished["dry_run"] is True
    assert finished["summary"]["people_created"] >= 1  # Dry Run has no person yet
    assert len(stack.crm[TENANT].api("GET", "people.json")["entries"]) == people_before
    assert stack.store.link_for_customer(TENANT, fresh["Id"]) is None
    assert "would_clear" in finished["summary"]
