"""ensure_topics against the session broker (embedded tansu, testcontainers Kafka or env)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.protocol.admin import CreateTopicsResponse_v3

from streams.admin import TopicCreationError, ensure_topics

pytestmark = pytest.mark.broker


@dataclass(frozen=True)
class Spec:
    name: str
    partitions: int
    replication: int = 1
    config: Mapping[str, str] = field(default_factory=dict)


async def _configs(bootstrap: str, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)]
        )
    finally:
        await admin.close()
    (resource,) = response.resources
    return {entry[0]: entry[1] for entry in resource[4]}


async def test_retention_forever_is_accepted_and_stored(kafka_bootstrap: str) -> None:
    name = f"history-{uuid.uuid4().hex[:8]}"
    spec = Spec(name, partitions=3, config={"retention.ms": "-1", "cleanup.policy": "delete"})
    assert await ensure_topics(kafka_bootstrap, [spec], clamp_replication=True) == [name]
    configs = await _configs(kafka_bootstrap, name)
    assert configs["retention.ms"] == "-1"
    assert configs["cleanup.policy"] == "delete"
    assert await ensure_topics(kafka_bootstrap, [spec]) == []


async def test_conflicting_duplicate_specs_are_rejected(kafka_bootstrap: str) -> None:
    with pytest.raises(ValueError, match="specified twice"):
        await ensure_topics(kafka_bootstrap, [Spec("dup", 1), Spec("dup", 2)])


async def test_broker_errors_are_raised(
    kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Apache Kafka refuses e.g. RF > brokers or a name like "bad name!"; tansu accepts both,
    # so the refusal is simulated: the per-topic error must surface, TOPIC_ALREADY_EXISTS not.
    ok, dup, bad = (f"{p}-{uuid.uuid4().hex[:8]}" for p in ("ok", "dup", "bad"))

    async def refusing_create_topics(
        self: AIOKafkaAdminClient, new_topics: list[NewTopic], timeout_ms: int | None = None
    ) -> CreateTopicsResponse_v3:
        return CreateTopicsResponse_v3(
            throttle_time_ms=0,
            topic_errors=[
                (ok, 0, None),
                (dup, 36, "Topic with this name already exists."),
                (bad, 38, "Replication factor: 3 larger than available brokers: 1."),
            ],
        )

    monkeypatch.setattr(AIOKafkaAdminClient, "create_topics", refusing_create_topics)
    with pytest.raises(TopicCreationError) as info:
        await ensure_topics(kafka_bootstrap, [Spec(ok, 1), Spec(dup, 1), Spec(bad, 1, 3)])
    message = str(info.value)
    assert bad in message and "InvalidReplicationFactor" in message
    assert ok not in message and dup not in message


async def test_the_cluster_id_names_the_broker_log(kafka_bootstrap: str) -> None:
    from streams.admin import cluster_id_of

    first = await cluster_id_of(kafka_bootstrap)
    assert first and first == await cluster_id_of(kafka_bootstrap)


def test_each_start_of_an_in_memory_broker_is_a_new_log_with_a_new_cluster_id() -> None:
    import asyncio

    from streams.admin import cluster_id_of
    from streams.broker import EmbeddedBroker

    ids = []
    for _ in range(2):
        with EmbeddedBroker() as broker:
            ids.append(asyncio.run(cluster_id_of(broker.bootstrap)))
            assert ids[-1] == broker.cluster_id
    assert ids[0] != ids[1] and all(i.startswith("qbsync-mem-") for i in ids)
