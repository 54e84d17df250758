"""Event histories for the export tests: a known sequence of one tenant's events, built from the
golden fixtures, with the field-change rows it must give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.envelope import Envelope
from tests.projections.events import event, golden, qbo_customer_changed

T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)


def person_changed(
    tenant: str, n: int, *, phone: str, before: dict[str, Any] | None = None, **fields: Any
) -> Envelope:
    """CRM person 4211 as the CRM reports it, with this phone (its n-th change)."""
    after = golden("qbsync.crm.person.changed.v1")["data"]["after"] | {"phone": phone, **fields}
    return event(
        "qbsync.crm.person.changed.v1",
        id=f"{tenant}-crm-person-4211-{n}",
        tenant=tenant,
        data={"op": "updated" if n else "created", "after": after, "before": before},
    )


def history(tenant: str) -> list[Envelope]:
    """Nine events of `tenant` on five topics, the i-th at T0 + i minutes.

    Field changes they give: the phone of person 4211 (555-1234 -> 555-9999), then the engine's
    two writes of the golden LinkSynced (first_name, phone), then customer 58's DisplayName."""
    events = [
        person_changed(tenant, 0, phone="555-1234"),  # first seen: no change rows
        person_changed(tenant, 1, phone="555-9999"),  # phone
        qbo_customer_changed("58", "3", tenant=tenant),  # first seen: no change rows
        event("qbsync.request.import.v1", tenant=tenant, id=f"{tenant}-import"),
        event("qbsync.decision.link.synced.v1", tenant=tenant, id=f"{tenant}-synced"),
        event("qbsync.command.qbo.customer.update.v1", tenant=tenant, id=f"{tenant}-cmd"),
        event("qbsync.outcome.succeeded.v1", tenant=tenant, id=f"{tenant}-ok"),
        event("qbsync.decision.input.ignored.v1", tenant=tenant, id=f"{tenant}-ignored"),
        qbo_customer_changed("58", "4", tenant=tenant, DisplayName="Jane Q. Smith"),
    ]
    return [e.model_copy(update={"time": T0 + timedelta(minutes=i)}) for i, e in enumerate(events)]


# (record_kind, record_id, source, field, before, after) of history(tenant), in order.
EXPECTED_CHANGES = [
    ("person", "4211", "crm", "phone", "555-1234", "555-9999"),
    ("person", "4211", "engine", "first_name", "John", "Jane"),
    ("person", "4211", "engine", "phone", "555-1234", None),
    ("customer", "58", "qbo", "DisplayName", "Jane Smith", "Jane Q. Smith"),
]
