"""The document and request endpoints of the query API, on SQLite and PostgreSQL: what each
visibility setting shows to an admin, the installation owner and another basic user (SYNC-RULES
3), a hidden document answered as a missing one, and the tenant keys."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from adapters.secrets import TenantSecrets
from projections.db import ProjectionDb
from projections.http import query_router
from projections.projector import Projector
from projections.queries import ProjectionReader
from tests.projections.events import Feed, event, invoice_request_flow, qbo_document_changed

A, B = "acme-co", "beta-co"
KEY_A, KEY_B = "query-key-acme-7f3a9c", "query-key-beta-51d0e2"
OWNER_ID = 7
ADMIN = {"user_id": 1, "is_admin": True}
OWNER = {"user_id": OWNER_ID}  # is_admin defaults to false
BASIC = {"user_id": 19, "is_admin": False}
QBO_MADE = {("invoice", "130"), ("estimate", "101")}  # created in QBO, customer 58
CRM_MADE = {("invoice", "140")}  # created from the CRM, on deal 3301, for person 4211
PATHS = (
    "people/4211/documents",
    "companies/88/documents",
    "deals/3301/documents",
    "documents/invoice/140",
    "requests/req-9f00-invoice",
)


def installation(change: str, tenant: str = A, decision_id: str | None = None, **data):
    return event(
        "qbsync.decision.installation.changed.v1",
        id=decision_id or f"dec-{tenant}-{change}",
        tenant=tenant,
        data={"change": change, "actor_user_id": OWNER_ID, **data},
    )


def visibility(setting: str, decision_id: str | None = None):
    return installation(
        "settings_saved",
        decision_id=decision_id or f"dec-visibility-{setting}",
        settings={"visibility": setting},
    )


@pytest.fixture
async def api(db: ProjectionDb) -> AsyncIterator[tuple[httpx.AsyncClient, Feed]]:
    feed = Feed(Projector(db))
    feed(
        installation("installed", crm_account_id=42),
        event("qbsync.crm.person.changed.v1"),  # person 4211, company 88
        event("qbsync.decision.link.made.v1"),  # person 4211 <-> customer 58
        qbo_document_changed("invoice", "130", "2"),
        qbo_document_changed("estimate", "101", "1"),
        *invoice_request_flow("140"),  # invoice 140, from the CRM, on deal 3301 for 4211
        # the other tenant: the same ids, its own documents, everything visible
        installation("installed", tenant=B, crm_account_id=43),
        qbo_document_changed("invoice", "130", "5", tenant=B, DocNumber="beta-secret"),
    )
    app = FastAPI()
    app.include_router(query_router(ProjectionReader(db), TenantSecrets({A: KEY_A, B: KEY_B})))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client, feed


async def get(client, path: str, user=ADMIN, key=KEY_A, tenant=A, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    query = {**(user or {}), **params}
    return await client.get(f"/v1/tenants/{tenant}/{path}", headers=headers, params=query)


def keys_of(body: dict) -> set[tuple[str, str]]:
    return {(item["document_type"], item["qbo_id"]) for item in body["items"]}


# --- visibility -----------------------------------------------------------------------------

# (setting, user) -> the QBO-made documents this user sees; CRM-made ones are always shown
EXPECTED = {
    ("admin", "admin"): QBO_MADE,
    ("admin", "owner"): set(),
    ("admin", "basic"): set(),
    ("everyone", "admin"): QBO_MADE,
    ("everyone", "owner"): QBO_MADE,
    ("everyone", "basic"): QBO_MADE,
    ("installation_owner", "admin"): QBO_MADE,
    ("installation_owner", "owner"): QBO_MADE,
    ("installation_owner", "basic"): set(),
}
USERS = {"admin": ADMIN, "owner": OWNER, "basic": BASIC}


@pytest.mark.parametrize(("setting", "who"), sorted(EXPECTED))
async def test_each_visibility_setting_shows_each_user_exactly_what_it_should(api, setting, who):
    client, feed = api
    if setting != "admin":  # `admin` is the default: nothing saved yet
        feed(visibility(setting))
    user = USERS[who]
    expected = EXPECTED[(setting, who)] | CRM_MADE
    for path in ("people/4211/documents", "companies/88/documents"):
        answer = await get(client, path, user=user)
        assert answer.status_code == 200, answer.text
        assert keys_of(answer.json()) == expected, (path, setting, who)
        assert answer.json()["total"] == len(expected)
    deal = (await get(client, "deals/3301/documents", user=user)).json()
    assert keys_of(deal) == CRM_MADE
    for document_type, qbo_id in QBO_MADE | CRM_MADE:
        single = await get(client, f"documents/{document_type}/{qbo_id}", user=user)
        visible = (document_type, qbo_id) in expected
        assert single.status_code == (200 if visible else 404), (document_type, qbo_id)


async def test_documents_created_from_the_crm_are_shown_to_everyone_whatever_the_setting(api):
    client, feed = api
    for setting in ("admin", "installation_owner", "everyone"):
        feed(visibility(setting))
        for user in (ADMIN, OWNER, BASIC):
            body = (await get(client, "documents/invoice/140", user=user)).json()
            assert (body["origin"], body["deal_id"], body["person_id"]) == ("crm", 3301, 4211)


async def test_a_reinstall_by_another_user_makes_them_the_owner_and_resets_the_setting(api):
    client, feed = api
    feed(visibility("installation_owner"))
    assert keys_of((await get(client, "people/4211/documents", user=OWNER)).json()) == (
        QBO_MADE | CRM_MADE
    )
    feed(installation("installed", "acme-co", "dec-reinstall", actor_user_id=19, crm_account_id=42))
    assert keys_of((await get(client, "people/4211/documents", user=OWNER)).json()) == CRM_MADE
    feed(visibility("installation_owner", "dec-owner-again"))
    assert keys_of((await get(client, "people/4211/documents", user=BASIC)).json()) == (
        QBO_MADE | CRM_MADE
    ), "user 19 installed it this time"
    assert keys_of((await get(client, "people/4211/documents", user=OWNER)).json()) == CRM_MADE


async def test_a_hidden_document_is_answered_exactly_like_one_that_does_not_exist(api):
    client, _feed = api
    hidden = await get(client, "documents/invoice/130", user=BASIC)
    missing = await get(client, "documents/invoice/131", user=BASIC)
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.json() == {"detail": "no invoice 130 in tenant 'acme-co'"}
    assert missing.json() == {"detail": "no invoice 131 in tenant 'acme-co'"}
    shown = (await get(client, "documents/invoice/130", user=ADMIN)).json()
    assert shown["snapshot"]["Id"] == "130" and shown["origin"] == "qbo"
    assert shown["total"] == "1500.0" and shown["lines"][0]["unit_price"] == "150"


# --- lists, filters, validation -------------------------------------------------------------


async def test_lists_filter_by_type_and_page(api):
    client, _feed = api
    invoices = (await get(client, "people/4211/documents", type="invoice")).json()
    assert keys_of(invoices) == {("invoice", "130"), ("invoice", "140")}
    estimates = (await get(client, "companies/88/documents", type="estimate")).json()
    assert keys_of(estimates) == {("estimate", "101")}
    first = (await get(client, "people/4211/documents", limit=2)).json()
    rest = (await get(client, "people/4211/documents", limit=2, offset=2)).json()
    assert (first["total"], len(first["items"]), len(rest["items"])) == (3, 2, 1)
    assert keys_of(first) | keys_of(rest) == QBO_MADE | CRM_MADE


@pytest.mark.parametrize(
    ("path", "user", "params", "field"),
    [
        ("people/4211/documents", {}, {}, "user_id"),
        ("people/4211/documents", {"user_id": "me"}, {}, "user_id"),
        ("people/4211/documents", ADMIN, {"type": "receipt"}, "type"),
        ("people/4211/documents", ADMIN, {"limit": 0}, "limit"),
        ("documents/receipt/130", ADMIN, {}, "document_type"),
        ("documents/invoice/abc", ADMIN, {}, "qbo_id"),
    ],
)
async def test_a_bad_parameter_is_a_422_naming_it(api, path, user, params, field):
    client, _feed = api
    answer = await get(client, path, user=user, **params)
    assert answer.status_code == 422
    assert field in [error["loc"][-1] for error in answer.json()["detail"]]


# --- requests -------------------------------------------------------------------------------


async def test_a_request_is_answered_with_its_verdict_commands_and_documents(api):
    client, _feed = api
    body = (await get(client, "requests/req-9f00-invoice", user=None)).json()
    assert (body["request_id"], body["verdict"], body["request_type"]) == (
        "req-9f00-invoice",
        "applied",
        "qbsync.request.invoice.create.v1",
    )
    [command] = body["commands"]
    assert (command["status"], command["command_type"]) == (
        "succeeded",
        "qbsync.command.qbo.invoice.create.v1",
    )
    [document] = body["documents"]
    assert (document["action"], document["qbo_id"]) == ("created", "140")
    assert document["document"]["origin"] == "crm" and "snapshot" not in document["document"]
    missing = await get(client, "requests/req-nope", user=None)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no request 'req-nope' in tenant 'acme-co'"}


# --- tenants and keys -----------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
async def test_no_key_or_an_unknown_key_is_401_and_another_tenants_key_is_403(api, path):
    client, _feed = api
    for key in (None, "not-a-key"):
        answer = await get(client, path, key=key)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    wrong = await get(client, path, key=KEY_B)
    assert wrong.status_code == 403
    assert wrong.json() == {"detail": "this key may not read tenant 'acme-co'"}


async def test_a_tenant_sees_only_its_own_documents_under_the_same_ids(api):
    client, _feed = api
    theirs = (await get(client, "documents/invoice/130", key=KEY_B, tenant=B)).json()
    mine = (await get(client, "documents/invoice/130")).json()
    assert (theirs["doc_number"], mine["doc_number"]) == ("beta-secret", "1037")
    assert (await get(client, "documents/invoice/140", key=KEY_B, tenant=B)).status_code == 404
    assert (await get(client, "people/4211/documents", key=KEY_B, tenant=B)).json()["total"] == 0
    listed = (await get(client, "people/4211/documents")).text
    assert "beta-secret" not in listed
    assert (await get(client, "requests/req-9f00-invoice", key=KEY_B, tenant=B)).status_code == 404


async def test_the_openapi_document_names_the_document_and_request_models(api):
    client, _feed = api
    spec = (await client.get("/openapi.json")).json()
    one = spec["paths"]["/v1/tenants/{tenant}/documents/{document_type}/{qbo_id}"]["get"]
    assert one["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DocumentDetail"
    }
    assert {"401", "403", "404", "422"} <= set(one["responses"])
    params = {p["name"] for p in one["parameters"]}
    assert {"user_id", "is_admin"} <= params
    listing = spec["paths"]["/v1/tenants/{tenant}/people/{person_id}/documents"]["get"]
    assert {"user_id", "is_admin", "type", "include_deleted", "limit", "offset"} <= {
        p["name"] for p in listing["parameters"]
    }
    assert {"DocumentPage", "DocumentView", "RequestView"} <= set(spec["components"]["schemas"])
