"""The query API over projections filled with events of two tenants: every endpoint, its auth,
and that one tenant's key never reads the other's data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from adapters.http_api import build_api
from adapters.secrets import TenantSecrets
from projections.db import ProjectionDb
from projections.http import query_router
from projections.projector import Projector
from projections.queries import ProjectionReader
from qbsync.config import Settings
from tests.projections.events import Feed, event, qbo_customer_changed

A, B = "acme-co", "beta-co"
KEY_A, KEY_B = "query-key-acme-7f3a9c", "query-key-beta-51d0e2"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PATHS = (
    "links",
    "links/4211",
    "customers/58",
    "people/4211",
    "imports",
    "imports/req-77e1-import",
    "health",
)


def asgi_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    db = ProjectionDb.open(f"sqlite:///{tmp_path}/projections.db")
    feed = Feed(Projector(db))
    feed(
        event("qbsync.crm.person.changed.v1"),
        qbo_customer_changed("58", "3"),
        qbo_customer_changed("77", "2", DisplayName="Unlinked Ltd"),
        event("qbsync.decision.link.made.v1"),
        event(
            "qbsync.decision.link.made.v1", id="made-2", data={"person_id": 10, "customer_id": "60"}
        ),
        event("qbsync.decision.link.ended.v1", data={"person_id": 10, "customer_id": "60"}),
        event("qbsync.decision.import.started.v1"),
        event("qbsync.decision.import.finished.v1"),
        event("qbsync.outcome.failed.v1"),
        event("qbsync.command.qbo.customer.update.v1"),
        # The other tenant: its own link (person 4211 too), customer and failures.
        event(
            "qbsync.decision.link.made.v1",
            tenant=B,
            id="b-made",
            data={"customer_id": "99", "crm": {"id": 4211, "email": "secret@beta.example"}},
        ),
        qbo_customer_changed("99", "1", tenant=B, DisplayName="Beta Secret Customer"),
        event("qbsync.decision.import.failed.v1", tenant=B, data={"request_id": "b-import"}),
    )
    app = FastAPI()
    reader = ProjectionReader(db, clock=lambda: NOW)
    app.include_router(query_router(reader, TenantSecrets({A: KEY_A, B: KEY_B})))
    async with asgi_client(app) as test_client:
        yield test_client
    db.close()


async def get(
    client: httpx.AsyncClient, path: str, key: str | None = KEY_A, tenant: str = A, **params
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return await client.get(f"/v1/tenants/{tenant}/{path}", headers=headers, params=params)


async def test_links_are_listed_filtered_by_status_and_paged(client):
    body = (await get(client, "links")).json()
    assert body["total"] == 2 and [i["person_id"] for i in body["items"]] == [10, 4211]
    body = (await get(client, "links", status="active")).json()
    assert (body["total"], body["items"][0]["customer_id"]) == (1, "58")
    body = (await get(client, "links", limit=1, offset=1)).json()
    assert ([i["person_id"] for i in body["items"]], body["limit"], body["offset"]) == (
        [4211],
        1,
        1,
    )
    assert (await get(client, "links", status="gone")).status_code == 422
    assert (await get(client, "links", limit=0)).status_code == 422


async def test_one_link_shows_its_engine_state_and_conflicts_or_a_clear_404(client):
    body = (await get(client, "links/4211")).json()
    assert (body["customer_id"], body["status"], body["conflicts"]) == ("58", "active", 1)
    assert body["engine"]["qbo_sync_token"] == "3"
    assert body["conflict_notes"][0]["crm_field"] == "phone"
    missing = await get(client, "links/5")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no link for CRM person 5 in tenant 'acme-co'"}


async def test_a_customer_is_answered_linked_or_not(client):
    linked = (await get(client, "customers/58")).json()
    assert linked["linked"] is True and linked["link"]["person_id"] == 4211
    assert linked["latest_qbo"]["sync_token"] == "3"
    unlinked = (await get(client, "customers/77")).json()
    assert unlinked["linked"] is False and unlinked["link"] is None
    assert unlinked["latest_qbo"]["snapshot"]["DisplayName"] == "Unlinked Ltd"
    ended = (await get(client, "customers/60")).json()
    assert ended["linked"] is False and ended["link"]["status"] == "ended"
    missing = await get(client, "customers/1234")
    assert missing.status_code == 404 and "no QBO customer '1234'" in missing.json()["detail"]


async def test_a_person_is_answered_with_the_latest_crm_record(client):
    body = (await get(client, "people/4211")).json()
    assert body["linked"] is True and body["link"]["customer_id"] == "58"
    assert body["latest_crm"]["snapshot"]["phone"] == "555-1234"
    assert (await get(client, "people/10")).json()["linked"] is False
    assert (await get(client, "people/31337")).status_code == 404
    assert (await get(client, "people/not-a-number")).status_code == 422


async def test_import_runs_are_listed_and_each_has_its_summary(client):
    body = (await get(client, "imports")).json()
    assert body["total"] == 1 and body["items"][0]["status"] == "finished"
    run = (await get(client, "imports/req-77e1-import")).json()
    assert (run["requested_by"], run["summary"]["customers_read"]) == (7, 3)
    assert run["summary"]["skipped"] == [
        {"customer_id": "61", "name": "Cash Sales", "reason": "no_email"}
    ]
    assert (await get(client, "imports/b-import")).status_code == 404, "another tenant's import"


async def test_health_answers_every_section(client):
    body = (await get(client, "health", recent=5)).json()
    assert body["tenant"] == A and body["as_of"] == "2026-11-25T12:00:00Z"
    assert body["failures"]["failed_commands_total"] == 1
    assert body["failures"]["recent_failed_commands"][0]["code"] == "610"
    assert body["pending_commands"]["count"] == 1
    assert body["pending_commands"]["oldest"][0]["command_type"] == (
        "qbsync.command.qbo.customer.update.v1"
    )
    assert body["conflicts"]["total"] == 2  # the golden LinkMade has one; two links were made
    assert body["links"] == {"active": 1, "inactive": 0, "ended": 1}
    assert (body["lag"]["inputs"], body["lag"]["undecided_inputs"]) == (3, 3)
    assert (await get(client, "health", recent=0)).status_code == 422


@pytest.mark.parametrize("path", PATHS)
async def test_no_key_or_an_unknown_key_is_401(client, path):
    for key in (None, "not-a-key-at-all"):
        answer = await get(client, path, key=key)
        assert answer.status_code == 401, (path, key)
        assert answer.headers["www-authenticate"] == "Bearer"
    basic = await client.get(f"/v1/tenants/{A}/{path}", headers={"Authorization": f"Basic {KEY_A}"})
    assert basic.status_code == 401


@pytest.mark.parametrize("path", PATHS)
async def test_another_tenants_key_is_403_and_reads_nothing(client, path):
    answer = await get(client, path, key=KEY_B, tenant=A)
    assert answer.status_code == 403
    assert answer.json() == {"detail": "this key may not read tenant 'acme-co'"}
    assert (await get(client, path, key=KEY_A, tenant=B)).status_code == 403
    assert (await get(client, path, key=KEY_A, tenant="nobody")).status_code == 403


async def test_each_tenant_sees_only_its_own_records_under_the_same_ids(client):
    theirs = (await get(client, "links/4211", key=KEY_B, tenant=B)).json()
    mine = (await get(client, "links/4211")).json()
    assert (theirs["customer_id"], mine["customer_id"]) == ("99", "58")
    assert "secret@beta.example" not in str(mine)
    assert (await get(client, "customers/99")).status_code == 404
    assert (await get(client, "customers/58", key=KEY_B, tenant=B)).status_code == 404
    their_health = (await get(client, "health", key=KEY_B, tenant=B)).json()
    # Only its own failure (its import failed); none of tenant A's failed commands.
    assert their_health["failures"]["failed_commands_total"] == 1
    assert their_health["links"]["active"] == 1
    assert [
        r["status"] for r in (await get(client, "imports", key=KEY_B, tenant=B)).json()["items"]
    ] == ["failed"]
    everything_of_a = "".join([(await get(client, path)).text for path in PATHS])
    assert "Beta Secret Customer" not in everything_of_a and "b-import" not in everything_of_a


async def test_the_openapi_document_names_the_models_and_the_bearer_key(client):
    spec = (await client.get("/openapi.json")).json()
    health = spec["paths"]["/v1/tenants/{tenant}/health"]["get"]
    assert health["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HealthView"
    }
    assert set(health["responses"]) >= {"200", "401", "403", "422"}
    assert "404" in spec["paths"]["/v1/tenants/{tenant}/links/{person_id}"]["get"]["responses"]
    assert spec["components"]["securitySchemes"]["TenantKey"]["scheme"] == "bearer"
    assert {"LinkPage", "LinkDetail", "CustomerView", "PersonView", "ImportPage"} <= set(
        spec["components"]["schemas"]
    )


async def test_qbsync_api_serves_the_query_api_with_the_ingest_keys(tmp_path):
    settings = Settings(data_dir=tmp_path, ingest_keys=f"{A}={KEY_A}")
    app = build_api(settings, "127.0.0.1:9")  # the lifespan (and so Kafka) is not started
    assert (tmp_path / "projections.db").exists()
    async with asgi_client(app) as client:
        answer = await get(client, "health")
        assert answer.status_code == 200 and answer.json()["links"]["active"] == 0
        assert (await get(client, "links", key=None)).status_code == 401
        assert (await client.get("/healthz")).json()["projections"]["running"] is False

    without_keys = build_api(Settings(data_dir=tmp_path / "none"), "127.0.0.1:9")
    async with asgi_client(without_keys) as client:
        assert (await get(client, "health")).status_code == 404
