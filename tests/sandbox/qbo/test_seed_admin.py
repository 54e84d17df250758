"""Seed data and the `/_sandbox` control endpoints."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import httpx
import pytest

from sandbox.qbo.clock import SandboxClock
from sandbox.qbo.config import QboSandboxConfig
from sandbox.qbo.realm import RealmState
from sandbox.qbo.seed import seed_realm
from sandbox.qbo.server import developer_app_details
from sandbox.qbo.store import QboStore
from schemas.qbo import QboCustomer, QboEstimate, QboInvoice
from tests.sandbox.qbo.conftest import Qbo

REALM = "4620816365031"


def _seeded(customers: int, rng_seed: int = 7) -> QboStore:
    store = QboStore(SandboxClock())
    store.add_realm(REALM, "Seeded Company")
    seed_realm(store, REALM, customers, rng_seed)
    return store


def _state(store: QboStore) -> RealmState:
    with store.locked(REALM) as realm:
        return realm


@pytest.fixture(scope="module")
def seeded() -> RealmState:
    return _state(_seeded(400))


def _strip_times(realm: RealmState) -> list[dict[str, object]]:
    return [
        {k: v for k, v in record.items() if k != "MetaData"}
        for records in realm.records.values()
        for record in records.values()
    ]


def test_the_same_rng_seed_builds_the_same_company() -> None:
    assert _strip_times(_state(_seeded(60))) == _strip_times(_state(_seeded(60)))
    assert _strip_times(_state(_seeded(60))) != _strip_times(_state(_seeded(60, rng_seed=8)))


def test_seeded_customers_include_the_cases_a_matcher_must_handle(seeded: RealmState) -> None:
    customers = list(seeded.records["Customer"].values())
    names = {c["DisplayName"] for c in customers}
    assert {"John Smith", "John Smith 2", "Jon Smith"} <= names
    emails = Counter(c["PrimaryEmailAddr"]["Address"] for c in customers if "PrimaryEmailAddr" in c)
    assert any(count >= 3 for count in emails.values())  # shared by several customers
    assert any("PrimaryEmailAddr" not in c for c in customers)
    assert any("CompanyName" in c for c in customers)
    assert any(not c["Active"] for c in customers)
    assert all(QboCustomer.model_validate(c) for c in customers)


def test_seeded_documents_cover_every_state(seeded: RealmState) -> None:
    invoices = list(seeded.records["Invoice"].values())
    estimates = list(seeded.records["Estimate"].values())
    assert any(i["Balance"] == i["TotalAmt"] > 0 for i in invoices)  # open
    assert any(0 < i["Balance"] < i["TotalAmt"] for i in invoices)  # partly paid
    assert any(i["Balance"] == 0 < i["TotalAmt"] for i in invoices)  # paid
    assert any(i.get("PrivateNote") == "Voided" for i in invoices)
    assert any(i["EmailStatus"] == "EmailSent" for i in invoices)
    statuses = {e["TxnStatus"] for e in estimates}
    assert statuses == {"Pending", "Accepted", "Closed", "Rejected"}
    closed = next(e for e in estimates if e["TxnStatus"] == "Closed")
    invoice_id = closed["LinkedTxn"][0]["TxnId"]
    assert seeded.records["Invoice"][invoice_id]["LinkedTxn"][0]["TxnId"] == closed["Id"]
    assert all(QboInvoice.model_validate(i) for i in invoices)
    assert all(QboEstimate.model_validate(e) for e in estimates)


def test_seeded_history_ends_before_the_cdc_window(seeded: RealmState) -> None:
    now = SandboxClock().now()
    for records in seeded.records.values():
        for record in records.values():
            updated = datetime.fromisoformat(record["MetaData"]["LastUpdatedTime"])
            assert updated < now - timedelta(days=30)


def test_seeding_10000_customers_gives_at_least_30000_documents() -> None:
    # How fast is a benchmark figure (bench/seed_speed.py), not a test.
    realm = _state(_seeded(10_000))
    documents = len(realm.records["Invoice"]) + len(realm.records["Estimate"])
    assert len(realm.records["Customer"]) == 10_000 and documents >= 30_000


def test_admin_seed_stats_and_reset(qbo: Qbo) -> None:
    admin = f"/_sandbox/realms/{qbo.realm_id}"
    seeded = qbo.http.post(f"{admin}/seed", params={"customers": 20}).json()
    assert seeded["entities"]["Customer"] == 20
    qbo.get("customer/1")
    stats = qbo.http.get(f"{admin}/stats").json()
    assert stats["entities"]["Customer"] == 20
    assert stats["requests"]["read"] >= 1
    assert "accepted" in stats["throttle"]
    qbo.http.post(f"{admin}/reset").raise_for_status()
    assert qbo.http.get(f"{admin}/stats").json()["entities"]["Customer"] == 0
    assert qbo.http.post("/_sandbox/realms/123/reset").status_code == 404


def test_admin_read_bypasses_oauth(qbo: Qbo) -> None:
    customer = qbo.customer("Peeked At")
    url = f"{qbo.sandbox.base_url}/_sandbox/realms/{qbo.realm_id}/customer/{customer['Id']}"
    assert httpx.get(url).json() == {"Customer": customer}


def test_advancing_the_clock_moves_the_times_entities_get(qbo: Qbo) -> None:
    before = datetime.fromisoformat(qbo.customer("Before")["MetaData"]["CreateTime"])
    qbo.http.post("/_sandbox/clock/advance", params={"seconds": 600}).raise_for_status()
    after = datetime.fromisoformat(qbo.customer("After")["MetaData"]["CreateTime"])
    assert after - before >= timedelta(seconds=600)


def test_the_developer_app_details_show_what_intuits_portal_shows() -> None:
    config = QboSandboxConfig(webhook_urls=["http://127.0.0.1:9000/qbo/webhooks"])
    details = developer_app_details(config, "http://127.0.0.1:8765")
    for expected in (
        "http://127.0.0.1:8765/v3",
        "http://127.0.0.1:8765/.well-known/openid_configuration",
        config.client_id,
        config.client_secret,
        config.webhook_verifier_token,
        *config.redirect_uris,
        "http://127.0.0.1:9000/qbo/webhooks",
        config.realms[0].realm_id,
    ):
        assert expected in details
