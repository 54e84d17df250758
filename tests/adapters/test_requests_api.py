"""HTTP requests of CRM users: each endpoint puts the right request envelope on the requests topic
of a real broker, keyed by tenant; an Idempotency-Key makes a retry the same request; a bad body
is a 422 naming the field and publishes nothing; the tenant keys are the query API's."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from adapters.http_api import build_api
from adapters.kafka import KafkaPublisher
from adapters.requests_api import ConvertBody, DocumentCreateBody, DocumentSendBody, RequestsApi
from adapters.secrets import TenantSecrets
from engine.ids import QBSYNC_NAMESPACE
from qbsync.config import Settings
from schemas.requests import (
    DocumentCreateRequestedData,
    DocumentSendRequestedData,
    EstimateConvertRequestedData,
)
from schemas.topics import REQUESTS
from streams.admin import ensure_topics
from tests.support.fakes import RecordingPublisher
from tests.support.kafka import collect

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FIXTURES = Path(__file__).parents[2] / "schemas" / "fixtures"
ACTOR = {"user_id": 19, "is_admin": False}
LINES = [
    {"item_id": "5", "description": "On-site consulting", "quantity": "10", "unit_price": "150.00"}
]
CREATE = {
    "actor": ACTOR,
    "person_id": 4211,
    "lines": LINES,
    "send_now": True,
    "txn_date": "2026-11-24",
}
SEND = {"actor": ACTOR, "send_to": "john.smith@example.com"}
CONVERT = {"actor": ACTOR}
ENDPOINTS = [
    ("deals/3301/invoices", CREATE),
    ("deals/3301/estimates", CREATE),
    ("invoices/130/send", SEND),
    ("estimates/101/send", SEND),
    ("estimates/101/convert", CONVERT),
]


def keys_for(*tenants: str) -> dict[str, str]:
    return {tenant: f"requests-key-{tenant}-0001" for tenant in tenants}


def auth(keys: dict[str, str], tenant: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys[tenant]}"}


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


def golden_request(wire_type: str, **changes) -> dict:
    document = json.loads((FIXTURES / f"{wire_type}.json").read_text())
    return document | changes


# --- on a real broker -----------------------------------------------------------------------


@pytest.fixture
async def on_broker(kafka_bootstrap: str) -> AsyncIterator[tuple[httpx.AsyncClient, str, dict]]:
    await ensure_topics(kafka_bootstrap, [REQUESTS], clamp_replication=True)
    tenant = f"t-{uuid.uuid4().hex[:10]}"  # the topic is shared with other tests
    keys = keys_for(tenant)
    publisher = KafkaPublisher(kafka_bootstrap)
    await publisher.start()
    app = FastAPI()
    app.include_router(RequestsApi(TenantSecrets(keys), publisher, lambda: NOW).router)
    try:
        async with client_for(app) as client:
            yield client, tenant, keys
    finally:
        await publisher.stop()


async def published(bootstrap: str, tenant: str, ids: set[str], count: int | None = None) -> list:
    """The records of `tenant` on the requests topic once every id of `ids` is there (and
    `count` of them, when given), as (key, envelope)."""

    def mine(records):
        return [(key, r) for _topic, key, r in records if r.get("tenant") == tenant]

    def done(records):
        found = mine(records)
        return ids <= {r["id"] for _key, r in found} and (count is None or len(found) >= count)

    return mine(await collect(bootstrap, [REQUESTS.name], done, timeout=60))


@pytest.mark.broker
async def test_each_endpoint_publishes_its_request_keyed_by_tenant_and_answers_where_to_look(
    on_broker, kafka_bootstrap
):
    client, tenant, keys = on_broker
    answers = {}
    for path, body in ENDPOINTS:
        answer = await client.post(
            f"/v1/tenants/{tenant}/{path}", json=body, headers=auth(keys, tenant)
        )
        assert answer.status_code == 202, answer.text
        request_id = answer.json()["request_id"]
        status = f"/v1/tenants/{tenant}/requests/{request_id}"
        assert answer.json() == {"request_id": request_id, "status_url": status}
        assert answer.headers["location"] == status
        answers[path] = request_id

    records = await published(kafka_bootstrap, tenant, set(answers.values()))
    by_id = {r["id"]: (key, r) for key, r in records}
    assert all(key == tenant.encode() for key, _r in records)
    sent = {path: by_id[request_id][1] for path, request_id in answers.items()}
    for request in sent.values():
        assert (request["source"], request["time"], request["data"]["actor"]) == (
            "/qbsync/api",
            "2026-11-25T12:00:00Z",
            ACTOR,
        )

    invoice, estimate = sent["deals/3301/invoices"], sent["deals/3301/estimates"]
    assert (invoice["type"], estimate["type"]) == (
        "qbsync.request.invoice.create.v1",
        "qbsync.request.estimate.create.v1",
    )
    assert invoice["subject"] == "crm/deal/3301"
    assert invoice["data"] == {
        "actor": ACTOR,
        "deal_id": 3301,
        "person_id": 4211,
        "lines": LINES,
        "send_now": True,
        "send_to": None,
        "txn_date": "2026-11-24",
    }
    send_invoice, send_estimate = sent["invoices/130/send"], sent["estimates/101/send"]
    assert send_invoice["type"] == send_estimate["type"] == "qbsync.request.document.send.v1"
    assert (send_invoice["subject"], send_invoice["data"]["document_type"]) == (
        "qbo/invoice/130",
        "invoice",
    )
    assert (send_estimate["data"]["qbo_id"], send_estimate["data"]["document_type"]) == (
        "101",
        "estimate",
    )
    assert send_invoice["data"]["send_to"] == "john.smith@example.com"
    convert = sent["estimates/101/convert"]
    assert (convert["type"], convert["subject"], convert["data"]) == (
        "qbsync.request.estimate.convert.v1",
        "qbo/estimate/101",
        {"actor": ACTOR, "estimate_id": "101"},
    )


@pytest.mark.broker
async def test_a_retry_with_the_same_idempotency_key_is_the_same_request(
    on_broker, kafka_bootstrap
):
    client, tenant, keys = on_broker
    path = f"/v1/tenants/{tenant}/deals/3301/invoices"

    async def post(key: str | None) -> str:
        headers = auth(keys, tenant) | ({"Idempotency-Key": key} if key else {})
        answer = await client.post(path, json=CREATE, headers=headers)
        assert answer.status_code == 202
        return answer.json()["request_id"]

    first, retry = await post("order-77"), await post("order-77")
    named = f"{tenant}\x1fidempotency-key:qbsync.request.invoice.create.v1:order-77"
    assert first == retry == str(uuid.uuid5(QBSYNC_NAMESPACE, named))
    other_key = await post("order-78")
    no_key, no_key_again = await post(None), await post(None)
    assert len({first, other_key, no_key, no_key_again}) == 4
    # Published each time (the engine takes an input id once); the retry carries the same id.
    records = await published(kafka_bootstrap, tenant, {first, other_key, no_key}, count=5)
    assert [r["id"] for _key, r in records].count(first) == 2


@pytest.mark.broker
async def test_any_request_envelope_can_be_posted_as_it_is(on_broker, kafka_bootstrap):
    client, tenant, keys = on_broker
    request_id = f"req-{uuid.uuid4().hex[:8]}"
    envelope = golden_request("qbsync.request.settings.save.v1", id=request_id, tenant=tenant)
    answer = await client.post(
        f"/v1/tenants/{tenant}/requests", json=envelope, headers=auth(keys, tenant)
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["request_id"] == request_id
    [(key, record)] = await published(kafka_bootstrap, tenant, {request_id})
    assert key == tenant.encode()
    assert (record["type"], record["subject"], record["data"]["actor"]) == (
        envelope["type"],
        envelope["subject"],
        envelope["data"]["actor"],
    )


# --- refusals (nothing reaches the topic) -----------------------------------------------------

KEYS = keys_for("acme-co", "globex")


@pytest.fixture
async def api() -> AsyncIterator[tuple[httpx.AsyncClient, RecordingPublisher]]:
    publisher = RecordingPublisher()
    app = FastAPI()
    app.include_router(RequestsApi(TenantSecrets(KEYS), publisher, lambda: NOW).router)
    async with client_for(app) as client:
        yield client, publisher


def _without(body: dict, field: str) -> dict:
    return {key: value for key, value in body.items() if key != field}


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("deals/3301/invoices", _without(CREATE, "actor"), ["body", "actor"]),
        ("deals/3301/invoices", CREATE | {"lines": []}, ["body", "lines"]),
        (
            "deals/3301/estimates",
            CREATE | {"lines": [LINES[0] | {"quantity": "0"}]},
            ["body", "lines", 0, "quantity"],
        ),
        (
            "deals/3301/invoices",
            CREATE | {"lines": [LINES[0] | {"item_id": "five"}]},
            ["body", "lines", 0, "item_id"],
        ),
        ("deals/3301/invoices", CREATE | {"txn_date": "24/11/2026"}, ["body", "txn_date"]),
        ("deals/3301/invoices", CREATE | {"deal_id": 9}, ["body", "deal_id"]),  # the path says
        ("deals/not-a-deal/invoices", CREATE, ["path", "deal_id"]),
        ("invoices/INV-1/send", SEND, ["path", "qbo_id"]),
        ("estimates/101/send", {"send_to": "x@example.com"}, ["body", "actor"]),
        (
            "estimates/101/convert",
            {"actor": {"user_id": "me", "is_admin": False}},
            ["body", "actor", "user_id"],
        ),
    ],
)
async def test_a_bad_request_is_a_422_naming_the_field_and_publishes_nothing(api, path, body, loc):
    client, publisher = api
    answer = await client.post(
        f"/v1/tenants/acme-co/{path}", json=body, headers=auth(KEYS, "acme-co")
    )
    assert answer.status_code == 422, answer.text
    assert loc in [error["loc"] for error in answer.json()["detail"]]
    assert publisher.sent == []


@pytest.mark.parametrize(
    ("envelope", "loc"),
    [
        (golden_request("qbsync.request.invoice.create.v1", tenant="globex"), ["body", "tenant"]),
        (golden_request("qbsync.decision.input.applied.v1"), ["body", "type"]),
        (
            golden_request("qbsync.request.invoice.create.v1", type="qbsync.request.nope.v1"),
            ["body", "type"],
        ),
        (_without(golden_request("qbsync.request.invoice.create.v1"), "type"), ["body", "type"]),
        (
            golden_request("qbsync.request.invoice.create.v1")
            | {
                "data": golden_request("qbsync.request.invoice.create.v1")["data"]
                | {"lines": [LINES[0] | {"quantity": "-1"}]}
            },
            ["body", "data", "lines", 0, "quantity"],
        ),
    ],
)
async def test_a_posted_envelope_must_be_a_valid_request_of_this_tenant(api, envelope, loc):
    client, publisher = api
    answer = await client.post(
        "/v1/tenants/acme-co/requests", json=envelope, headers=auth(KEYS, "acme-co")
    )
    assert answer.status_code == 422, answer.text
    assert loc in [error["loc"] for error in answer.json()["detail"]]
    assert publisher.sent == []


@pytest.mark.parametrize("path", [path for path, _body in ENDPOINTS] + ["requests"])
@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer nope"}, 401), (auth(KEYS, "globex"), 403)],
)
async def test_a_missing_unknown_or_other_tenants_key_cannot_make_a_request(
    api, path, headers, status
):
    client, publisher = api
    body = dict(ENDPOINTS).get(path, golden_request("qbsync.request.invoice.create.v1"))
    answer = await client.post(f"/v1/tenants/acme-co/{path}", json=body, headers=headers)
    assert answer.status_code == status
    if status == 403:
        assert answer.json() == {"detail": "this key may not make requests for tenant 'acme-co'"}
    assert publisher.sent == []


async def test_a_broker_outage_is_a_503_saying_to_retry_with_the_same_key():
    app = FastAPI()
    failing = RecordingPublisher(fail_flush=True)
    app.include_router(RequestsApi(TenantSecrets(KEYS), failing, lambda: NOW).router)
    async with client_for(app) as client:
        answer = await client.post(
            "/v1/tenants/acme-co/estimates/101/convert",
            json=CONVERT,
            headers=auth(KEYS, "acme-co") | {"Idempotency-Key": "k1"},
        )
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert "event bus is unavailable" in answer.json()["detail"]


async def test_qbsync_api_serves_the_requests_with_the_ingest_keys(tmp_path):
    settings = Settings(data_dir=tmp_path, ingest_keys="acme-co=" + KEYS["acme-co"])
    app = build_api(settings, "127.0.0.1:9")  # no lifespan: the publisher is never started
    async with client_for(app) as client:
        path = "/v1/tenants/acme-co/deals/3301/invoices"
        assert (await client.post(path, json=CREATE)).status_code == 401
        answer = await client.post(path, json=CREATE, headers=auth(KEYS, "acme-co"))
        assert answer.status_code == 503, "no broker, so nothing could be published"
        spec = (await client.get("/openapi.json")).json()
    assert {
        "/v1/tenants/{tenant}/deals/{deal_id}/invoices",
        "/v1/tenants/{tenant}/deals/{deal_id}/estimates",
        "/v1/tenants/{tenant}/invoices/{qbo_id}/send",
        "/v1/tenants/{tenant}/estimates/{qbo_id}/send",
        "/v1/tenants/{tenant}/estimates/{qbo_id}/convert",
        "/v1/tenants/{tenant}/requests",
        "/v1/tenants/{tenant}/requests/{request_id}",
    } <= set(spec["paths"])
    created = spec["paths"]["/v1/tenants/{tenant}/deals/{deal_id}/invoices"]["post"]
    assert {"202", "401", "403", "422", "503"} <= set(created["responses"])


def test_the_bodies_are_the_wire_requests_without_what_the_path_says():
    assert set(DocumentCreateBody.model_fields) == set(DocumentCreateRequestedData.model_fields) - {
        "deal_id"
    }
    assert set(DocumentSendBody.model_fields) == set(DocumentSendRequestedData.model_fields) - {
        "document_type",
        "qbo_id",
    }
    assert set(ConvertBody.model_fields) == set(EstimateConvertRequestedData.model_fields) - {
        "estimate_id"
    }
