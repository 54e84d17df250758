"""The history projection and its reader (issue 7), on SQLite and PostgreSQL: the vendor's Jane
Smith story told by the events, read back as one timeline with causes, echoes and `as_of`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine.restore import FieldFilter
from projections.history_queries import records_caused_by
from projections.queries import ProjectionReader
from projections.restore_plan import plan_restore, requests_for
from schemas.requests import Actor
from tests.projections.events import Feed, event, golden, qbo_customer_changed

TENANT = "acme-co"
T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
PERSON = golden("qbsync.crm.person.changed.v1")["data"]["after"] | {
    "phone": "555-1234",
    "website": "https://johnsmith.example",
}
COMMAND = "5b1e2f0a-8d7c-5e3b-9a61-2c4d8e0f1a22"
JANE = {"first_name": "Jane", "full_name": "Jane Smith", "phone": None, "website": None}


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
            "crm": PERSON | JANE,
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


# --- planning a restore from the history -------------------------------------------------------


def _linked_story() -> list[Any]:
    made = event("qbsync.decision.link.made.v1", id="dec-made", time=T0 + timedelta(seconds=5))
    seen, renamed, synced, echo = story()
    return [seen, made, renamed, synced, echo]


def test_a_restore_plan_puts_back_what_the_qbo_change_cleared(feed: Feed, db):
    events = _linked_story()
    feed(*events)
    with db.reading() as conn:
        plan = plan_restore(conn, TENANT, "qbo_change", events[2].id, T0 + timedelta(minutes=5))
    [person] = plan.people
    assert person.person_id == 4211 and person.customer_id == "58" and person.skipped is None
    restored = {c.field: (c.now, c.restored) for c in person.changes}
    assert restored["phone"] == (None, "555-1234")
    assert restored["website"] == (None, "https://johnsmith.example")
    assert restored["first_name"] == ("Jane", "John")
    assert person.values == {c.field: c.restored for c in person.changes}


def test_only_cleared_keeps_the_rest_of_the_later_change(feed: Feed, db):
    events = _linked_story()
    feed(*events)
    with db.reading() as conn:
        plan = plan_restore(
            conn,
            TENANT,
            "record",
            "person/4211",
            T0 + timedelta(minutes=5),
            FieldFilter(only_cleared=True),
        )
    [person] = plan.people
    assert {c.field for c in person.changes} == {"phone", "website"}
    with db.reading() as conn:
        named = plan_restore(
            conn,
            TENANT,
            "record",
            "customer/58",
            T0 + timedelta(minutes=5),
            FieldFilter(fields=frozenset({"phone"})),
        )
    assert [c.field for c in named.people[0].changes] == ["phone"]


def test_a_time_before_the_history_knew_the_person_is_skipped_with_the_reason(feed: Feed, db):
    events = _linked_story()
    feed(*events)
    with db.reading() as conn:
        plan = plan_restore(conn, TENANT, "record", "person/4211", T0 - timedelta(days=1))
    assert plan.people[0].skipped is not None and "no CRM record" in plan.people[0].skipped
    assert plan.to_request == []


def test_a_restore_sends_one_request_per_person_with_ids_that_make_a_retry_the_same(feed, db):
    events = _linked_story()
    feed(*events)
    with db.reading() as conn:
        plan = plan_restore(conn, TENANT, "qbo_change", events[2].id, T0 + timedelta(minutes=5))
    admin = Actor(user_id=1, is_admin=True)
    first = requests_for(plan, admin, "restore-1", "/test", T0)
    again = requests_for(plan, admin, "restore-1", "/test", T0 + timedelta(hours=1))
    assert [r.id for r in first] == [r.id for r in again]
    assert first[0].data.values["phone"] == "555-1234"
    assert first[0].data.scope == "qbo_change" and first[0].data.scope_id == events[2].id
