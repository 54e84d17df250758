"""Read topics once, without a consumer group: every partition from a start offset up to the end
offset *taken at start*, then stop. Nothing is committed, so nothing else is disturbed. Used by
`qbsync replay` (projections/replay.py) and `qbsync export` (projections/export/reader.py).

- **Partitions** are read `window` at a time (the others paused), partition p of every topic
  together: tansu answers a Fetch with megabytes per partition whatever
  `max_partition_fetch_bytes` says, so without a window what the client buffers grows with the
  partition count. Every topic is keyed by tenant, so partition p of each holds the same tenants.
- **Batches** are what one Fetch brought, per partition in log order, cut at the partition's end.
  Partitions interleave as they are fetched. A round that brought nothing yields an empty batch,
  so a caller can finish work in flight; one that brings nothing for `stall_timeout_s` while
  partitions are short of their end raises ScanStalled.

The embedded tansu broker answers ListOffsets wrongly (docs/adr/0002, measured on 0.6.0):
- `latest` is the first offset of the last batch + 1, short of the last message when a producer
  sent several in one batch. So each partition's end is the listed end corrected by the high
  watermark of its first Fetch answer, and a partition is done only once that answer came.
- By timestamp it always returns the first offset (offset 0 for any time, even one in the
  future). So `offsets_since` is a lower bound only: a reader that must start at a time checks
  each message's own timestamp too (on Apache Kafka that skips nothing; on tansu it scans from
  the start).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord

from qbsync.logs import get_logger

log = get_logger(__name__)
Offsets = dict[TopicPartition, int]
Batch = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


class ScanStalled(RuntimeError):
    """Nothing arrived for `seconds` while `partitions` were being read, short of their end."""

    def __init__(self, partitions: frozenset[TopicPartition], seconds: float) -> None:
        super().__init__(f"no answer for {len(partitions)} partition(s) in {seconds:g} s")
        self.partitions, self.seconds = partitions, seconds


def one_shot_consumer(bootstrap: str, client_id: str, fetch_max_wait_ms: int) -> AIOKafkaConsumer:
    """A consumer (not started) that belongs to no group and commits nothing."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # tansu answers a fetch over several partitions only when this wait runs out
        fetch_max_wait_ms=fetch_max_wait_ms,
    )


async def partitions_of(
    consumer: AIOKafkaConsumer, topics: Sequence[str]
) -> tuple[list[TopicPartition], list[str]]:
    """The partitions of `topics` in topic then partition order, and the topics the cluster
    does not have (or that have no partition)."""
    # the topics the broker has now; their partitions are those of the metadata loaded at start
    known = await consumer.topics()
    partitions: list[TopicPartition] = []
    missing: list[str] = []
    for topic in topics:
        numbers = consumer.partitions_for_topic(topic) if topic in known else None
        if not numbers:
            missing.append(topic)
            continue
        partitions += [TopicPartition(topic, number) for number in sorted(numbers)]
    return partitions, missing


async def listed_offsets(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> tuple[Offsets, Offsets]:
    """Each partition's first offset and its end as ListOffsets says (short on tansu: TopicScan
    corrects it)."""
    if not partitions:
        return {}, {}
    first = await consumer.beginning_offsets(partitions)
    ends = await consumer.end_offsets(partitions)
    return dict(first), dict(ends)


async def offsets_since(
    consumer: AIOKafkaConsumer,
    partitions: list[TopicPartition],
    since: datetime,
    first: Mapping[TopicPartition, int],
    ends: Mapping[TopicPartition, int],
) -> Offsets:
    """Kafka's first offset at or after `since`, per partition (its end if there is none); the
    first offset if the broker cannot say. A lower bound only (see the module docstring)."""
    since_ms = int(since.timestamp() * 1000)
    try:
        found = await consumer.offsets_for_times({tp: since_ms for tp in partitions})
    except KafkaError as exc:
        log.warning("replay_offsets_for_times_failed", error=repr(exc))
        return dict(first)
    return {
        tp: max(first[tp], found[tp].offset) if found.get(tp) is not None else ends[tp]
        for tp in partitions
    }


class TopicScan:
    """One pass over the partitions of `starts`, each from its start up to its end (`ends`, as
    listed: corrected by the first Fetch). `window`: partitions fetched at a time (None: all).
    `poll_ms`: how long one round waits for a Fetch answer."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        starts: Mapping[TopicPartition, int],
        ends: Mapping[TopicPartition, int],
        *,
        window: int | None = None,
        batch_max: int,
        poll_ms: int,
        stall_timeout_s: float,
    ) -> None:
        self.consumer = consumer
        self.starts, self.ends = dict(starts), dict(ends)
        self.window = len(self.ends) if window is None else window
        self.batch_max, self.poll_ms, self.stall_timeout_s = batch_max, poll_ms, stall_timeout_s
        self.unconfirmed = set(self.ends)  # ends no Fetch's high watermark has confirmed yet
        self.pending = set(self.ends)  # not read to their end yet
        self.waiting = sorted(self.ends, key=lambda tp: (tp.partition, tp.topic))
        self.reading: set[TopicPartition] = set()

    @property
    def total(self) -> int:
        """Messages between the starts and the ends (grows a little as the ends are confirmed)."""
        return sum(max(0, self.ends[tp] - self.starts[tp]) for tp in self.ends)

    async def batches(self) -> AsyncIterator[Batch]:
        """One batch per Fetch round until every partition is read to its end."""
        self.consumer.assign(list(self.starts))
        for tp, start in self.starts.items():
            self.consumer.seek(tp, start)
        self.consumer.pause(*self.ends)
        self._open()
        last_news = time.monotonic()
        while self.pending:
            fetched = await self.consumer.getmany(
                timeout_ms=self.poll_ms, max_records=self.batch_max
            )
            self._confirm_ends()
            batch = {tp: self._below_end(tp, records) for tp, records in fetched.items()}
            await self._settle()
            if fetched:
                last_news = time.monotonic()
            elif time.monotonic() - last_news > self.stall_timeout_s:
                raise ScanStalled(frozenset(self.reading), self.stall_timeout_s)
            yield batch

    def _confirm_ends(self) -> None:
        for tp in list(self.unconfirmed):
            highwater = self.consumer.highwater(tp)
            if highwater is not None:
                self.ends[tp] = max(self.ends[tp], highwater)
                self.unconfirmed.discard(tp)

    def _below_end(
        self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Leaves out what was published after the scan started."""
        if tp in self.unconfirmed:
            return records
        return [record for record in records if record.offset < self.ends[tp]]

    async def _settle(self) -> None:
        """Pause each partition read up to its confirmed end, and open the next ones."""
        for tp in list(self.reading - self.unconfirmed):
            if await self.consumer.position(tp) >= self.ends[tp]:
                self.consumer.pause(tp)
                self.pending.discard(tp)
                self.reading.discard(tp)
        self._open()

    def _open(self) -> None:
        while self.waiting and len(self.reading) < self.window:
            tp = self.waiting.pop(0)
            self.reading.add(tp)
            self.consumer.resume(tp)
