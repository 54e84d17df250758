"""Read one tenant's messages off the topics once: every partition from the beginning up to the
end offsets taken at start. No consumer group: nothing is committed, nothing else is disturbed.

The embedded tansu broker lists an end offset that can be short of the last message (the first
offset of the last batch + 1, docs/adr/0002): as in projections/replay.py, each partition's end
is corrected by the high watermark of its first Fetch answer, and a partition is done only once
that answer came.

Every topic is keyed by tenant id, so messages are filtered on the key before they are decoded.
A message with the tenant's key that does not decode, or whose event names another tenant, is
counted and skipped (the engine dead-letters it already, as projections/runner.py skips it).
Order is the log's within each partition (which is what engine/history.py needs: one tenant's
events of one topic are on one partition); partitions interleave as they are fetched.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from projections.export.rows import Where
from schemas.catalog import EventRejected, decode
from schemas.envelope import Envelope
from schemas.topics import TOPICS

ALL_TOPICS = tuple(spec.name for spec in TOPICS)


class TopicsMissing(RuntimeError):
    """None of the topics exist: the engine has never run on this cluster."""


class ReadStalled(RuntimeError):
    """Partitions stopped short of the end offsets taken at start."""


@dataclass
class ReadStats:
    """What one read saw. `to_scan` is every message below the end offsets, of all tenants."""

    partitions: int = 0
    to_scan: int = 0
    scanned: int = 0
    events: int = 0
    undecodable: int = 0
    other_tenant: int = 0
    missing_topics: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Read:
    where: Where
    event: Envelope


async def read_tenant(
    bootstrap: str,
    tenant: str,
    stats: ReadStats,
    *,
    topics: Sequence[str] = ALL_TOPICS,
    batch_max: int = 2000,
    fetch_max_wait_ms: int = 200,
    stall_timeout_s: float = 60.0,
    on_plan: Callable[[ReadStats], None] = lambda _stats: None,
) -> AsyncIterator[list[Read]]:
    """The tenant's events in batches (at most `batch_max` messages scanned per batch), each
    with its position; `stats` is updated as it goes (`to_scan` can grow a little once the
    first Fetch corrects the listed ends) and `on_plan` is called once the end offsets are
    listed. Raises TopicsMissing, or ReadStalled when nothing arrives for
    `stall_timeout_s` while partitions are short of their end."""
    key = tenant.encode()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        client_id="qbsync-export",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=fetch_max_wait_ms,  # the embedded broker answers at the wait
    )
    try:
        await consumer.start()
        await consumer.topics()  # fetches the metadata
        partitions: list[TopicPartition] = []
        for topic in topics:
            numbers = consumer.partitions_for_topic(topic)
            if not numbers:
                stats.missing_topics.append(topic)
                continue
            partitions += [TopicPartition(topic, number) for number in sorted(numbers)]
        if not partitions:
            raise TopicsMissing(
                f"none of the qbsync topics exist on this cluster ({', '.join(topics)}): "
                "has the engine ever run on it?"
            )
        begin = await consumer.beginning_offsets(partitions)
        listed = await consumer.end_offsets(partitions)
        ends = {tp: listed[tp] for tp in partitions if listed[tp] > begin[tp]}
        unconfirmed = set(ends)  # ends the high watermark of a Fetch has not confirmed yet
        stats.partitions = len(partitions)
        stats.to_scan = sum(ends[tp] - begin[tp] for tp in ends)
        on_plan(stats)
        if not ends:
            return
        consumer.assign(list(ends))
        for tp in ends:
            consumer.seek(tp, begin[tp])
        pending = set(ends)
        last_news = time.monotonic()
        while pending:
            fetched = await consumer.getmany(timeout_ms=500, max_records=batch_max)
            for tp in list(unconfirmed):
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    ends[tp] = max(ends[tp], highwater)
                    unconfirmed.discard(tp)
            stats.to_scan = sum(ends[tp] - begin[tp] for tp in ends)
            reads: list[Read] = []
            for tp, records in fetched.items():
                for record in records:
                    if record.offset >= ends[tp] and tp not in unconfirmed:
                        break  # published after the read started
                    stats.scanned += 1
                    if record.key == key:
                        read = _decoded(record, tenant, stats)
                        if read is not None:
                            reads.append(read)
            for tp in list(pending - unconfirmed):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
                    consumer.pause(tp)
            if fetched:
                last_news = time.monotonic()
            elif time.monotonic() - last_news > stall_timeout_s:
                short = ", ".join(f"{tp.topic}/{tp.partition}" for tp in sorted(pending))
                raise ReadStalled(f"no messages for {stall_timeout_s:g} s; short of end: {short}")
            stats.events += len(reads)
            yield reads
    finally:
        await consumer.stop()


def _decoded(record: ConsumerRecord[bytes, bytes], tenant: str, stats: ReadStats) -> Read | None:
    try:
        event = decode(record.value or b"")
    except EventRejected:
        stats.undecodable += 1
        return None
    if event.tenant != tenant:
        stats.other_tenant += 1
        return None
    return Read(Where(record.topic, record.partition, record.offset), event)
