"""The history projection and its reader (issue 7), on SQLite and PostgreSQL: the vendor's Jane
Smith story told by the events, read back as one timeline with causes, echoes and `as_of`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from projections.history_queries import records_caused_by
from projections.queries import ProjectionReader
from tests.projections.events import Feed, event, golden, qbo_customer_changed

TENANT = "acme-co"
T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
PERSON = golden("qbsync.crm.person.changed.v1")["data"]["after"] | {
    "phone": "555-1234",
    "website": "https://johnsmith.example",
}
COMMAND = "5b1e2f0a-8d7c-5e3b-9a61-2c4d8e0f1a22"


def crm_change(event_id: str, at: datetime, tenant: str = TENANT, **fields: Any):
    return event(
        "qbsync.crm.person.changed.v1",
        id=event_id,
        time=at,
        tenant=tenant,
        data={"after": PERSON | fields, "before": None, "op": "updated"},
    )


def story() -> list[Any]:
    """John Smith seen in the CRM; renamed Jane in QBO; the engine overwrites the CRM (phone and
    website cleared); the CRM reports that write back."""
    seen = crm_change("crm-1", T0)
    renamed = qbo_customer_changed("58", "5", DisplayName="Jane Smith", GivenName="Jane")
    renamed = renamed.model_copy(update={"time": T0 + timedelta(minutes=10)})
    synced = event(
        "qbsync.decision.link.synced.v1",
        id="dec-synced",
        time=T0 + timedelta(minutes=10, seconds=1),
        data={
            "input_id": renamed.id,
            "command_id": COMMAND,
            "changes": [
                {"field": "first_name", "before": "John", "after": "Jane"},
                {"field": "full_name", "before": "John Smith", "after": "Jane Smith"},
                {"field": "phone", "before": "555-1234", "after": None},
                {"field": "website", "before": "https://johnsmith.example", "after": None},
            ],
        },
    )
    echo = crm_change(
        "crm-2",
        T0 + timedelta(minutes=10, seconds=2),
        first_name="Jane",
        full_name="Jane Smith",
        phone=None,
        website=None,
    )
    return [seen, renamed, synced, echo]


def test_the_timeline_shows_the_phone_cleared_by_the_qbo_change_with_its_cause(feed: Feed, db):
    events = story()
    feed(*events)
    found = ProjectionReader(db).history(TENANT, "person", "4211")
    assert found is not None
    assert [e.event_id for e in found.entries] == ["crm-1", "dec-synced", "crm-2"]
    first, write, echo = found.entries
    assert first.source == "crm" and first.changes == []  # first sighting
    assert write.source == "engine" and write.command_id == COMMAND
    cleared = {c.field: (c.before, c.after) for c in write.changes}
    assert cleared["phone"] == ("555-1234", None)
    assert write.cause is not None and write.cause.id == events[1].id
    assert write.cause.type == "qbsync.qbo.customer.changed.v1"
    assert write.cause.summary == "customer first seen in QBO"
    # The CRM's report of the write is attributed to the engine's command, not to a person.
    assert echo.reported_by == "crm" and echo.source == "engine" and echo.echo_of == COMMAND
    assert {c.field for c in echo.changes} == {"first_name", "full_name", "phone", "website"}
    assert found.record is not None and found.record["phone"] is None


def test_as_of_gives_the_record_before_the_qbo_overwrite(feed: Feed, db):
    feed(*story())
    before = ProjectionReader(db).history(TENANT, "person", "4211", T0 + timedelta(minutes=5))
    assert before is not None
    assert [e.event_id for e in before.entries] == ["crm-1"]
    assert before.record is not None
    assert (before.record["phone"], before.record["website"]) == (
        "555-1234",
        "https://johnsmith.example",
    )


def test_a_crm_edit_that_is_not_the_engines_write_stays_the_crms(feed: Feed, db):
    jane = {"first_name": "Jane", "full_name": "Jane Smith", "website": None}
    feed(*story(), crm_change("crm-3", T0 + timedelta(hours=1), phone="555-7777", **jane))
    found = ProjectionReader(db).history(TENANT, "person", "4211")
    assert found is not None
    last = found.entries[-1]
    assert (last.source, last.echo_of) == ("crm", None)
    assert [(c.field, c.before, c.after) for c in last.changes] == [("phone", None, "555-7777")]


def test_an_event_delivered_twice_is_one_entry_and_does_not_move_the_base(feed: Feed, db):
    events = story()
    feed(*events)
    feed(events[-1])  # the echo again, at a later offset
    found = ProjectionReader(db).history(TENANT, "person", "4211")
    assert found is not None and len(found.entries) == 3


def test_what_one_qbo_change_touched_is_found_by_its_cause(feed: Feed, db):
    events = story()
    feed(*events)
    with db.reading() as conn:
        assert records_caused_by(conn, TENANT, events[1].id) == [
            ("customer", "58"),
            ("person", "4211"),
        ]


def test_one_tenant_never_reads_anothers_history(feed: Feed, db):
    feed(crm_change("other-1", T0, tenant="beta-co"))
    assert ProjectionReader(db).history(TENANT, "person", "4211") is None
    assert ProjectionReader(db).history("beta-co", "person", "4211") is not None
