"""SYNC-RULES 6 (and the visibility setting of 3) end to end: invoices and proposals asked for
from a deal reach QBO through the real broker, a real `qbsync worker` and the QBO sandbox, and
what QBO then does to them shows through `qbsync api`'s query endpoints.

The story: John Smith is in both systems (same email) but not linked; Mary Major is only in the
CRM; Peter Pan is in the CRM while another "Peter Pan" holds that name in QBO. All three are on
one deal. No import runs: every link here is made by a first document.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from schemas.envelope import Envelope
from schemas.requests import Actor
from schemas.settings import IntegrationSettings, Permissions
from tests.e2e import requests as req
from tests.e2e.waiting import eventually
from tests.support.stack import INGEST_KEY, Stack, running_stack, serving_bridges

pytestmark = pytest.mark.broker
TENANT = "docs-co"
JOHN = "john.smith@example.com"
OWNER = 1  # req.ADMIN installs: the installation owner
OTHER = 2  # a basic user
Line = tuple[str, str, str, str | None]


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("documents")
    with running_stack(tmp, [TENANT]) as stack, serving_bridges(stack, TENANT) as api:
        stack.start_worker()
        realm = stack.realms[TENANT]
        httpx.post(
            f"{stack.qbo.base_url}/_sandbox/realms/{realm}/seed", params={"customers": 0}
        ).raise_for_status()
        items = {i["Name"]: i["Id"] for i in stack.qbo_query(TENANT, "select * from Item")}
        john_qbo = _qbo_customer(stack, "John Smith", JOHN)
        other_peter = _qbo_customer(stack, "Peter Pan", "someone.else@example.com")
        crm = stack.crm[TENANT]
        company = crm.api("POST", "companies.json", json={"company": {"name": "Major Works"}})
        john = _crm_person(stack, "John", "Smith", JOHN)
        mary = _crm_person(stack, "Mary", "Major", "mary@major.example", company["id"])
        peter = _crm_person(stack, "Peter", "Pan", "peter@pan.example")
        deal = crm.api(
            "POST",
            "deals.json",
            json={
                "deal": {
                    "name": "Garden makeover",
                    "person_ids": [john["id"], mary["id"], peter["id"]],
                    "primary_contact_id": john["id"],
                    "company_id": company["id"],
                }
            },
        )
        install, enable = req.install(TENANT, realm), req.enable(TENANT)
        asyncio.run(stack.publish(install, enable))
        asyncio.run(stack.accounted(enable.id))
        yield {
            "stack": stack,
            "api": api,
            "items": items,
            "john_qbo": john_qbo,
            "other_peter": other_peter,
            "john": john,
            "mary": mary,
            "peter": peter,
            "deal": deal,
            "company": company,
        }


def _qbo_customer(stack: Stack, name: str, email: str) -> dict[str, Any]:
    first, last = name.split(" ")
    body = {
        "DisplayName": name,
        "GivenName": first,
        "FamilyName": last,
        "PrimaryEmailAddr": {"Address": email},
    }
    return stack.qbo_api(TENANT, "POST", "customer", json=body)["Customer"]


def _crm_person(
    stack: Stack, first: str, last: str, email: str, company_id: int | None = None
) -> dict[str, Any]:
    person: dict[str, Any] = {"first_name": first, "last_name": last, "email": email}
    if company_id is not None:
        person["company_id"] = company_id
    return stack.crm[TENANT].api("POST", "people.json", json={"person": person})


def _lines(story: dict[str, Any]) -> list[Line]:
    items = story["items"]
    return [
        (items["Services"], "2", "100.00", "Design visit"),
        (items["Hours"], "7.5", "75.00", "Planting"),
    ]


def _decision_about(
    stack: Stack, request_id: str, kind: str, timeout: float = 60
) -> dict[str, Any]:
    """The decision of type qbsync.decision.`kind`.v1 about request `request_id`."""

    def about(record: dict[str, Any]) -> bool:
        data = record["data"]
        return record["type"] == f"qbsync.decision.{kind}.v1" and (
            data.get("request_id") == request_id or data.get("input_id") == request_id
        )

    records = asyncio.run(stack.decisions(lambda rs: any(about(r) for r in rs), timeout=timeout))
    return next(r for r in records if about(r))


def _created(stack: Stack, request: Envelope, timeout: float = 60) -> dict[str, Any]:
    return _decision_about(stack, request.id, "document.created", timeout)["data"]


def _invoices_of(stack: Stack, customer_id: str) -> list[dict[str, Any]]:
    return stack.qbo_query(TENANT, f"select * from Invoice where CustomerRef = '{customer_id}'")


def _post_request(story: dict[str, Any], path: str, body: dict[str, Any], key: str) -> str:
    answer = httpx.post(
        f"{story['api']}/v1/tenants/{TENANT}/{path}",
        json=body,
        headers={"Authorization": f"Bearer {INGEST_KEY}", "Idempotency-Key": key},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    return str(answer.json()["request_id"])


def _save(stack: Stack, **settings: Any) -> None:
    saved = req.save_settings(TENANT, IntegrationSettings(**settings))
    asyncio.run(stack.publish(saved))
    asyncio.run(stack.accounted(saved.id))


# --- creating: the customer on the first document ------------------------------------------


def test_a_person_found_by_email_gets_the_invoice_and_the_link(story: dict[str, Any]) -> None:
    stack = story["stack"]
    request_id = _post_request(
        story,
        f"deals/{story['deal']['id']}/invoices",
        {
            "actor": req.ADMIN.model_dump(),
            "person_id": story["john"]["id"],
            "lines": [
                {"item_id": i, "quantity": q, "unit_price": p, "description": d}
                for i, q, p, d in _lines(story)
            ],
        },
        key="john-first-invoice",
    )
    created = _decision_about(stack, request_id, "document.created")["data"]
    assert created["customer_source"] == "email"
    assert created["customer_id"] == story["john_qbo"]["Id"]
    invoice = stack.qbo_api(TENANT, "GET", f"invoice/{created['qbo_id']}")["Invoice"]
    assert invoice["CustomerRef"]["value"] == story["john_qbo"]["Id"]
    assert invoice["TotalAmt"] == 2 * 100 + 7.5 * 75
    assert [line.get("Description") for line in invoice["Line"] if "Id" in line] == [
        "Design visit",
        "Planting",
    ]
    link = stack.store.link(TENANT, story["john"]["id"])
    assert link is not None and link.state.customer_id == story["john_qbo"]["Id"]
    assert link.state.status == "active"


def test_a_person_without_a_customer_gets_one_made_from_their_data(story: dict[str, Any]) -> None:
    stack = story["stack"]
    mary = story["mary"]
    before = stack.qbo_query(TENANT, "select * from Customer")
    request = req.create_document(
        "estimate", TENANT, deal_id=story["deal"]["id"], person_id=mary["id"], lines=_lines(story)
    )
    asyncio.run(stack.publish(request))
    created = _created(stack, request)
    assert created["customer_source"] == "created"
    customers = stack.qbo_query(TENANT, "select * from Customer")
    assert len(customers) == len(before) + 1
    customer = stack.qbo_customer(TENANT, created["customer_id"])
    assert customer["DisplayName"] == "Mary Major"
    assert customer["PrimaryEmailAddr"]["Address"] == "mary@major.example"
    estimate = stack.qbo_api(TENANT, "GET", f"estimate/{created['qbo_id']}")["Estimate"]
    assert estimate["CustomerRef"]["value"] == customer["Id"]
    link = stack.store.link(TENANT, mary["id"])
    assert link is not None and link.state.customer_id == customer["Id"]


def test_a_display_name_clash_is_resolved_by_a_suffix_not_a_failure(
    story: dict[str, Any],
) -> None:
    stack = story["stack"]
    peter = story["peter"]
    request = req.create_document(
        "invoice", TENANT, deal_id=story["deal"]["id"], person_id=peter["id"], lines=_lines(story)
    )
    asyncio.run(stack.publish(request))
    created = _created(stack, request)
    assert created["customer_source"] == "created"
    assert created["customer_id"] != story["other_peter"]["Id"]
    customer = stack.qbo_customer(TENANT, created["customer_id"])
    assert customer["DisplayName"].startswith("Peter Pan ")
    assert customer["DisplayName"] != "Peter Pan"
    assert customer["PrimaryEmailAddr"]["Address"] == "peter@pan.example"
    # The other Peter Pan is left alone.
    assert stack.qbo_customer(TENANT, story["other_peter"]["Id"])["DisplayName"] == "Peter Pan"


# --- effectively once ----------------------------------------------------------------------


def test_the_same_create_request_delivered_twice_yields_one_invoice(
    story: dict[str, Any],
) -> None:
    stack = story["stack"]
    customer_id = story["john_qbo"]["Id"]
    request = req.create_document(
        "invoice",
        TENANT,
        deal_id=story["deal"]["id"],
        person_id=story["john"]["id"],
        lines=_lines(story)[:1],
    )
    before = len(_invoices_of(stack, customer_id))
    asyncio.run(stack.publish(request))
    asyncio.run(stack.publish(request))
    created = _created(stack, request)
    # The second delivery is accounted for too (a duplicate), and makes nothing new.
    asyncio.run(stack.accounted(request.id))
    time.sleep(2)
    invoices = _invoices_of(stack, customer_id)
    assert len(invoices) == before + 1
    assert created["qbo_id"] in {i["Id"] for i in invoices}


def test_an_http_retry_with_the_same_idempotency_key_yields_one_invoice(
    story: dict[str, Any],
) -> None:
    stack = story["stack"]
    customer_id = story["john_qbo"]["Id"]
    body = {
        "actor": req.ADMIN.model_dump(),
        "person_id": story["john"]["id"],
        "lines": [{"item_id": story["items"]["Hours"], "quantity": "1", "unit_price": "75"}],
    }
    before = len(_invoices_of(stack, customer_id))
    path = f"deals/{story['deal']['id']}/invoices"
    first = _post_request(story, path, body, key="retry-me")
    second = _post_request(story, path, body, key="retry-me")
    assert first == second
    _decision_about(stack, first, "document.created")
    time.sleep(2)
    assert len(_invoices_of(stack, customer_id)) == before + 1


def test_a_worker_killed_between_the_qbo_call_and_the_outcome_still_yields_one_invoice(
    story: dict[str, Any],
) -> None:
    stack = story["stack"]
    customer_id = story["john_qbo"]["Id"]
    before = {i["Id"] for i in _invoices_of(stack, customer_id)}
    faults = f"{stack.qbo.base_url}/_sandbox/faults"
    # The next invoice POST is carried out, but its answer is held back for a minute.
    plan = {"script": ["lost_response"], "timeout_s": 60, "path_regex": "/invoice$"}
    httpx.put(faults, json=plan).raise_for_status()
    request = req.create_document(
        "invoice",
        TENANT,
        deal_id=story["deal"]["id"],
        person_id=story["john"]["id"],
        lines=_lines(story),
    )
    try:
        asyncio.run(stack.publish(request))
        made = eventually(
            lambda: {i["Id"] for i in _invoices_of(stack, customer_id)} - before,
            lambda new: len(new) == 1,
            timeout=60,
        )
        for worker in stack.workers:
            if worker.poll() is None:
                stack.kill_worker(worker)  # QBO has the invoice; the worker never heard back
    finally:
        httpx.post(f"{faults}/reset").raise_for_status()
    stack.start_worker()
    created = _created(stack, request, timeout=90)
    assert {created["qbo_id"]} == made
    time.sleep(2)
    assert {i["Id"] for i in _invoices_of(stack, customer_id)} - before == made


# --- permissions -----------------------------------------------------------------------------


def test_a_basic_user_without_the_switch_is_denied_and_qbo_sees_no_call(
    story: dict[str, Any],
) -> None:
    stack = story["stack"]
    faults = f"{stack.qbo.base_url}/_sandbox/faults"
    # No fault at all: the plan only counts the writes to document paths (the bridge still
    # reads documents for the webhooks of earlier tests).
    plan = {"path_regex": "/(invoice|estimate)", "only_writes": True}
    httpx.put(faults, json=plan).raise_for_status()

    def writes() -> int:
        return int(httpx.get(faults).json()["injected"]["considered"])

    try:
        before = writes()
        basic = Actor(user_id=OTHER, is_admin=False)
        request = req.create_document(
            "invoice",
            TENANT,
            deal_id=story["deal"]["id"],
            person_id=story["john"]["id"],
            lines=_lines(story),
            actor=basic,
        )
        asyncio.run(stack.publish(request))
        denied = _decision_about(stack, request.id, "request.denied")["data"]
        assert denied["code"] == "not_allowed"
        assert "create invoices" in denied["reason"]
        time.sleep(2)
        assert writes() == before
        # The switch on: the same kind of request from the same user goes through.
        _save(stack, permissions=Permissions(basic_can_create_invoices=True))
        allowed = req.create_document(
            "invoice",
            TENANT,
            deal_id=story["deal"]["id"],
            person_id=story["john"]["id"],
            lines=_lines(story)[:1],
            actor=basic,
        )
        asyncio.run(stack.publish(allowed))
        assert _created(stack, allowed)["requested_by"] == OTHER
        assert writes() > before
    finally:
        httpx.post(f"{faults}/reset").raise_for_status()
        _save(stack)


# --- send later, accept, convert --------------------------------------------------------------


def test_an_estimate_sent_later_then_accepted_converts_to_an_invoice(
    story: dict[str, Any],
) -> None:
    stack = story["stack"]
    request = req.create_document(
        "estimate",
        TENANT,
        deal_id=story["deal"]["id"],
        person_id=story["john"]["id"],
        lines=_lines(story),
    )
    asyncio.run(stack.publish(request))
    estimate_id = _created(stack, request)["qbo_id"]
    assert stack.qbo_api(TENANT, "GET", f"estimate/{estimate_id}")["Estimate"]["EmailStatus"] != (
        "EmailSent"
    )

    send = req.send_document(TENANT, "estimate", estimate_id)
    asyncio.run(stack.publish(send))
    sent = _decision_about(stack, send.id, "document.sent")["data"]
    assert sent["snapshot"]["EmailStatus"] == "EmailSent"

    estimate = stack.qbo_api(TENANT, "GET", f"estimate/{estimate_id}")["Estimate"]
    body = {
        "Id": estimate_id,
        "SyncToken": estimate["SyncToken"],
        "sparse": True,
        "TxnStatus": "Accepted",
    }
    stack.qbo_api(TENANT, "POST", "estimate", json=body)  # the customer accepts, in QBO

    convert = req.convert_estimate(TENANT, estimate_id)
    asyncio.run(stack.publish(convert))
    converted = _created(stack, convert)
    assert converted["from_estimate_id"] == estimate_id
    invoice = stack.qbo_api(TENANT, "GET", f"invoice/{converted['qbo_id']}")["Invoice"]
    assert {"TxnId": estimate_id, "TxnType": "Estimate"} in invoice["LinkedTxn"]

    def items(document: dict[str, Any]) -> list[tuple[str, float, float]]:
        return [
            (
                line["SalesItemLineDetail"]["ItemRef"]["value"],
                line["SalesItemLineDetail"]["Qty"],
                line["SalesItemLineDetail"]["UnitPrice"],
            )
            for line in document["Line"]
            if line.get("DetailType") == "SalesItemLineDetail"
        ]

    assert items(invoice) == items(estimate)
    closed = stack.qbo_api(TENANT, "GET", f"estimate/{estimate_id}")["Estimate"]
    assert closed["TxnStatus"] == "Closed"

    # Converting again makes no second invoice: the estimate's invoice is the answer.
    again = req.convert_estimate(TENANT, estimate_id)
    asyncio.run(stack.publish(again))
    repeated = _created(stack, again)
    assert repeated["qbo_id"] == converted["qbo_id"] and repeated["already_converted"]


# --- what the CRM shows: the documents projection and visibility -------------------------------


def _documents(
    story: dict[str, Any], path: str, user_id: int, is_admin: bool
) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{story['api']}/v1/tenants/{TENANT}/{path}/documents",
        params={"user_id": user_id, "is_admin": is_admin},
        headers={"Authorization": f"Bearer {INGEST_KEY}"},
        timeout=10,
    )
    answer.raise_for_status()
    body = answer.json()
    return list(body["items"])


def _ids(documents: list[dict[str, Any]]) -> set[str]:
    return {str(d["qbo_id"]) for d in documents}


def test_payments_made_in_qbo_show_on_the_person_company_and_deal(story: dict[str, Any]) -> None:
    stack = story["stack"]
    mary = story["mary"]
    request = req.create_document(
        "invoice", TENANT, deal_id=story["deal"]["id"], person_id=mary["id"], lines=_lines(story)
    )
    asyncio.run(stack.publish(request))
    invoice_id = _created(stack, request)["qbo_id"]
    realm = stack.realms[TENANT]
    httpx.post(
        f"{stack.qbo.base_url}/_sandbox/realms/{realm}/invoices/{invoice_id}/payment",
        params={"amount": 100},
    ).raise_for_status()

    def shown(path: str) -> dict[str, Any] | None:
        rows = _documents(story, path, OTHER, False)
        return next((d for d in rows if str(d["qbo_id"]) == invoice_id), None)

    paid = eventually(
        lambda: shown(f"people/{mary['id']}"),
        lambda row: row is not None and row["status"] == "partially_paid",
    )
    assert float(paid["balance"]) == 2 * 100 + 7.5 * 75 - 100
    assert shown(f"companies/{story['company']['id']}") is not None
    assert shown(f"deals/{story['deal']['id']}") is not None


def test_each_visibility_setting_hides_exactly_the_documents_made_in_qbo(
    story: dict[str, Any],
) -> None:
    stack = story["stack"]
    john = story["john"]
    lines = [
        {
            "DetailType": "SalesItemLineDetail",
            "Amount": 100,
            "SalesItemLineDetail": {"ItemRef": {"value": story["items"]["Services"]}, "Qty": 1},
        }
    ]
    made_in_qbo = stack.qbo_api(
        TENANT,
        "POST",
        "invoice",
        json={"CustomerRef": {"value": story["john_qbo"]["Id"]}, "Line": lines},
    )["Invoice"]["Id"]
    from_crm = req.create_document(
        "estimate", TENANT, deal_id=story["deal"]["id"], person_id=john["id"], lines=_lines(story)
    )
    asyncio.run(stack.publish(from_crm))
    crm_made = _created(stack, from_crm)["qbo_id"]
    person = f"people/{john['id']}"
    eventually(
        lambda: _ids(_documents(story, person, OWNER, True)),
        lambda ids: {made_in_qbo, crm_made} <= ids,
    )
    viewers = {"admin": (OWNER, True), "owner": (OWNER, False), "other": (OTHER, False)}
    expected = {
        "admin": {"admin"},
        "everyone": {"admin", "owner", "other"},
        "installation_owner": {"admin", "owner"},
    }
    try:
        for visibility, who_sees in expected.items():
            _save(stack, visibility=visibility)
            for viewer, (user_id, is_admin) in viewers.items():
                sees_qbo = viewer in who_sees
                ids = eventually(
                    lambda u=user_id, a=is_admin: _ids(_documents(story, person, u, a)),
                    lambda ids, s=sees_qbo: (made_in_qbo in ids) == s,
                    timeout=30,
                )
                assert crm_made in ids, f"{viewer} under {visibility}: a CRM document is hidden"
    finally:
        _save(stack)
