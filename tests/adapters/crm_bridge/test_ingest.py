"""HTTP ingest: per-tenant keys, field-level 422s that forward nothing, idempotent on event ids."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from adapters.crm_bridge.ingest import MAX_EVENTS, CrmIngest, SqliteIngestLedger
from adapters.secrets import TenantSecrets
from tests.support.fakes import RecordingPublisher

KEYS = {"acme-co": "acme-ingest-key-0001", "globex": "globex-ingest-key-002"}
FIXTURE = Path(__file__).parents[3] / "schemas" / "fixtures" / "qbsync.crm.person.changed.v1.json"


def event(event_id: str = "evt-1", tenant: str = "acme-co", **changes) -> dict:
    doc = json.loads(FIXTURE.read_text())
    doc.update(id=event_id, tenant=tenant, **changes)
    return doc


@pytest.fixture
def api(tmp_path):
    publisher = RecordingPublisher()
    ingest = CrmIngest(TenantSecrets(KEYS), publisher, SqliteIngestLedger(tmp_path / "ingest.db"))
    app = FastAPI()
    app.include_router(ingest.router)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")
    return client, publisher


def auth(tenant: str) -> dict:
    return {"Authorization": f"Bearer {KEYS[tenant]}"}


async def test_a_valid_event_is_accepted_with_202_and_its_id_and_reaches_the_topic(api):
    client, publisher = api
    response = await client.post(
        "/v1/tenants/acme-co/crm-events", json=event(), headers=auth("acme-co")
    )
    assert response.status_code == 202
    assert response.json() == {"accepted": ["evt-1"], "duplicates": []}
    [(topic, published)] = publisher.sent
    assert (topic, published.id, published.tenant) == ("qbsync.crm.changes.v1", "evt-1", "acme-co")


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer nope"}, 401), (auth("globex"), 403)],
)
async def test_a_missing_unknown_or_other_tenants_key_cannot_publish(api, headers, status):
    client, publisher = api
    response = await client.post("/v1/tenants/acme-co/crm-events", json=event(), headers=headers)
    assert response.status_code == status
    assert publisher.sent == []


async def test_a_malformed_event_gets_field_level_errors_and_nothing_of_the_batch_is_forwarded(api):
    client, publisher = api
    broken = event("evt-2")
    del broken["data"]["after"]["id"]
    body = [
        event("evt-1"),
        broken,
        event("evt-3", tenant="globex"),
        event("evt-4", type="qbsync.qbo.item.deleted.v1"),
    ]
    response = await client.post(
        "/v1/tenants/acme-co/crm-events", json=body, headers=auth("acme-co")
    )
    assert response.status_code == 422
    errors = {(e["index"], e["field"]) for e in response.json()["errors"]}
    assert (1, "data.after.id") in errors
    assert (2, "tenant") in errors
    assert any(index == 3 for index, _field in errors)
    assert publisher.sent == []


async def test_bytes_that_are_not_json_get_a_422(api):
    client, _publisher = api
    response = await client.post(
        "/v1/tenants/acme-co/crm-events", content=b"{not json", headers=auth("acme-co")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "(document)"


async def test_posting_the_same_event_id_again_publishes_nothing_new(api):
    client, publisher = api
    first = await client.post(
        "/v1/tenants/acme-co/crm-events",
        json=[event("evt-1"), event("evt-1")],
        headers=auth("acme-co"),
    )
    assert first.json() == {"accepted": ["evt-1"], "duplicates": ["evt-1"]}
    again = await client.post(
        "/v1/tenants/acme-co/crm-events", json=event("evt-1"), headers=auth("acme-co")
    )
    assert again.status_code == 202 and again.json() == {"accepted": [], "duplicates": ["evt-1"]}
    assert len(publisher.sent) == 1


async def test_the_same_event_id_in_two_tenants_is_two_events(api):
    client, publisher = api
    await client.post(
        "/v1/tenants/acme-co/crm-events", json=event("evt-9"), headers=auth("acme-co")
    )
    response = await client.post(
        "/v1/tenants/globex/crm-events",
        json=event("evt-9", tenant="globex"),
        headers=auth("globex"),
    )
    assert response.json()["accepted"] == ["evt-9"]
    assert [e.tenant for e in publisher.events()] == ["acme-co", "globex"]


async def test_too_many_events_in_one_request_are_refused(api):
    client, publisher = api
    body = [event(f"e{i}") for i in range(MAX_EVENTS + 1)]
    response = await client.post(
        "/v1/tenants/acme-co/crm-events", json=body, headers=auth("acme-co")
    )
    assert response.status_code == 422 and publisher.sent == []


async def test_a_broker_outage_answers_503_and_records_nothing_so_a_retry_publishes_again(tmp_path):
    ledger = SqliteIngestLedger(tmp_path / "ingest.db")
    failing = RecordingPublisher(fail_flush=True)
    app = FastAPI()
    app.include_router(CrmIngest(TenantSecrets(KEYS), failing, ledger).router)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")
    response = await client.post(
        "/v1/tenants/acme-co/crm-events", json=event(), headers=auth("acme-co")
    )
    assert response.status_code == 503 and response.headers["retry-after"]
    assert ledger.seen("acme-co", ["evt-1"]) == set()
