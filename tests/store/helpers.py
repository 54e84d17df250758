"""Builders shared by the store contract cases."""

from __future__ import annotations

from typing import Any

from schemas.requests import Actor
from store import KafkaPosition, QbsyncStore
from store import installation as inst
from store.customer_link import CustomerLink, record_link_decision
from store.installation import Installation
from tests.unit.engine.link_decisions import made

TENANT = "acme-co"
ADMIN = Actor(user_id=7, is_admin=True)
BASIC = Actor(user_id=8, is_admin=False)
REALM = "9130357"
INPUT_TOPIC = "qbsync.input"
CLUSTER = "qbsync-test-cluster"


def at(
    offset: int, partition: int = 0, topic: str = INPUT_TOPIC, cluster: str = CLUSTER
) -> KafkaPosition:
    return KafkaPosition(cluster=cluster, topic=topic, partition=partition, offset=offset)


def installed(store: QbsyncStore, *, connected: bool = True, tenant: str = TENANT) -> Installation:
    store.record(inst.install(tenant, 4242, ADMIN))
    installation = store.installation(tenant)
    assert installation is not None
    if connected:
        store.record(inst.connect(installation, ADMIN, REALM))
        installation = store.installation(tenant)
        assert installation is not None
    return installation


def crm_person(person_id: int, **fields: Any) -> dict[str, Any]:
    return {"id": person_id, "first_name": "John", "last_name": "Smith", **fields}


def qbo_customer(customer_id: str, sync_token: str = "0", **fields: Any) -> dict[str, Any]:
    return {"Id": customer_id, "SyncToken": sync_token, "DisplayName": "John Smith", **fields}


def linked(
    store: QbsyncStore, person_id: int = 101, customer_id: str = "58", tenant: str = TENANT
) -> CustomerLink:
    decision = made(
        tenant=tenant,
        person_id=person_id,
        customer_id=customer_id,
        realm_id=REALM,
        crm=crm_person(person_id, phone="555-1234"),
        qbo=qbo_customer(customer_id),
    )
    store.record(record_link_decision(store.link(tenant, person_id), decision))
    link = store.link(tenant, person_id)
    assert link is not None
    return link


def full_summary(**changes: Any) -> dict[str, Any]:
    """A summary with every figure of SYNC-RULES 4.8."""
    summary: dict[str, Any] = {
        "customers_read": 12,
        "linked_existing": 7,
        "people_created": 3,
        "companies_created": 2,
        "skipped": [{"customer_id": "77", "name": "No Mail Ltd"}],
        "ambiguous": [
            {"email": "a@x.test", "side": "crm", "linked_id": "101", "other_ids": ["140"]}
        ],
        "conflicts": [
            {
                "person_id": 101,
                "customer_id": "58",
                "crm_field": "phone",
                "qbo_field": "PrimaryPhone.FreeFormNumber",
                "crm_value": "555-1234",
                "qbo_value": "555-9999",
            }
        ],
        "invoices_imported": 30,
        "estimates_imported": 4,
        "errors": [{"record": "qbo/customer/90", "reason": "CRM answered 500 three times"}],
        "duration_s": 12.5,
        "api_calls": 41,
    }
    summary.update(changes)
    return summary
