"""Reading a record's history (issue 7): one timeline across the CRM, QBO, the engine and users.

Each entry says who changed the record (source), each field before and after, and why (its
cause, with the cause's own type and changes when it is an event the history holds, or the
import and who asked for it). Two facts come from elsewhere when read:
- the engine's verdict on a change event of the CRM or QBO (applied, or ignored and why);
- whether that change is the engine's own write coming back (an *echo*): every field the
  latest engine write of the record set changed to the written value here. Such a change is
  attributed to the engine and names the command, so "who cleared the phone?" has one answer.

`as_of` cuts the timeline at that time and gives the record as its own system last reported it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import Connection, RowMapping, select

from engine.history import HOME_SYSTEM, RecordKind
from projections.models import View
from projections.tables import accountings, history, imports, inputs

HistorySource = Literal["crm", "qbo", "engine", "user"]
SOURCE_CLOCK_GRAIN = timedelta(seconds=1)  # the CRM stamps changes in whole seconds


class FieldChangeView(View):
    field: str = Field(description="dotted path on the record's own side")
    before: str | None
    after: str | None


class CauseView(View):
    id: str
    kind: str = Field(description="event, command, import or request")
    type: str | None = Field(description="the cause's event type, when known")
    summary: str | None = Field(description="what the cause was, when the history holds it")
    changes: list[FieldChangeView] = Field(
        default_factory=list, description="the fields the cause changed on its own record"
    )
    requested_by: int | None = Field(default=None, description="user id, for an import")


class TimelineEntry(View):
    at: datetime
    source: HistorySource = Field(description="who changed it: crm, qbo, engine or user")
    reported_by: str = Field(description="the system or part whose event this is")
    event_id: str
    event_type: str
    summary: str
    changes: list[FieldChangeView]
    cause: CauseView | None
    command_id: str | None = Field(description="the engine's command, for a write or an echo")
    echo_of: str | None = Field(description="the engine command whose write this change is")
    verdict: str | None = Field(
        description="the engine's verdict on a CRM or QBO change: applied, or ignored:<reason>"
    )


class RecordHistory(View):
    tenant: str
    kind: RecordKind
    record_id: str
    as_of: datetime | None
    record: dict[str, Any] | None = Field(
        description="the record as its own system last reported it (at `as_of`, when given)"
    )
    deleted: bool = Field(description="deleted (or merged away) at that time")
    entries: list[TimelineEntry]


def record_history(
    conn: Connection, tenant: str, kind: RecordKind, record_id: str, as_of: datetime | None = None
) -> RecordHistory | None:
    """The record's timeline, oldest first; None when the history has nothing of it."""
    query = select(history).where(
        history.c.tenant == tenant, history.c.kind == kind, history.c.record_id == record_id
    )
    if as_of is not None:
        query = query.where(history.c.at <= as_of)
    rows = list(conn.execute(query.order_by(history.c.at, history.c.event_id)).mappings())
    if not rows:
        return None
    verdicts = _verdicts(conn, tenant, [row["event_id"] for row in rows])
    causes = _causes(conn, tenant, rows)
    placed: list[tuple[datetime, int, TimelineEntry]] = []
    record, deleted = None, False
    home = HOME_SYSTEM[kind]
    writes = [row for row in rows if row["source"] == "engine" and row["command_id"] is not None]
    for index, row in enumerate(rows):
        write = _echo_of(row, writes) if row["source"] == home else None
        cause = None if row["cause_id"] == row["event_id"] else causes.get(row["cause_id"])
        echo_of = str(write["command_id"]) if write is not None else None
        # An echo is told right after the write it reports, even when the system's coarser
        # clock stamps it a fraction of a second before.
        when = max(row["at"], write["at"]) if write is not None else row["at"]
        placed.append((when, index, _entry(row, cause, verdicts, echo_of)))
        if row["source"] == home and (row["deleted"] or row["snapshot"] is not None):
            record, deleted = (None, True) if row["deleted"] else (row["snapshot"], False)
    entries = [entry for _, _, entry in sorted(placed, key=lambda item: (item[0], item[1]))]
    return RecordHistory(
        tenant=tenant,
        kind=kind,
        record_id=record_id,
        as_of=as_of,
        record=record,
        deleted=deleted,
        entries=entries,
    )


class ReportedRecord(View):
    record: dict[str, Any] | None
    deleted: bool


def reported_record(
    conn: Connection, tenant: str, kind: RecordKind, record_id: str, as_of: datetime | None = None
) -> ReportedRecord | None:
    """The record as its own system last reported it (at or before `as_of`): one row read, for
    callers that need the record and not its timeline. None: never reported by then."""
    query = select(history.c.snapshot, history.c.deleted).where(
        history.c.tenant == tenant,
        history.c.kind == kind,
        history.c.record_id == record_id,
        history.c.source == HOME_SYSTEM[kind],  # its change and delete events, each a snapshot
    )
    if as_of is not None:
        query = query.where(history.c.at <= as_of)
    row = conn.execute(query.order_by(history.c.at.desc(), history.c.event_id.desc())).first()
    if row is None:
        return None
    return ReportedRecord(record=None if row.deleted else row.snapshot, deleted=row.deleted)


def records_caused_by(conn: Connection, tenant: str, cause_id: str) -> list[tuple[str, str]]:
    """(kind, record id) of every record whose history names `cause_id` as a cause: what one
    QBO change or one import touched."""
    rows = conn.execute(
        select(history.c.kind, history.c.record_id)
        .where(history.c.tenant == tenant, history.c.cause_id == cause_id)
        .distinct()
        .order_by(history.c.kind, history.c.record_id)
    )
    return [(kind, record_id) for kind, record_id in rows]


def _changes(raw: Sequence[dict[str, Any]]) -> list[FieldChangeView]:
    return [FieldChangeView(**change) for change in raw]


def _echo_of(row: RowMapping, writes: Sequence[RowMapping]) -> RowMapping | None:
    """The engine write this system change reports, if it is one: every field the latest
    engine write of the record (at most a second later: the CRM reports whole seconds) set holds
    the written value here. The system may report more: fields it derives, like the CRM's full
    name and map link. `writes`: the record's engine writes, in history order."""
    changed = {change["field"]: change["after"] for change in row["changes"]}
    if not changed:
        return None
    earlier = [write for write in writes if write["at"] <= row["at"] + SOURCE_CLOCK_GRAIN]
    if not earlier:
        return None
    latest = earlier[-1]  # only the latest write of the record can be coming back now
    written = {change["field"]: change["after"] for change in latest["changes"]}
    if written and all(f in changed and changed[f] == v for f, v in written.items()):
        return latest
    return None


def _entry(
    row: RowMapping, cause: CauseView | None, verdicts: dict[str, str], echo_of: str | None
) -> TimelineEntry:
    verdict = verdicts.get(row["event_id"]) if row["source"] in ("crm", "qbo") else None
    is_echo = echo_of is not None or verdict == "ignored:echo"
    return TimelineEntry(
        at=row["at"],
        source="engine" if is_echo else row["source"],
        reported_by=row["source"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        summary=row["summary"] + (" (the engine's own write coming back)" if is_echo else ""),
        changes=_changes(row["changes"]),
        cause=cause,
        command_id=row["command_id"] or echo_of,
        echo_of=echo_of,
        verdict=verdict,
    )


def _verdicts(conn: Connection, tenant: str, event_ids: list[str]) -> dict[str, str]:
    found = conn.execute(
        select(accountings.c.input_id, accountings.c.verdict, accountings.c.reason).where(
            accountings.c.tenant == tenant, accountings.c.input_id.in_(event_ids)
        )
    )
    return {
        input_id: verdict if verdict != "ignored" else f"ignored:{reason}"
        for input_id, verdict, reason in found
    }


def _causes(conn: Connection, tenant: str, rows: list[RowMapping]) -> dict[str, CauseView]:
    wanted = {row["cause_id"]: row["cause_kind"] for row in rows if row["cause_id"]}
    if not wanted:
        return {}
    ids = list(wanted)
    told = {
        row["event_id"]: row
        for row in conn.execute(
            select(history).where(history.c.tenant == tenant, history.c.event_id.in_(ids))
        ).mappings()
    }
    types = dict(
        conn.execute(
            select(inputs.c.input_id, inputs.c.input_type).where(
                inputs.c.tenant == tenant, inputs.c.input_id.in_(ids)
            )
        ).all()
    )
    requested = dict(
        conn.execute(
            select(imports.c.request_id, imports.c.requested_by).where(
                imports.c.tenant == tenant, imports.c.request_id.in_(ids)
            )
        ).all()
    )
    causes = {}
    for cause_id, kind in wanted.items():
        row = told.get(cause_id)
        causes[cause_id] = CauseView(
            id=cause_id,
            kind=kind or "event",
            type=row["event_type"] if row is not None else types.get(cause_id),
            summary=row["summary"] if row is not None else None,
            changes=_changes(row["changes"]) if row is not None else [],
            requested_by=requested.get(cause_id),
        )
    return causes
