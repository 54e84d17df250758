"""The two exported tables, column by column, and how events become their rows (pure, no I/O).

`events`: one row per message of the tenant on the topics (a message delivered twice is two rows;
`event_id` tells them apart from distinct events). `field_changes`: one row per `FieldChange` of
each `HistoryEntry` engine/history.py finds in those events (an entry without changes gives no
row). Each row model's fields carry their column type and meaning; the writers and
docs/export.md are built from them, so the files, their schema and the documentation agree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

from engine.history import HOME_SYSTEM, HistoryEntry, RecordKind, entries_of
from schemas.envelope import Envelope

ColumnType = Literal["string", "int32", "int64", "timestamp"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    nullable: bool
    meaning: str


def _col(type_: ColumnType, meaning: str, *, nullable: bool = False) -> Any:
    """A column: a dataclass field without a default, its type and meaning in its metadata."""
    return field(metadata={"type": type_, "nullable": nullable, "meaning": meaning})


@dataclass(frozen=True, slots=True)
class EventRow:
    """One message of the tenant, as it is on its topic."""

    tenant: str = _col("string", "the tenant (installation) id: the message key")
    topic: str = _col("string", "the Kafka topic, e.g. `qbsync.crm.changes.v1`")
    kafka_partition: int = _col("int32", "the partition of the topic the message is on")
    kafka_offset: int = _col(
        "int64", "the message's offset in that partition (log order within a partition)"
    )
    event_id: str = _col(
        "string", "the event id (CloudEvents `id`): the dedupe key; for commands, the command id"
    )
    type: str = _col("string", "the versioned event type, e.g. `qbsync.crm.person.changed.v1`")
    source: str = _col("string", "the producer (CloudEvents `source`, a URI-reference)")
    subject: str | None = _col(
        "string", "the record the event is about, e.g. `crm/person/42`", nullable=True
    )
    time: datetime = _col("timestamp", "when the fact happened at its source (UTC)")  # noqa: RUF009
    correlation_id: str | None = _col(
        "string", "id shared by every event of one flow (`correlationid`)", nullable=True
    )
    causation_id: str | None = _col(
        "string", "id of the event that caused this one (`causationid`)", nullable=True
    )
    data_json: str = _col(
        "string", "the event's `data` as JSON (its schema: `qbsync schemas export`)"
    )


@dataclass(frozen=True, slots=True)
class FieldChangeRow:
    """One field of one record changed, as one event tells it."""

    tenant: str = _col("string", "the tenant (installation) id")
    event_id: str = _col("string", "the event that tells of the change (joins `events.event_id`)")
    event_type: str = _col("string", "that event's type")
    time: datetime = _col(  # noqa: RUF009 - a field() without a default, not a default value
        "timestamp", "when the change happened (the event's `time`, UTC)"
    )
    record_kind: str = _col("string", "`person` or `company` (CRM), or `customer` (QBO)")
    record_id: str = _col("string", "the record's id in its system (CRM id or QBO `Id`)")
    source: str = _col(
        "string",
        "who changed it: `crm` or `qbo` (the system reported a change of its own record), "
        "`engine` (the sync wrote it or changed its link), `user` (a user's request)",
    )
    summary: str = _col("string", "one line saying what happened, in words")
    cause_id: str | None = _col(
        "string", "id of what caused it: an event, a command or an import request", nullable=True
    )
    cause_kind: str | None = _col(
        "string", "what `cause_id` is: `event`, `command`, `import` or `request`", nullable=True
    )
    command_id: str | None = _col(
        "string", "the engine's command that writes the change, if any", nullable=True
    )
    field: str = _col(
        "string", "dotted path of the field on its record, e.g. `phone`, `BillAddr.City`"
    )
    before: str | None = _col("string", "the value before, as text (null: empty)", nullable=True)
    after: str | None = _col("string", "the value after, as text (null: empty)", nullable=True)


def columns(row_type: type[EventRow] | type[FieldChangeRow]) -> tuple[Column, ...]:
    return tuple(
        Column(f.name, f.metadata["type"], f.metadata["nullable"], f.metadata["meaning"])
        for f in fields(row_type)
    )


TABLES: Mapping[str, tuple[Column, ...]] = {
    "events": columns(EventRow),
    "field_changes": columns(FieldChangeRow),
}


@dataclass(frozen=True)
class Where:
    """Where a message is on the log."""

    topic: str
    partition: int
    offset: int


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def event_row(event: Envelope, where: Where) -> EventRow:
    return EventRow(
        tenant=event.tenant,
        topic=where.topic,
        kafka_partition=where.partition,
        kafka_offset=where.offset,
        event_id=event.id,
        type=event.type,
        source=event.source,
        subject=event.subject,
        time=utc(event.time),
        correlation_id=event.correlationid,
        causation_id=event.causationid,
        data_json=event.data.model_dump_json(),
    )


class FieldChanges:
    """Turns a tenant's events, in log order, into field-change rows.

    Keeps the last snapshot of each record from its own system's change events (what
    engine/history.py compares the next change with), and which (record, event) entries were
    seen, so an event delivered twice changes nothing the second time, as in the history
    projection. That state grows with the number of records and record events, not with the
    rows written. Every event must go through `rows_of`, even those not exported (`--since`),
    so the first exported change of a record is compared with what it was before.
    """

    def __init__(self) -> None:
        self._snapshots: dict[tuple[RecordKind, str], Mapping[str, Any]] = {}
        self._seen: set[tuple[RecordKind, str, str]] = set()

    def previous(self, kind: RecordKind, record_id: str) -> Mapping[str, Any] | None:
        return self._snapshots.get((kind, record_id))

    def rows_of(self, event: Envelope) -> Iterator[FieldChangeRow]:
        for entry in entries_of(event, self.previous):
            key = (entry.kind, entry.record_id, entry.event_id)
            if key in self._seen:
                continue
            self._seen.add(key)
            self._move_head(entry)
            yield from _change_rows(event.tenant, entry)

    def _move_head(self, entry: HistoryEntry) -> None:
        if entry.source != HOME_SYSTEM[entry.kind]:
            return
        if entry.deleted:
            self._snapshots.pop((entry.kind, entry.record_id), None)
        elif entry.snapshot is not None:
            self._snapshots[(entry.kind, entry.record_id)] = entry.snapshot


def _change_rows(tenant: str, entry: HistoryEntry) -> Iterator[FieldChangeRow]:
    for change in entry.changes:
        yield FieldChangeRow(
            tenant=tenant,
            event_id=entry.event_id,
            event_type=entry.event_type,
            time=utc(entry.at),
            record_kind=entry.kind,
            record_id=entry.record_id,
            source=entry.source,
            summary=entry.summary,
            cause_id=entry.cause_id,
            cause_kind=entry.cause_kind,
            command_id=entry.command_id,
            field=change.field,
            before=change.before,
            after=change.after,
        )
