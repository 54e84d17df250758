"""`qbsync schemas export`: JSON Schema per type (checked with the independent `jsonschema`
package) and an AsyncAPI document of the topic catalog; the committed copies stay current."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from schemas.catalog import EVENT_TYPES
from schemas.export import asyncapi_document, export_all, json_schema_for
from schemas.topics import TOPICS

REPO = Path(__file__).parents[2]
COMMITTED = REPO / "schemas" / "json"
FIXTURES = REPO / "schemas" / "fixtures"

# Written by hand from the README, not produced by our models.
HAND_WRITTEN_PERSON_CHANGE = {
    "specversion": "1.0",
    "id": "evt-0001",
    "source": "/pipelinecrm/accounts/42",
    "type": "qbsync.crm.person.changed.v1",
    "subject": "crm/person/7",
    "time": "2026-11-25T10:00:00Z",
    "tenant": "globex",
    "data": {
        "op": "created",
        "after": {"id": 7, "first_name": "Ada", "email": "ada@globex.example", "phone": None},
        "updated_at": "2026/11/25 05:00:00 -0500",
    },
}


def _validator(wire_type: str) -> jsonschema.protocols.Validator:
    schema = json_schema_for(wire_type)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_exported_schema_accepts_a_hand_written_event():
    _validator("qbsync.crm.person.changed.v1").validate(HAND_WRITTEN_PERSON_CHANGE)


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d["data"]["after"].pop("id"),
        lambda d: d.pop("tenant"),
        lambda d: d.update(unexpected=True),
        lambda d: d["data"].update(op="merged"),
    ],
    ids=["no-person-id", "no-tenant", "extra-field", "bad-op"],
)
def test_exported_schema_rejects_what_the_models_reject(breakage):
    doc = json.loads(json.dumps(HAND_WRITTEN_PERSON_CHANGE))
    breakage(doc)
    with pytest.raises(jsonschema.ValidationError):
        _validator("qbsync.crm.person.changed.v1").validate(doc)


@pytest.mark.parametrize("wire_type", sorted(EVENT_TYPES))
def test_every_golden_fixture_is_valid_against_its_exported_schema(wire_type: str):
    fixture = json.loads((FIXTURES / f"{wire_type}.json").read_text())
    _validator(wire_type).validate(fixture)


def test_committed_schema_files_match_a_fresh_export(tmp_path: Path):
    written = export_all(tmp_path)
    fresh = {p.name: p.read_text() for p in written}
    committed = {p.name: p.read_text() for p in COMMITTED.glob("*.json")}
    stale = sorted(n for n in fresh.keys() | committed.keys() if fresh.get(n) != committed.get(n))
    assert not stale, f"run `qbsync schemas export schemas/json`; stale: {stale}"


def test_asyncapi_document_names_every_topic_with_its_messages_and_resolvable_refs():
    doc = asyncapi_document()
    assert doc["asyncapi"].startswith("3.")
    assert set(doc["channels"]) == {t.name for t in TOPICS}
    messages = doc["components"]["messages"]
    assert set(messages) == set(EVENT_TYPES)
    for spec in TOPICS:
        channel = doc["channels"][spec.name]
        assert channel["bindings"]["kafka"]["topicConfiguration"]["retention.ms"] == -1
        for ref in channel["messages"].values():
            assert ref["$ref"].removeprefix("#/components/messages/") in messages
    schemas = doc["components"]["schemas"]
    for message in messages.values():
        assert message["payload"]["$ref"].removeprefix("#/components/schemas/") in schemas
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
        assert message["examples"][0]["key"] == message["examples"][0]["payload"]["tenant"]
