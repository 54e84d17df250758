"""Apply events to the projections, exactly once per Kafka position.

`apply(event, position)` / `apply_batch(items)` fold events into every projection in one
transaction together with the consumer's position of each partition (`proj_positions`): an event
at or below the recorded offset of its (cluster, topic, partition) was applied already and is
skipped. The projections depend only on the events, so replaying the topics into empty tables
(issue 7) gives the same rows. An item with no event (an undecodable message) only moves the
position. A projection is named after its module; a Projector may fold only some of them
(`projections_named`, for `qbsync replay --projection`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, or_, select

from projections import customers, documents, health, history, imports, links
from projections.db import ProjectionDb
from projections.sql import insert_new
from projections.tables import decisions_seen, positions
from schemas.decisions import DECISIONS
from schemas.envelope import Envelope

DEFAULT_CONSUMER = "qbsync-projections"
PROJECTIONS: tuple[Callable[[Envelope, Connection], None], ...] = (
    links.project,
    customers.project,
    imports.project,
    health.project,
    documents.project,
    history.project,
)

Projection = Callable[[Envelope, Connection], None]
ALL = "all"
Log = tuple[str, str, int]  # (cluster, topic, partition)


class UnknownProjection(ValueError):
    """A projection name that is not one of PROJECTIONS'."""


def projection_name(projection: Projection) -> str:
    """A projection's name is its module's: links, customers, imports, health, documents..."""
    return projection.__module__.rsplit(".", 1)[-1]


def projections_named(names: Iterable[str]) -> tuple[Projection, ...]:
    """The projections with these names (`all`: every one), in the order of PROJECTIONS."""
    by_name = {projection_name(projection): projection for projection in PROJECTIONS}
    wanted = set(names)
    if ALL in wanted:
        return PROJECTIONS
    unknown = sorted(wanted - set(by_name))
    if unknown or not wanted:
        valid = ", ".join([*by_name, ALL])
        raise UnknownProjection(f"unknown projection {', '.join(unknown) or '(none)'}: {valid}")
    return tuple(projection for name, projection in by_name.items() if name in wanted)


@dataclass(frozen=True)
class Position:
    """Where a message sits: the cluster (its log), topic, partition and offset."""

    topic: str
    partition: int
    offset: int
    cluster: str = ""

    @property
    def log(self) -> Log:
        return (self.cluster, self.topic, self.partition)


Item = tuple[Envelope | None, Position]


def project(
    conn: Connection, event: Envelope, projections: Sequence[Projection] | None = None
) -> None:
    """Fold one event into `projections` (default: every one; no position bookkeeping). A
    decision whose id was folded in already is a re-publication (ADR 0009) and changes nothing:
    folding it again could take a link or an import run back to an older state."""
    if isinstance(event, DECISIONS) and not insert_new(
        conn, decisions_seen, {"tenant": event.tenant, "decision_id": event.id}
    ):
        return
    for projection in PROJECTIONS if projections is None else projections:
        projection(event, conn)


class Projector:
    def __init__(
        self,
        db: ProjectionDb,
        consumer: str = DEFAULT_CONSUMER,
        projections: Sequence[Projection] | None = None,
    ) -> None:
        self.db = db
        self.consumer = consumer
        self.projections = projections  # None: every one in PROJECTIONS

    def apply(self, event: Envelope | None, position: Position) -> bool:
        """True if applied now, False if this position was applied already."""
        return self.apply_batch([(event, position)])[0]

    def apply_batch(self, items: Iterable[Item]) -> list[bool]:
        """Apply in order in one transaction; for each item, whether it was new."""
        batch = list(items)
        if not batch:
            return []
        results: list[bool] = []
        with self.db.writing() as conn:
            done = self._lock(conn, {position.log for _, position in batch})
            moved: set[Log] = set()
            for event, position in batch:
                if position.offset <= done[position.log]:
                    results.append(False)
                    continue
                if event is not None:
                    project(conn, event, self.projections)
                done[position.log] = position.offset
                moved.add(position.log)
                results.append(True)
            for cluster, topic, partition in moved:
                conn.execute(
                    positions.update()
                    .where(self._is(cluster, topic, partition))
                    .values(offset=done[(cluster, topic, partition)])
                )
        return results

    def positions(self, cluster: str) -> dict[tuple[str, int], int]:
        """Last applied offset of each (topic, partition) of `cluster`."""
        with self.db.reading() as conn:
            rows = conn.execute(
                select(positions.c.topic, positions.c.partition, positions.c.offset).where(
                    positions.c.consumer == self.consumer,
                    positions.c.cluster == cluster,
                    positions.c.offset >= 0,
                )
            )
            return {(topic, partition): offset for topic, partition, offset in rows}

    def _lock(self, conn: Connection, logs: set[Log]) -> dict[Log, int]:
        """The recorded offsets of `logs` (-1: none yet), their rows locked until commit, so two
        runners given the same partition during a rebalance cannot both apply a message."""
        for cluster, topic, partition in sorted(logs):
            row = {"consumer": self.consumer, "cluster": cluster, "topic": topic}
            insert_new(conn, positions, row | {"partition": partition, "offset": -1})
        query = (
            select(
                positions.c.cluster, positions.c.topic, positions.c.partition, positions.c.offset
            )
            .where(or_(*(self._is(*log) for log in logs)))
            .with_for_update()
        )
        return {(c, t, p): offset for c, t, p, offset in conn.execute(query)}

    def _is(self, cluster: str, topic: str, partition: int) -> ColumnElement[bool]:
        return and_(
            positions.c.consumer == self.consumer,
            positions.c.cluster == cluster,
            positions.c.topic == topic,
            positions.c.partition == partition,
        )
