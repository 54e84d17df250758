"""Topic administration: create the topics of the catalog that do not exist yet.

Works the same against the embedded tansu broker and Apache Kafka. What we measured on tansu
0.6.0 (memory storage): CreateTopics v3 with per-topic configs such as ``retention.ms=-1`` and
``cleanup.policy=compact`` is accepted and DescribeConfigs echoes the values back; but tansu
accepts *any* key (an unknown ``bogus.key`` too) and any replication factor (RF 3 on its single
node reports replicas ``[111, 111, 111]``), so acceptance there proves nothing about the
config; Apache Kafka validates both. It rejects RF > live brokers with
INVALID_REPLICATION_FACTOR, which is why :func:`ensure_topics` can clamp the replication factor
for one-node development clusters (``clamp_replication=True``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from aiokafka import AIOKafkaClient
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code
from aiokafka.protocol.metadata import MetadataRequest

__all__ = ["TopicCreationError", "TopicLike", "ensure_topics"]

log = logging.getLogger(__name__)


class TopicLike(Protocol):
    """What :func:`ensure_topics` needs from a topic spec (a dataclass, pydantic model, ...).

    Read-only properties, so frozen dataclasses and frozen models satisfy it too.
    """

    @property
    def name(self) -> str: ...

    @property
    def partitions(self) -> int: ...

    @property
    def replication(self) -> int: ...

    @property
    def config(self) -> Mapping[str, str]: ...


class TopicCreationError(RuntimeError):
    """The broker refused to create one or more topics (message lists each topic and reason)."""


def _validate(specs: Iterable[TopicLike]) -> list[TopicLike]:
    unique: dict[str, TopicLike] = {}
    for spec in specs:
        if not spec.name:
            raise ValueError("topic name must not be empty")
        if spec.partitions < 1 or spec.replication < 1:
            raise ValueError(
                f"topic {spec.name!r}: partitions and replication must be >= 1, got "
                f"{spec.partitions} and {spec.replication}"
            )
        seen = unique.get(spec.name)
        if seen is not None and (
            seen.partitions,
            seen.replication,
            dict(seen.config),
        ) != (spec.partitions, spec.replication, dict(spec.config)):
            raise ValueError(f"topic {spec.name!r} is specified twice, differently")
        unique.setdefault(spec.name, spec)
    return list(unique.values())


async def ensure_topics(
    bootstrap: str,
    specs: Iterable[TopicLike],
    *,
    clamp_replication: bool = False,
    timeout_s: float = 30.0,
) -> list[str]:
    """Create the topics in ``specs`` that do not exist yet; return the names created.

    Idempotent: existing topics are left alone (a partition count that differs from the spec
    is logged as a warning, never changed), and a concurrent creator is tolerated
    (TOPIC_ALREADY_EXISTS is not an error, that topic is just not in the result). Waits until
    every created partition has a leader, so the topics are usable on return.

    ``clamp_replication=True`` lowers each replication factor to the number of live brokers
    (for one-node development clusters); leave it off in production, where a missing broker
    must fail loudly instead of silently creating under-replicated topics.
    Raises :class:`TopicCreationError` for any other per-topic error.
    """
    wanted = _validate(specs)
    if not wanted:
        return []
    request_timeout_ms = max(1000, int(timeout_s * 1000))
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=request_timeout_ms,
        client_id="qbsync-admin",
    )
    await admin.start()
    try:
        existing = await _describe(admin, [s.name for s in wanted])
        for spec in wanted:
            have = existing.get(spec.name)
            if have is not None and have != spec.partitions:
                log.warning(
                    "topic %s exists with %d partitions, the catalog says %d; left as is",
                    spec.name,
                    have,
                    spec.partitions,
                )
        missing = [s for s in wanted if s.name not in existing]
        if not missing:
            return []

        brokers = len((await admin.describe_cluster()).get("brokers", []))
        new_topics = []
        for spec in missing:
            replication = spec.replication
            if clamp_replication and brokers and replication > brokers:
                log.info(
                    "topic %s: replication %d clamped to %d live broker(s)",
                    spec.name,
                    replication,
                    brokers,
                )
                replication = brokers
            new_topics.append(
                NewTopic(
                    name=spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=replication,
                    topic_configs={str(k): str(v) for k, v in spec.config.items()},
                )
            )
        response = await admin.create_topics(new_topics, timeout_ms=request_timeout_ms)

        created: set[str] = set()
        failures: list[str] = []
        for entry in response.topic_errors:
            topic, code = entry[0], entry[1]
            message = entry[2] if len(entry) > 2 else None
            if code == 0:
                created.add(topic)
            elif code == TopicAlreadyExistsError.errno:
                log.debug("topic %s was created concurrently", topic)
            else:
                error = for_code(code)
                failures.append(f"{topic}: {error.__name__} ({code}) {message or ''}".rstrip())
        if failures:
            raise TopicCreationError("could not create topics: " + "; ".join(failures))

        result = [s.name for s in missing if s.name in created]
        await _wait_for_leaders(
            admin, {s.name: s.partitions for s in missing if s.name in created}, timeout_s
        )
        if result:
            log.info("created topics: %s", ", ".join(result))
        return result
    finally:
        await admin.close()


async def _describe(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Partition counts of the topics in ``names`` that exist."""
    # list_topics first: a Metadata request naming a missing topic may auto-create it on
    # brokers with auto.create.topics.enable=true.
    present = set(await admin.list_topics()) & set(names)
    if not present:
        return {}
    described: list[dict[str, Any]] = await admin.describe_topics(sorted(present))
    return {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}


async def _wait_for_leaders(
    admin: AIOKafkaAdminClient, expected: Mapping[str, int], limit_s: float
) -> None:
    """Poll metadata until every partition of the created topics has a leader."""
    if not expected:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    pending = dict(expected)
    while True:
        described: list[dict[str, Any]] = await admin.describe_topics(sorted(pending))
        for topic in described:
            name = topic["topic"]
            parts = topic.get("partitions") or []
            if (
                name in pending
                and topic["error_code"] == 0
                and len(parts) >= pending[name]
                and all(p["leader"] >= 0 for p in parts)
            ):
                del pending[name]
        if not pending:
            return
        if loop.time() >= deadline:
            raise TopicCreationError(
                f"topics created but without leaders after {limit_s:.0f}s: {sorted(pending)}"
            )
        await asyncio.sleep(0.1)


async def cluster_id_of(bootstrap: str) -> str:
    """The Kafka cluster id (Metadata v2+): it names the log whose offsets a consumer tracks.

    aiokafka negotiates the Metadata version but does not keep the id, so ask for it directly.
    """
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        response = await client.send(client.get_random_node(), MetadataRequest(topics=[]))
    finally:
        await client.close()
    cluster_id = getattr(response, "cluster_id", None)
    if not cluster_id:
        raise RuntimeError(f"the broker at {bootstrap} reports no cluster id")
    return str(cluster_id)
