"""The aggregate store: loads aggregates, records their new events with the Kafka position of the
input that caused them, in one transaction (ADR 0003).

Tracking uses the library's process recorder. Each (cluster, topic, partition) is one tracking
`application_name` (`kafka:<cluster id>:<topic>:<partition>`) and the offset is its
`notification_id`. The cluster id names the log: an embedded in-memory broker starts a new log,
with offsets from 0 again, under a new cluster id each time it starts, so a restarted broker's
inputs are never mistaken for ones already processed. The
library keeps one row per name holding the highest offset recorded, and refuses (IntegrityError,
rolling the whole transaction back) a position at or below it. So a redelivered input changes
nothing: `record` then returns False. Inputs of one partition must be recorded in offset order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import IntegrityError, Mapper, ProcessRecorder, Tracking
from eventsourcing.utils import Environment, EnvType

from store.backends import prepared, store_environment
from store.customer_index import CustomerClaim, claim_changes, claim_id, project_claim
from store.customer_link import CustomerLink, link_id, project_link
from store.import_run import ImportRun, import_run_id, project_import_run
from store.installation import Installation, installation_id, project_installation
from store.mapper import PydanticMapper
from store.model import Aggregate, DomainEvent
from store.outbox import Outbox, outbox_id, project_outbox

A = TypeVar("A", bound=Aggregate)
Projector = Callable[[A | None, Iterable[DomainEvent]], A | None]


@dataclass(frozen=True)
class KafkaPosition:
    cluster: str  # the Kafka cluster id (streams/broker: cluster_id_of); names the log
    topic: str
    partition: int
    offset: int


def tracking_name(cluster: str, topic: str, partition: int) -> str:
    if not cluster:
        raise ValueError("a Kafka position needs the cluster id of its log")
    return f"kafka:{cluster}:{topic}:{partition}"


class ConcurrentWriteError(IntegrityError):
    """Another writer recorded a newer version of these aggregates first; nothing was written.
    Reload them and decide again."""

    def __init__(self, aggregate_ids: list[UUID]) -> None:
        self.aggregate_ids = aggregate_ids
        names = ", ".join(str(aggregate_id) for aggregate_id in aggregate_ids)
        super().__init__(f"aggregates changed by another writer meanwhile: {names}")


class QbsyncStore(Application[UUID]):
    # Names the PostgreSQL tables: qbsync_events, qbsync_tracking (SQLite: stored_events, tracking).
    name = "qbsync"

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        return Environment(name, dict(env or {}))  # the URL alone configures the store

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(mapper_class=PydanticMapper)

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        assert isinstance(self.recorder, ProcessRecorder)
        return self.recorder

    # --- reads -----------------------------------------------------------------------------

    def load(self, aggregate_id: UUID, project: Projector[A]) -> A | None:
        try:
            aggregate: A = self.repository.get(aggregate_id, projector_func=project)
        except AggregateNotFoundError:
            return None
        return aggregate

    def installation(self, tenant: str) -> Installation | None:
        return self.load(installation_id(tenant), project_installation)

    def link(self, tenant: str, person_id: int) -> CustomerLink | None:
        return self.load(link_id(tenant, person_id), project_link)

    def link_for_customer(self, tenant: str, customer_id: str) -> CustomerLink | None:
        """The live or inactive link of a QBO customer (ended links release their customer)."""
        claim = self.load(claim_id(tenant, customer_id), project_claim)
        if claim is None or claim.person_id is None:
            return None
        return self.link(tenant, claim.person_id)

    def import_run(self, tenant: str, request_id: str) -> ImportRun | None:
        return self.load(import_run_id(tenant, request_id), project_import_run)

    def outbox(self, tenant: str, key: str) -> Outbox | None:
        """The outputs recorded for input (or command) `key`, if it was processed."""
        return self.load(outbox_id(tenant, key), project_outbox)

    # --- tracking --------------------------------------------------------------------------

    def already_processed(self, position: KafkaPosition) -> bool:
        name = tracking_name(position.cluster, position.topic, position.partition)
        return self.process_recorder.has_tracking_id(name, position.offset)

    def processed_offset(self, cluster: str, topic: str, partition: int) -> int | None:
        """The highest offset of this partition recorded so far (None: none yet)."""
        return self.process_recorder.max_tracking_id(tracking_name(cluster, topic, partition))

    # --- writes ----------------------------------------------------------------------------

    def record(self, *events: DomainEvent | None, position: KafkaPosition | None = None) -> bool:
        """Record events (None entries are skipped: commands return None for "no change") and,
        given a position, that its input is processed; all in one transaction.

        Record the position of every input, even one that changed nothing. Several events of
        one aggregate must each come from the state folded with the one before (`mutate_*`).

        Returns False, writing nothing, when the position was processed already. Raises
        `ConcurrentWriteError` when another writer changed one of the aggregates first, and a
        `DomainError` (e.g. `CustomerAlreadyLinked`) when the index refuses a link.
        """
        if position and self.already_processed(position):
            return False
        batch = [event for event in events if event is not None]
        _check_versions(batch)
        batch += claim_changes(batch, self._claim, self._link_by_id)
        tracking = None
        if position:
            name = tracking_name(position.cluster, position.topic, position.partition)
            tracking = Tracking(application_name=name, notification_id=position.offset)
        processing = ProcessingEvent[UUID](tracking=tracking)
        processing.collect_events(*batch)
        try:
            self._record(processing)
        except IntegrityError as error:
            if position and self.already_processed(position):
                return False  # another worker recorded this input meanwhile
            raise ConcurrentWriteError(self._conflicting(batch)) from error
        return True

    def _claim(self, aggregate_id: UUID) -> CustomerClaim | None:
        return self.load(aggregate_id, project_claim)

    def _link_by_id(self, aggregate_id: UUID) -> CustomerLink | None:
        return self.load(aggregate_id, project_link)

    def _conflicting(self, batch: list[DomainEvent]) -> list[UUID]:
        taken = [
            event.originator_id
            for event in batch
            if self.recorder.select_events(
                event.originator_id,
                gt=event.originator_version - 1,
                lte=event.originator_version,
            )
        ]
        return list(dict.fromkeys(taken)) or list(dict.fromkeys(e.originator_id for e in batch))


def _check_versions(batch: list[DomainEvent]) -> None:
    seen: set[tuple[UUID, int]] = set()
    for event in batch:
        key = (event.originator_id, event.originator_version)
        if key in seen:
            raise ValueError(
                f"two events claim version {key[1]} of aggregate {key[0]}: fold each event into "
                "the state before computing the next"
            )
        seen.add(key)


def open_store(store_url: str) -> QbsyncStore:
    """A store for `sqlite:///PATH` or `postgresql://user@host:port/db[?schema=...]`, tables
    created. Close it (or use it as a context manager) to release connections."""
    env = store_environment(store_url)
    with prepared(env):
        return QbsyncStore(env=env)
