"""A producer written with another Kafka client (confluent-kafka), knowing only the README.

The event is the JSON example of the README, taken from the README itself: if the documented
example stops being accepted, this test fails.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Producer

from tests.support.kafka import collect

pytestmark = pytest.mark.broker
README = Path(__file__).parents[2] / "README.md"


def readme_example() -> dict:
    section = README.read_text().split("## Publishing CRM change events", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.S)
    assert block, "the README's publishing section has no JSON example"
    return json.loads(block.group(1))


async def test_the_readme_example_published_with_confluent_kafka_is_accepted_by_the_engine(
    kafka_bootstrap: str, engine_worker: tuple
):
    event = readme_example()
    event["id"] = f"readme-{uuid.uuid4()}"  # the example's id, made unique for this run
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "acks": "all"})
    delivered: list[object] = []
    producer.produce(
        "qbsync.crm.changes.v1",
        key=event["tenant"].encode(),
        value=json.dumps(event).encode(),
        on_delivery=lambda err, msg: delivered.append(err),
    )
    producer.flush(30)
    assert delivered == [None]

    def answered(records):
        return [
            r
            for (_t, _k, r) in records
            if r.get("causationid") == event["id"]
            or r.get("data", {}).get("input_id") == event["id"]
            or event["id"] in (r.get("data", {}).get("value_text") or "")  # a dead letter of it
        ]

    records = await collect(
        kafka_bootstrap,
        ["qbsync.decisions.v1", "qbsync.deadletter.v1"],
        lambda rs: bool(answered(rs)),
        timeout=60,
    )
    [answer] = answered(records)
    assert answer["type"].startswith("qbsync.decision."), answer  # accepted, not dead-lettered
    assert answer["tenant"] == event["tenant"]
