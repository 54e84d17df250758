"""Publish one request and follow what the engine says about it: shared by the CLI commands.

A request goes to `qbsync.requests.v1` (keyed by tenant). To see the answer, a consumer is first
positioned at the end of the topics the answer can come on (`qbsync.decisions.v1`, and for
commands that reach QBO `qbsync.outcomes.v1`), *then* the request is published, then every event
published after that moment is shown to a `judge` until it returns a result. There is no consumer
group: the CLI reads, it never commits. Kafka and the schemas load when a command runs, so
`qbsync --help` stays quick.

Exit codes shared by the commands: 0 done (or requested, with --no-wait), 1 failed, 2 usage,
3 denied (or ignored: the engine will not do it), 4 no answer within --timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import typer

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer

    from schemas.envelope import Envelope

    T = TypeVar("T")
    Judge = Callable[[Envelope], T | None]
    """Looks at one event published after the request: the final result, or None to read on."""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_DENIED = 3
EXIT_TIMEOUT = 4
SOURCE = "/qbsync/cli"
DECISIONS = "qbsync.decisions.v1"  # schemas.topics.DECISIONS_TOPIC.name (checked by the tests)
OUTCOMES = "qbsync.outcomes.v1"  # schemas.topics.OUTCOMES_TOPIC.name


class TopicMissing(RuntimeError):
    """A topic the answer comes on does not exist: the engine has never run on this cluster."""


def kafka_bootstrap() -> str:
    """QBSYNC_KAFKA_BOOTSTRAP, or a usage error (exit 2) saying it is missing."""
    from qbsync.config import Settings

    bootstrap = Settings().kafka_bootstrap
    if not bootstrap:
        typer.echo("QBSYNC_KAFKA_BOOTSTRAP is not set (or use `qbsync up`).", err=True)
        raise typer.Exit(EXIT_USAGE)
    return bootstrap


async def from_now(bootstrap: str, topics: Sequence[str] = (DECISIONS,)) -> AIOKafkaConsumer:
    """A consumer on every partition of `topics`, positioned at their ends *now*."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=200,  # the embedded broker answers multi-partition fetches at the wait
    )
    try:
        await consumer.start()
        assigned: list[TopicPartition] = []
        for topic in topics:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                await consumer.topics()  # fetches the metadata
                partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                raise TopicMissing(f"topic {topic} does not exist: is the engine running?")
            assigned += [TopicPartition(topic, partition) for partition in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_end(*assigned)
        for partition in assigned:  # resolve the end offsets before the request is published
            await consumer.position(partition)
    except BaseException:
        await consumer.stop()
        raise
    return consumer


async def follow(consumer: AIOKafkaConsumer, judge: Judge[T], timeout_s: float) -> T | None:
    """Show each event read to `judge` until it returns a result; None after `timeout_s`."""
    from schemas.catalog import EventRejected, decode

    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        batches = await consumer.getmany(timeout_ms=max(1, int(min(left, 0.5) * 1000)))
        for records in batches.values():
            for record in records:
                try:
                    event = decode(record.value or b"")
                except EventRejected:
                    continue
                result = judge(event)
                if result is not None:
                    return result
    return None


async def publish_and_follow(
    bootstrap: str,
    request: Envelope | Sequence[Envelope],
    judge: Judge[T] | None,
    *,
    topics: Sequence[str] = (DECISIONS,),
    timeout_s: float,
) -> T | None:
    """Publish `request` (or several, in order) to the requests topic (acknowledged, acks=all)
    and, unless `judge` is None (--no-wait), follow `topics` from just before it until `judge`
    gives a result.

    None: not followed, or no result within `timeout_s`.
    """
    from adapters.kafka import KafkaPublisher
    from schemas.topics import REQUESTS

    consumer = await from_now(bootstrap, topics) if judge is not None else None
    try:
        publisher = KafkaPublisher(bootstrap)
        try:
            await publisher.start()
            for each in [request] if not isinstance(request, Sequence) else request:
                await publisher.publish(REQUESTS, each)
        finally:
            await publisher.stop()  # flushes: the request is acknowledged
        if consumer is None or judge is None:
            return None
        return await follow(consumer, judge, timeout_s)
    finally:
        if consumer is not None:
            await consumer.stop()
