"""The walking skeleton on a real broker with a real worker process.

The sending side is a plain aiokafka producer with a hand-written JSON event: no project code.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from tests.support.kafka import collect
from tests.support.worker import log_tail

pytestmark = pytest.mark.broker

CRM_TOPIC = "qbsync.crm.changes.v1"
DECISIONS = "qbsync.decisions.v1"
DEAD_LETTERS = "qbsync.deadletter.v1"


def person_change(tenant: str, event_id: str) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "/pipelinecrm/accounts/42",
            "type": "qbsync.crm.person.changed.v1",
            "subject": "crm/person/7",
            "time": "2026-11-25T10:00:00Z",
            "tenant": tenant,
            "data": {
                "op": "updated",
                "after": {"id": 7, "first_name": "Ada", "email": "ada@example.com"},
                "updated_at": "2026/11/25 05:00:00 -0500",
            },
        }
    ).encode()


async def _send(bootstrap: str, messages: list[tuple[bytes | None, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(CRM_TOPIC, value, key=key)
    finally:
        await producer.stop()


async def test_crm_event_from_a_plain_producer_yields_a_decision_and_bad_ones_dead_letter(
    kafka_bootstrap: str, engine_worker: tuple, tmp_path: Path
):
    proc, log_dir = engine_worker
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    good_id, late_id = f"evt-{uuid.uuid4()}", f"evt-{uuid.uuid4()}"
    missing_field = json.dumps({"type": "qbsync.crm.person.changed.v1", "tenant": tenant}).encode()
    not_json = b"\xff\xfe this is not an event"
    await _send(
        kafka_bootstrap,
        [
            (tenant.encode(), person_change(tenant, good_id)),
            (tenant.encode(), missing_field),
            (tenant.encode(), not_json),
            (tenant.encode(), person_change(tenant, late_id)),  # after bad input: still decided
        ],
    )

    def mine(records):
        return [r for (_t, key, r) in records if key == tenant.encode()]

    def done(records):
        decided = {
            r["data"]["input_id"] for r in mine(records) if r["type"].startswith("qbsync.decision")
        }
        letters = [r for r in mine(records) if r["type"] == "qbsync.deadletter.v1"]
        return {good_id, late_id} <= decided and len(letters) >= 2

    try:
        records = await collect(kafka_bootstrap, [DECISIONS, DEAD_LETTERS], done, timeout=90)
    except TimeoutError:
        pytest.fail(f"no decision/dead letters; worker log:\n{log_tail(log_dir)}")

    decisions = [r for r in mine(records) if r["data"].get("input_id") == good_id]
    assert decisions[0]["type"] == "qbsync.decision.input.ignored.v1"
    assert decisions[0]["causationid"] == good_id
    letters = {
        base64.b64decode(r["data"]["value_b64"]): r
        for r in mine(records)
        if r["type"] == "qbsync.deadletter.v1"
    }
    assert set(letters) == {missing_field, not_json}  # the original bytes, exactly
    fields = {e["field"] for e in letters[missing_field]["data"]["errors"]}
    assert {"id", "source", "time", "data"} <= fields
    assert "id: Field required" in letters[missing_field]["data"]["reason"]
    assert letters[not_json]["data"]["value_text"] is None
    assert letters[not_json]["data"]["source_topic"] == CRM_TOPIC
    assert proc.poll() is None, "the worker must survive bad input"
