"""Read one tenant's messages off the topics once: every partition from the beginning up to the
end offsets taken at start, as a one-shot scan (projections/topic_scan.py: no consumer group,
nothing committed, and how the embedded tansu broker's short end offsets are corrected).

Every topic is keyed by tenant id, so messages are filtered on the key before they are decoded.
A message with the tenant's key that does not decode, or whose event names another tenant, is
counted and skipped (the engine dead-letters it already, as projections/runner.py skips it).
Order is the log's within each partition (which is what engine/history.py needs: one tenant's
events of one topic are on one partition); partitions interleave as they are fetched, all of
them at once (no window).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from aiokafka.structs import ConsumerRecord

from projections.export.rows import Where
from projections.topic_scan import (
    ScanStalled,
    TopicScan,
    listed_offsets,
    one_shot_consumer,
    partitions_of,
)
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
    consumer = one_shot_consumer(bootstrap, "qbsync-export", fetch_max_wait_ms)
    try:
        await consumer.start()
        partitions, missing = await partitions_of(consumer, topics)
        stats.missing_topics += missing
        if not partitions:
            raise TopicsMissing(
                f"none of the qbsync topics exist on this cluster ({', '.join(topics)}): "
                "has the engine ever run on it?"
            )
        begin, listed = await listed_offsets(consumer, partitions)
        # an empty partition is left out: it has nothing to scan
        starts = {tp: begin[tp] for tp in partitions if listed[tp] > begin[tp]}
        scan = TopicScan(
            consumer,
            starts,
            {tp: listed[tp] for tp in starts},
            batch_max=batch_max,
            poll_ms=500,
            stall_timeout_s=stall_timeout_s,
        )
        stats.partitions = len(partitions)
        stats.to_scan = scan.total
        on_plan(stats)
        if not starts:
            return
        try:
            async for batch in scan.batches():
                stats.to_scan = scan.total
                reads: list[Read] = []
                for records in batch.values():
                    stats.scanned += len(records)
                    for record in records:
                        if record.key == key:  # every topic is keyed by tenant: decode only these
                            read = _decoded(record, tenant, stats)
                            if read is not None:
                                reads.append(read)
                stats.events += len(reads)
                yield reads
        except ScanStalled as exc:
            short = ", ".join(f"{tp.topic}/{tp.partition}" for tp in sorted(exc.partitions))
            raise ReadStalled(f"no messages for {exc.seconds:g} s; short of end: {short}") from exc
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
