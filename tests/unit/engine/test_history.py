"""engine/history.py: what one event says about the history of a record (issue 7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine.history import HistoryEntry, as_of, diff, entries_of, flatten
from schemas.decisions import FieldChange
from tests.projections.events import event, golden, qbo_customer_changed

T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
PERSON = golden("qbsync.crm.person.changed.v1")["data"]["after"]


def nothing_known(_kind: str, _record_id: str) -> None:
    return None


def person_changed(event_id: str, at: datetime, before: Any = None, **after: Any):
    return event(
        "qbsync.crm.person.changed.v1",
        id=event_id,
        time=at,
        data={"after": PERSON | after, "before": before},
    )


def test_a_crm_change_lists_the_fields_that_differ_from_the_last_crm_snapshot():
    known = PERSON | {"phone": "555-1234", "website": "https://old.example"}
    (entry,) = entries_of(person_changed("e1", T0, phone=None), lambda _k, _i: known)
    assert (entry.kind, entry.record_id, entry.source) == ("person", "4211", "crm")
    assert entry.changes == (
        FieldChange(field="phone", before="555-1234", after=None),
        FieldChange(field="website", before="https://old.example", after=PERSON["website"]),
    )
    assert entry.snapshot is not None and entry.snapshot["phone"] is None


def test_without_a_known_snapshot_the_events_own_before_is_the_base():
    (entry,) = entries_of(person_changed("e1", T0, before=PERSON, phone="555-9999"), nothing_known)
    assert entry.changes == (FieldChange(field="phone", before="555-1234", after="555-9999"),)


def test_a_first_sighting_without_any_before_lists_no_changes_but_keeps_the_snapshot():
    (entry,) = entries_of(person_changed("e1", T0), nothing_known)
    assert entry.changes == ()
    assert entry.summary == "person first seen in the CRM"
    assert entry.snapshot is not None and entry.snapshot["phone"] == "555-1234"


def test_versions_and_timestamps_are_not_changes():
    before = {"Id": "58", "SyncToken": "3", "MetaData": {"LastUpdatedTime": "a"}, "Notes": "x"}
    after = {"Id": "58", "SyncToken": "4", "MetaData": {"LastUpdatedTime": "b"}, "Notes": "x"}
    assert diff(before, after) == ()
    assert "updated_at" not in flatten(PERSON)


def test_nested_qbo_fields_are_compared_by_dotted_path():
    changed = qbo_customer_changed("58", "6", PrimaryPhone={"FreeFormNumber": "555-7777"})
    base = changed.data.entity.model_dump(mode="json") | {"PrimaryPhone": None}
    (entry,) = entries_of(changed, lambda _k, _i: base)
    assert entry.kind == "customer" and entry.source == "qbo"
    assert entry.changes == (
        FieldChange(field="PrimaryPhone.FreeFormNumber", before=None, after="555-7777"),
    )


def test_an_engine_write_to_the_crm_is_a_person_change_caused_by_its_input_with_the_command():
    synced = event("qbsync.decision.link.synced.v1")
    (entry,) = entries_of(synced, nothing_known)
    assert (entry.kind, entry.record_id, entry.source) == ("person", "4211", "engine")
    assert entry.cause_id == "qbo-customer-58-v5" and entry.cause_kind == "event"
    assert entry.command_id == synced.data.command_id
    assert FieldChange(field="phone", before="555-1234", after=None) in entry.changes
    assert entry.snapshot is None  # what the engine plans is not what the CRM reported


def test_an_engine_write_to_qbo_is_a_customer_change():
    synced = event(
        "qbsync.decision.link.synced.v1",
        data={"written_side": "qbo", "changes": [{"field": "X", "before": None, "after": "y"}]},
    )
    (entry,) = entries_of(synced, nothing_known)
    assert (entry.kind, entry.record_id) == ("customer", "58")


def test_a_link_made_by_an_import_names_the_import_as_the_cause_on_both_records():
    made = event("qbsync.decision.link.made.v1", data={"import_request_id": "import-1"})
    entries = entries_of(made, nothing_known)
    assert {(e.kind, e.cause_id, e.cause_kind) for e in entries} == {
        ("person", "import-1", "import"),
        ("customer", "import-1", "import"),
    }


def test_a_lost_concurrent_change_is_kept_as_an_engine_entry():
    observed = event(
        "qbsync.decision.link.observed.v1",
        data={
            "side": "crm",
            "conflicts": [
                {
                    "rule": "concurrent_change",
                    "crm_field": "phone",
                    "qbo_field": "PrimaryPhone.FreeFormNumber",
                    "crm_value": "555-1",
                    "qbo_value": "555-2",
                    "kept": "qbo",
                }
            ],
        },
    )
    (entry,) = entries_of(observed, nothing_known)
    assert entry.changes == (FieldChange(field="phone", before="555-2", after="555-1"),)


def test_events_about_no_record_make_no_entries():
    assert entries_of(event("qbsync.decision.input.applied.v1"), nothing_known) == ()


def test_as_of_is_the_home_systems_last_snapshot_at_or_before_the_time():
    def crm(at: datetime, phone: str | None, deleted: bool = False) -> HistoryEntry:
        return HistoryEntry(
            kind="person",
            record_id="1",
            at=at,
            source="crm",
            event_id=str(at),
            event_type="t",
            summary="s",
            snapshot=None if deleted else {"phone": phone},
            deleted=deleted,
        )

    engine = HistoryEntry(
        kind="person",
        record_id="1",
        at=T0 + timedelta(minutes=1),
        source="engine",
        event_id="x",
        event_type="t",
        summary="s",
        snapshot={"phone": "planned"},
    )
    later = T0 + timedelta(hours=1)
    entries = [
        crm(T0, "555-1234"),
        engine,
        crm(later, None),
        crm(later + timedelta(days=1), None, True),
    ]
    assert as_of(entries, "person", T0 - timedelta(seconds=1)) is None
    assert as_of(entries, "person", T0 + timedelta(minutes=30)) == {"phone": "555-1234"}
    assert as_of(entries, "person", later) == {"phone": None}
    assert as_of(entries, "person", later + timedelta(days=2)) is None
