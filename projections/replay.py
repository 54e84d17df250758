"""Rebuild projections from the Kafka topics into a database of one's choosing: `qbsync replay`
(issue 7). Every qbsync topic keeps its history (`retention.ms=-1`), so the topics are the
projections' source of truth and a replay gives the rows the live runner has.

- **What is read.** No consumer group, nothing committed to Kafka: every partition of the topics
  the chosen projections fold (worked out from the event types each one registers; `health`
  needs them all, `links` only the decisions) is assigned and read from its start offset up to
  its end offset *taken at start*, then the run ends; 8 partitions at a time (partition p of
  every topic together), so memory does not grow with the partition count. Events decode as in
  the live runner (`runner.decode_record`): a message that does not decode, or whose key is not
  its tenant, only moves the position.
- **How it is applied.** In batches, through a `Projector` that folds only the chosen projections
  and records its positions in `proj_positions` under its own consumer name,
  `qbsync-replay:<names>` (e.g. `qbsync-replay:links`), in the same transaction as the rows. The
  next batch is fetched and decoded while one is written. An event a projection cannot take
  (alone, in its own transaction) is logged, counted as failed and skipped, as the live runner
  does (which also dead-letters it; a replay never writes to Kafka).
- **Where it starts.** By default a run *resumes*: a database this replay filled before (same
  projections, same cluster) gets only what was published since, so running it twice applies
  nothing twice. A database that holds no replay is built from the beginning. `from_beginning`
  rebuilds: it empties the tables of the chosen projections (and of the projections an earlier
  replay into this database kept), the decision ids seen and the replay positions, then reads
  every partition from its first offset. `since` rebuilds the same way from a time: per
  partition, from the first message whose Kafka timestamp is at or after it.
- **What it refuses.** A database holding another consumer's positions (the live runner's: a
  `qbsync api` database) is refused: two writers folding the same events in different orders
  would corrupt the links. So is a database holding a replay of other projections or of another
  cluster, unless the run rebuilds.

Reading is a one-shot scan (projections/topic_scan.py, which says how tansu's wrong ListOffsets
answers are worked around). For `since`, the offsets Kafka finds by time are only a lower bound
(tansu answers the first offset for any time), so until the first message at or after `since`
is met, messages are checked against their own Kafka timestamp (CreateTime: the publisher's
clock, which tansu keeps) and skipped: on Apache Kafka this skips nothing, on tansu it scans from
the start. The record timestamp, not the event's own `time`, is what is compared, so the answer
is the same whichever the broker; a message without one is judged by its event's `time`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from sqlalchemy import Table, delete, select
from sqlalchemy.exc import InterfaceError, OperationalError

from projections.db import ProjectionDb
from projections.projector import (
    PROJECTIONS,
    Item,
    Position,
    Projection,
    Projector,
    projection_name,
    projections_named,
)
from projections.runner import decode_record
from projections.tables import decisions_seen, positions
from projections.topic_scan import (
    Batch,
    ScanStalled,
    TopicScan,
    listed_offsets,
    offsets_since,
    one_shot_consumer,
    partitions_of,
)
from qbsync.logs import get_logger
from schemas.catalog import EventRejected, decode
from schemas.topics import TOPICS
from streams.admin import cluster_id_of

log = get_logger(__name__)
REPLAY_CONSUMER = "qbsync-replay"
_PREFIX = f"{REPLAY_CONSUMER}:"
_BOOKKEEPING = (positions, decisions_seen)
_INFRASTRUCTURE = (OperationalError, InterfaceError)
Mode = Literal["rebuild", "resume"]
Progress = Callable[["ReplayStats"], None]


class ReplayError(RuntimeError):
    """A replay that cannot run; the message says why and what to do instead."""


class TargetRefused(ReplayError):
    """The target database holds something a replay must not write over."""


class BrokerUnavailable(ReplayError):
    """The broker does not answer."""


class TopicMissing(ReplayError):
    """A topic to read does not exist on the cluster."""


# --- which projections, tables and topics ------------------------------------------------------


def tables_of(projection: Projection) -> tuple[Table, ...]:
    """The tables a projection keeps: those its module holds (links.py: proj_links and
    proj_conflicts), by name. The tests check each projection table has exactly one owner."""
    module = sys.modules[projection.__module__]
    found = {
        value.name: value
        for value in vars(module).values()
        if isinstance(value, Table) and value not in _BOOKKEEPING
    }
    return tuple(found[name] for name in sorted(found))


def topics_for(projections: Iterable[Projection]) -> tuple[str, ...]:
    """The catalog topics that carry an event one of `projections` folds, in catalog order. A
    projection that is not a singledispatch function may fold anything: it reads every topic."""
    folded: list[type[Any]] = []
    for projection in projections:
        registry: Mapping[type[Any], Any] | None = getattr(projection, "registry", None)
        if registry is None:
            return tuple(spec.name for spec in TOPICS)
        folded += [kind for kind in registry if kind is not object]
    return tuple(
        spec.name
        for spec in TOPICS
        if any(issubclass(value, kind) for value in spec.value_types for kind in folded)
    )


def consumer_name(projections: Sequence[Projection]) -> str:
    return _PREFIX + "+".join(projection_name(projection) for projection in projections)


# --- counters and the result -------------------------------------------------------------------


@dataclass
class ReplayStats:
    """Counts so far. `total` is the number of messages between the start and end offsets (it
    can grow a little once the first Fetch corrects tansu's end offsets)."""

    total: int = 0
    read: int = 0
    applied: int = 0
    skipped_before_since: int = 0
    undecodable: int = 0
    failed: int = 0
    already_applied: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def events_per_s(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class ReplayResult:
    projections: tuple[str, ...]
    consumer: str
    cluster: str
    topics: tuple[str, ...]
    partitions: int
    mode: Mode
    since: datetime | None
    stats: ReplayStats

    def as_json(self) -> dict[str, object]:
        stats = self.stats
        return {
            "projections": list(self.projections),
            "consumer": self.consumer,
            "cluster": self.cluster,
            "topics": list(self.topics),
            "partitions": self.partitions,
            "mode": self.mode,
            "since": self.since.isoformat() if self.since else None,
            "read": stats.read,
            "applied": stats.applied,
            "skipped_before_since": stats.skipped_before_since,
            "undecodable": stats.undecodable,
            "failed": stats.failed,
            "already_applied": stats.already_applied,
            "seconds": round(stats.seconds, 3),
            "events_per_s": round(stats.events_per_s, 1),
        }


# --- the target database -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    mode: Mode
    previous: tuple[Projection, ...] = ()  # kept by an earlier replay into this database


def _plan(db: ProjectionDb, consumer: str, cluster: str, rebuild: bool) -> _Plan:
    """Resume or rebuild, or refuse: see the module docstring."""
    with db.reading() as conn:
        query = select(positions.c.consumer, positions.c.cluster).distinct()
        held = {(name, of) for name, of in conn.execute(query)}
    others = sorted({name for name, _ in held if not name.startswith(_PREFIX)})
    if others:
        raise TargetRefused(
            f"it holds the positions of {', '.join(others)}: it is a live projections database. "
            "Replay into another database (or stop its runner and reset it first)."
        )
    previous = tuple(
        projection
        for projection in PROJECTIONS
        if any(projection_name(projection) in _names_in(name) for name, _ in held)
    )
    if held == {(consumer, cluster)}:
        return _Plan("rebuild", previous) if rebuild else _Plan("resume")
    if held and not rebuild:
        kept = "; ".join(f"{name.removeprefix(_PREFIX)} from cluster {of}" for name, of in held)
        raise TargetRefused(
            f"it holds a replay of {kept}, not of {consumer.removeprefix(_PREFIX)} from cluster "
            f"{cluster}. --from-beginning (or --since) rebuilds it; or replay into another one."
        )
    return _Plan("rebuild", previous)


def _names_in(consumer: str) -> set[str]:
    return set(consumer.removeprefix(_PREFIX).split("+"))


def _clear(
    db: ProjectionDb,
    projections: Iterable[Projection],
    consumer: str,
    cluster: str,
    starts: Mapping[TopicPartition, int],
) -> None:
    """Empty the tables of `projections`, the decision ids seen and the replay positions, and
    record that each partition starts at `starts` (so a resumed run knows where --since began)."""
    tables = {table.name: table for p in projections for table in tables_of(p)}
    with db.writing() as conn:
        for name in sorted(tables):
            conn.execute(delete(tables[name]))
        conn.execute(delete(decisions_seen))
        conn.execute(delete(positions).where(positions.c.consumer.startswith(_PREFIX)))
        rows = [
            {
                "consumer": consumer,
                "cluster": cluster,
                "topic": tp.topic,
                "partition": tp.partition,
                "offset": start - 1,
            }
            for tp, start in starts.items()
        ]
        if rows:
            conn.execute(positions.insert(), rows)


# --- applying what is read --------------------------------------------------------------------


class _Applier:
    """Applies what a scan reads through the projector: one batch is written while the next is
    fetched."""

    def __init__(
        self,
        scan: TopicScan,
        projector: Projector,
        cluster: str,
        since: datetime | None,
        on_progress: Progress | None,
    ) -> None:
        self.scan, self.projector, self.cluster = scan, projector, cluster
        # partitions still to be checked against `since`: each until its first message at or
        # after it (the scan starts from a lower bound only)
        self.gate: dict[TopicPartition, int] = {}
        if since is not None:
            self.gate = {tp: int(since.timestamp() * 1000) for tp in scan.ends}
        self.on_progress = on_progress
        self.stats = ReplayStats(total=scan.total)

    async def run(self) -> ReplayStats:
        applying: asyncio.Future[list[bool | None]] | None = None
        in_flight: list[Item] = []
        try:
            try:
                async for batch in self.scan.batches():
                    self.stats.total = self.scan.total
                    items = self._items(batch)
                    if applying is not None:  # the previous batch was written meanwhile
                        done, applying = await applying, None
                        self._count(in_flight, done)
                    if items:
                        in_flight = items
                        applying = asyncio.ensure_future(asyncio.to_thread(self._apply, items))
            except ScanStalled as exc:
                stalled = ", ".join(sorted(f"{tp.topic}/{tp.partition}" for tp in exc.partitions))
                raise ReplayError(f"no answer for {stalled} in {exc.seconds:g} s") from exc
            if applying is not None:
                done, applying = await applying, None
                self._count(in_flight, done)
        finally:
            if applying is not None:  # failing: let the batch being written commit or roll back
                await asyncio.wait([applying])
        self.stats.finished = time.monotonic()
        self._report()
        return self.stats

    def _items(self, batch: Batch) -> list[Item]:
        items: list[Item] = []
        for tp, records in batch.items():
            for record in records:
                self.stats.read += 1
                if tp in self.gate and _before_since(record, self.gate[tp]):
                    self.stats.skipped_before_since += 1
                    items.append((None, self._position(record)))
                    continue
                self.gate.pop(tp, None)
                item, skipped = decode_record(record, self.cluster)
                if skipped is not None:  # the live runner logged it when it met it
                    self.stats.undecodable += 1
                items.append(item)
        return items

    def _position(self, record: ConsumerRecord[bytes, bytes]) -> Position:
        return Position(record.topic, record.partition, record.offset, self.cluster)

    def _apply(self, items: list[Item]) -> list[bool | None]:
        """In a worker thread. None: the projections refused that event (skipped)."""
        try:
            return list(self.projector.apply_batch(items))
        except _INFRASTRUCTURE:
            raise
        except Exception:
            log.exception("replay_batch_failed", size=len(items))
            return [self._apply_alone(item) for item in items]

    def _apply_alone(self, item: Item) -> bool | None:
        try:
            return self.projector.apply(*item)
        except _INFRASTRUCTURE:
            raise
        except Exception:
            position = item[1]
            where = f"{position.topic}/{position.partition}/{position.offset}"
            log.exception("replay_event_failed", position=where)
            self.projector.apply(None, position)
            return None

    def _count(self, items: list[Item], done: list[bool | None]) -> None:
        for (event, _), applied in zip(items, done, strict=True):
            if applied is None:
                self.stats.failed += 1
            elif not applied:
                self.stats.already_applied += 1
            elif event is not None:
                self.stats.applied += 1
        self._report()

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.stats)


def _before_since(record: ConsumerRecord[bytes, bytes], since_ms: int) -> bool:
    """Whether the message was published before `since_ms` (see the module docstring)."""
    if record.timestamp is not None and record.timestamp >= 0:
        return bool(record.timestamp < since_ms)
    try:  # no Kafka timestamp: the event's own time
        return decode(record.value or b"").time.timestamp() * 1000 < since_ms
    except EventRejected:
        return True


# --- the replay --------------------------------------------------------------------------------


async def replay(
    bootstrap: str,
    db: ProjectionDb,
    names: Iterable[str] = ("all",),
    *,
    from_beginning: bool = False,
    since: datetime | None = None,
    topic_names: Mapping[str, str] | None = None,
    batch_max: int = 2000,
    window: int = 8,
    fetch_max_wait_ms: int = 100,
    stall_timeout_s: float = 60.0,
    on_progress: Progress | None = None,
) -> ReplayResult:
    """Replay the topics into `db`'s projections `names` (`all`: every one); see the module
    docstring. `window`: partitions fetched at a time. `topic_names` renames catalog topics
    (tests: a topic set of their own).
    Raises UnknownProjection, ReplayError (TargetRefused, BrokerUnavailable, TopicMissing), or
    the database's own error when it cannot be reached; a run stopped half way resumes."""
    if from_beginning and since is not None:
        raise ValueError("from_beginning and since are two different starts: give one")
    if since is not None and since.tzinfo is None:
        raise ValueError(f"since {since!r} has no time zone")
    chosen = projections_named(names)
    consumer = consumer_name(chosen)
    read = tuple((topic_names or {}).get(topic, topic) for topic in topics_for(chosen))
    kafka = one_shot_consumer(bootstrap, REPLAY_CONSUMER, fetch_max_wait_ms)
    try:
        cluster = await cluster_id_of(bootstrap)
        await kafka.start()
    except (KafkaError, OSError) as exc:
        await kafka.stop()
        raise BrokerUnavailable(f"the broker at {bootstrap} does not answer: {exc}") from exc
    try:
        tps, missing = await partitions_of(kafka, read)
        if missing:
            raise TopicMissing(
                f"topic {', '.join(missing)} does not exist on this cluster: is it qbsync's?"
            )
        first, ends = await listed_offsets(kafka, tps)
        rebuild = from_beginning or since is not None
        plan = await asyncio.to_thread(_plan, db, consumer, cluster, rebuild)
        projector = Projector(db, consumer, chosen)
        if plan.mode == "rebuild":
            starts = dict(first)
            if since is not None:
                starts = await offsets_since(kafka, tps, since, first, ends)
            await asyncio.to_thread(
                _clear, db, (*plan.previous, *chosen), consumer, cluster, starts
            )
        else:
            done = await asyncio.to_thread(projector.positions, cluster)
            starts = {
                tp: max(first[tp], done.get((tp.topic, tp.partition), first[tp] - 1) + 1)
                for tp in tps
            }
        scan = TopicScan(
            kafka,
            starts,
            ends,
            window=window,
            batch_max=batch_max,
            poll_ms=200,
            stall_timeout_s=stall_timeout_s,
        )
        stats = await _Applier(scan, projector, cluster, since, on_progress).run()
    except KafkaError as exc:
        raise BrokerUnavailable(f"the broker at {bootstrap} failed: {exc!r}") from exc
    finally:
        await kafka.stop()
    return ReplayResult(
        projections=tuple(projection_name(projection) for projection in chosen),
        consumer=consumer,
        cluster=cluster,
        topics=read,
        partitions=len(tps),
        mode=plan.mode,
        since=since,
        stats=stats,
    )
