"""The v1 wire contract: golden fixtures round-trip, and bad events are refused naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas.catalog import EVENT_TYPES, EventRejected, decode, encode
from schemas.crm import CrmPersonChanged
from schemas.topics import TOPICS, topic_for

FIXTURES = Path(__file__).parents[2] / "schemas" / "fixtures"
FIXTURE_FILES = sorted(FIXTURES.glob("*.json"))


def _fixture(wire_type: str) -> dict:
    return json.loads((FIXTURES / f"{wire_type}.json").read_text())


def test_every_catalog_type_has_a_golden_fixture_and_no_fixture_is_orphaned():
    assert {f.stem for f in FIXTURE_FILES} == set(EVENT_TYPES)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_golden_fixture_round_trips_without_losing_a_value(path: Path):
    original = path.read_bytes()
    event = decode(original)
    assert event.type == path.stem
    again = decode(encode(event))
    assert again == event
    assert encode(again) == encode(event)


def test_unknown_crm_keys_survive_the_round_trip():
    doc = _fixture("qbsync.crm.person.changed.v1")
    doc["data"]["after"]["linked_in_url"] = "https://linkedin.example/jsmith"
    event = decode(json.dumps(doc))
    assert json.loads(encode(event))["data"]["after"]["linked_in_url"] == (
        "https://linkedin.example/jsmith"
    )


def test_crm_slash_timestamps_are_read_with_their_offset():
    event = decode(json.dumps(_fixture("qbsync.crm.person.changed.v1")))
    assert isinstance(event, CrmPersonChanged)
    assert event.data.updated_at.isoformat() == "2026-11-24T16:02:11-05:00"


@pytest.mark.parametrize(
    ("mutate", "field", "message_part"),
    [
        (lambda d: d["data"]["after"].pop("id"), "data.after.id", "Field required"),
        (lambda d: d.update(tenant="has space"), "tenant", "pattern"),
        (lambda d: d.update(type="qbsync.crm.person.exploded.v1"), "type", "unknown event type"),
        (lambda d: d.pop("type"), "type", "Field required"),
        (lambda d: d.update(colour="red"), "colour", "Extra inputs are not permitted"),
        (lambda d: d["data"].update(op="upserted"), "data.op", "Input should be"),
        (lambda d: d.update(time="yesterday"), "time", "datetime"),
        (lambda d: d["data"].update(updated_at="2026-11-24T10:00:00"), "data.updated_at", "zone"),
    ],
    ids=[
        "missing-person-id",
        "bad-tenant",
        "unknown-type",
        "missing-type",
        "extra-envelope-field",
        "bad-op",
        "bad-time",
        "naive-timestamp",
    ],
)
def test_an_invalid_event_is_rejected_with_a_message_naming_the_field(mutate, field, message_part):
    doc = _fixture("qbsync.crm.person.changed.v1")
    mutate(doc)
    with pytest.raises(EventRejected) as caught:
        decode(json.dumps(doc))
    fields = {e.field: e.message for e in caught.value.errors}
    assert field in fields, caught.value.errors
    assert message_part.lower() in fields[field].lower()
    assert field in caught.value.reason


@pytest.mark.parametrize("raw", [b"", b"not json", b"\xff\xfe\x00", b"[1, 2]", b"null"])
def test_bytes_that_are_not_a_json_object_are_rejected_clearly(raw: bytes):
    with pytest.raises(EventRejected) as caught:
        decode(raw)
    assert caught.value.errors[0].field == "(document)"


def test_envelopes_are_immutable():
    event = decode(json.dumps(_fixture("qbsync.crm.person.changed.v1")))
    with pytest.raises(ValueError, match="frozen"):
        event.tenant = "other"  # type: ignore[misc]


def test_every_type_travels_on_exactly_one_topic_and_every_topic_keeps_history():
    carried = [t for spec in TOPICS for t in spec.type_names]
    assert sorted(carried) == sorted(EVENT_TYPES)
    for cls in EVENT_TYPES.values():
        assert topic_for(cls).name.startswith("qbsync.")
    assert all(spec.config["retention.ms"] == "-1" for spec in TOPICS)


def test_wire_type_strings_are_stable_versioned_and_not_python_paths():
    for wire_type in EVENT_TYPES:
        assert wire_type.startswith("qbsync.")
        assert wire_type.rsplit(".", 1)[-1] == "v1"
        assert "_" not in wire_type.split(".")[1]


def test_an_import_summary_on_the_wire_keeps_at_most_500_entries_per_list_and_says_so():
    from schemas.imports import ConflictKept, ImportSummary

    conflict = ConflictKept(
        person_id=1,
        customer_id="1",
        crm_field="phone",
        qbo_field="PrimaryPhone.FreeFormNumber",
        crm_value="555-1234" * 20,
        qbo_value="555-9999" * 20,
    )
    summary = ImportSummary(
        customers_read=10_000, linked_existing=0, people_created=0, companies_created=0,
        skipped=(), ambiguous=(), conflicts=(conflict,) * 6000, invoices_imported=0,
        estimates_imported=0, errors=(), duration_s=1.0, api_calls=10,
    )  # fmt: skip
    capped = summary.capped()
    assert (len(capped.conflicts), capped.omitted) == (500, {"conflicts": 5500})
    assert capped.customers_read == 10_000
    assert summary.capped() == capped  # the original is untouched
    assert len(capped.model_dump_json()) < 1_000_000 < len(summary.model_dump_json())
