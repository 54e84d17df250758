"""The projection runner: read every qbsync topic and apply it to the projections, in batches.

Positions live in `proj_positions`, not in Kafka: offsets are never committed; when partitions
are assigned the consumer seeks to the recorded offset + 1 (or the beginning), so what was
applied is never applied again and a crash between batches loses nothing. Positions are keyed by
the cluster id, because an embedded broker that restarts has a new, empty log whose offsets
start again at 0.

A message that does not decode, or whose key is not its tenant, is skipped with a warning (the
engine dead-letters it already). An event that makes the projection fail is dead-lettered here
(stage `project`) and skipped; a database that cannot be reached is retried, never skipped.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import ConsumerRecord
from sqlalchemy.exc import InterfaceError, OperationalError

from adapters.backoff import jittered_backoff_s
from engine.deadletter import RawMessage, dead_letter_for
from projections.projector import Item, Position, Projector
from qbsync.logs import get_logger
from schemas.catalog import EventRejected, decode, encode
from schemas.topics import DEAD_LETTER, TOPICS
from streams.admin import cluster_id_of

log = get_logger(__name__)
ALL_TOPICS = tuple(spec.name for spec in TOPICS)
_INFRASTRUCTURE = (OperationalError, InterfaceError)
_JITTER = random.Random()  # noqa: S311 - spreads retries, protects nothing


@dataclass
class RunnerStats:
    """Counters since start; `received` and `applied` are per tenant."""

    received: Counter[str] = field(default_factory=Counter)
    applied: Counter[str] = field(default_factory=Counter)
    already_applied: int = 0
    undecodable: int = 0
    dead_lettered: int = 0
    batches: int = 0
    last_batch_at: datetime | None = None


class ProjectionRunner:
    def __init__(
        self,
        bootstrap: str,
        projector: Projector,
        *,
        group_id: str | None = None,
        topics: Sequence[str] = ALL_TOPICS,
        batch_max: int = 500,
        fetch_max_wait_ms: int = 500,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
    ) -> None:
        self._bootstrap, self._projector = bootstrap, projector
        self._group_id = group_id or projector.consumer  # default: qbsync-projections
        self._topics = list(topics)
        self._batch_max = batch_max
        self._consumer_options = {
            "fetch_max_wait_ms": fetch_max_wait_ms,
            "session_timeout_ms": session_timeout_ms,
            "heartbeat_interval_ms": heartbeat_interval_ms,
        }
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self.cluster_id: str | None = None
        self.stats = RunnerStats()

    @property
    def running(self) -> bool:
        return self._consumer is not None

    async def start(self) -> None:
        if self._consumer is not None:
            return
        self.cluster_id = await cluster_id_of(self._bootstrap)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            client_id=f"{self._group_id}-runner",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            metadata_max_age_ms=30_000,  # notice topics created after we started
            **self._consumer_options,
        )
        producer = AIOKafkaProducer(bootstrap_servers=self._bootstrap, acks="all")
        consumer.subscribe(self._topics, listener=_SeekToPositions(self, consumer))
        try:
            await producer.start()
            await consumer.start()
        except BaseException:
            await producer.stop()
            await consumer.stop()
            raise
        self._consumer, self._producer = consumer, producer
        log.info("projections_started", group=self._group_id, cluster=self.cluster_id)

    async def stop(self) -> None:
        consumer, producer = self._consumer, self._producer
        self._consumer = self._producer = None
        if consumer is not None:
            await consumer.stop()
        if producer is not None:
            await producer.stop()

    async def run(self, stop_event: asyncio.Event) -> None:
        """Apply batches until `stop_event` is set; stops the consumer on the way out."""
        await self.start()
        assert self._consumer is not None
        consumer, failures = self._consumer, 0
        try:
            while not stop_event.is_set():
                batch = await consumer.getmany(timeout_ms=200, max_records=self._batch_max)
                if not batch:
                    continue
                try:
                    await self._apply(batch)
                    failures = 0
                except _INFRASTRUCTURE as exc:  # nothing applied: read the batch again later
                    failures += 1
                    log.warning("projections_db_unavailable", error=repr(exc), attempt=failures)
                    for tp, records in batch.items():
                        consumer.seek(tp, records[0].offset)
                    await asyncio.sleep(jittered_backoff_s(failures, 0.5, 30.0, _JITTER))
        finally:
            await self.stop()

    async def run_forever(self) -> None:
        """`run` until cancelled, restarting after a broker or database failure (a job of
        `qbsync api`)."""
        attempt = 0
        while True:
            try:
                await self.run(asyncio.Event())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                log.warning("projections_restarting", error=repr(exc), attempt=attempt)
                await asyncio.sleep(jittered_backoff_s(attempt, 1.0, 60.0, _JITTER))

    async def _apply(self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        items: list[tuple[Item, ConsumerRecord[bytes, bytes]]] = []
        for records in batch.values():
            items += [(self._item(record), record) for record in records]
        done: list[bool | None]
        try:
            done = list(await asyncio.to_thread(self._projector.apply_batch, [i for i, _ in items]))
        except _INFRASTRUCTURE:
            raise
        except Exception:
            log.exception("projection_batch_failed", size=len(items))
            done = [await self._apply_alone(item, record) for item, record in items]
        self._count(items, done)

    async def _apply_alone(self, item: Item, record: ConsumerRecord[bytes, bytes]) -> bool | None:
        """One event in its own transaction; if it alone fails, dead-letter it and move on
        (None: dead-lettered)."""
        try:
            return await asyncio.to_thread(self._projector.apply, *item)
        except _INFRASTRUCTURE:
            raise
        except Exception as exc:
            log.exception("projection_failed", position=_where(record))
            await self._dead_letter(record, f"projection raised: {exc!r}")
            await asyncio.to_thread(self._projector.apply, None, item[1])
            return None

    def _item(self, record: ConsumerRecord[bytes, bytes]) -> Item:
        (event, position), skipped = decode_record(record, self.cluster_id or "")
        if event is None:
            self.stats.undecodable += 1
            log.warning("projection_skipped", position=_where(record), reason=skipped)
        else:
            self.stats.received[event.tenant] += 1
        return event, position

    def _count(
        self, items: list[tuple[Item, ConsumerRecord[bytes, bytes]]], done: list[bool | None]
    ) -> None:
        for ((event, _), _record), applied in zip(items, done, strict=True):
            if applied is False:
                self.stats.already_applied += 1
            elif applied and event is not None:
                self.stats.applied[event.tenant] += 1
        self.stats.batches += 1
        self.stats.last_batch_at = datetime.now(UTC)

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: str) -> None:
        if self._producer is None:
            return
        message = RawMessage(
            record.topic, record.partition, record.offset, record.key, record.value or b""
        )
        letter = dead_letter_for(
            message, "project", reason, (), datetime.now(UTC), worker="projections"
        )
        await self._producer.send_and_wait(
            DEAD_LETTER.name, encode(letter), key=letter.tenant.encode()
        )
        self.stats.dead_lettered += 1

    async def seek_to_positions(
        self, consumer: AIOKafkaConsumer, assigned: set[TopicPartition]
    ) -> None:
        """On assignment: each partition from its recorded offset + 1, else from the start."""
        done = await asyncio.to_thread(self._projector.positions, self.cluster_id or "")
        fresh = []
        for tp in assigned:
            offset = done.get((tp.topic, tp.partition))
            if offset is None:
                fresh.append(tp)
            else:
                consumer.seek(tp, offset + 1)
        if fresh:
            await consumer.seek_to_beginning(*fresh)
        log.info(
            "projections_assigned", partitions=len(assigned), resumed=len(assigned) - len(fresh)
        )


class _SeekToPositions(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: ProjectionRunner, consumer: AIOKafkaConsumer) -> None:
        self._runner, self._consumer = runner, consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._runner.seek_to_positions(self._consumer, assigned)


def decode_record(record: ConsumerRecord[bytes, bytes], cluster: str) -> tuple[Item, str | None]:
    """The item a message stands for, and why it carries no event (None: it has one). A message
    that does not decode, or whose key is not its event's tenant, only moves the position (the
    engine dead-letters it already). Shared by the runner and `qbsync replay`."""
    position = Position(record.topic, record.partition, record.offset, cluster)
    try:
        event = decode(record.value or b"")
    except EventRejected as exc:
        return (None, position), exc.reason
    key = record.key.decode(errors="replace") if record.key is not None else None
    if key != event.tenant:
        return (None, position), f"message key {key!r} is not the event's tenant {event.tenant!r}"
    return (event, position), None


def _where(record: ConsumerRecord[bytes, bytes]) -> str:
    return f"{record.topic}/{record.partition}/{record.offset}"
