"""The history projection (issue 7): every change to a person, company or customer, with its
source, fields before and after, and cause (engine/history.py says what each event tells).

Rows are keyed by (tenant, record, event id), so an event delivered twice is stored once. The
last snapshot each record's own system reported is kept in `proj_history_heads`: the next change
event of that record is compared with it. Those events travel on one partition per tenant, so a
replay meets them in the same order and finds the same changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from engine.history import HOME_SYSTEM, HistoryEntry, RecordKind, entries_of
from projections.sql import insert_new, upsert
from projections.tables import history, history_heads, history_mappings
from schemas.decisions import InstallationChanged
from schemas.envelope import Envelope
from schemas.settings import IntegrationSettings

DEFAULT_MAPPING = IntegrationSettings().field_mapping


def project(event: Envelope, conn: Connection) -> None:
    if isinstance(event, InstallationChanged):
        _mapping(event, conn)

    def previous(kind: RecordKind, record_id: str) -> Mapping[str, Any] | None:
        row = conn.execute(
            select(history_heads.c.snapshot).where(
                history_heads.c.tenant == event.tenant,
                history_heads.c.kind == kind,
                history_heads.c.record_id == record_id,
            )
        ).first()
        return None if row is None else row.snapshot

    for entry in entries_of(event, previous):
        if insert_new(conn, history, _row(event.tenant, entry)) and _moves_head(entry):
            upsert(
                conn,
                history_heads,
                {
                    "tenant": event.tenant,
                    "kind": entry.kind,
                    "record_id": entry.record_id,
                    "snapshot": None if entry.deleted else entry.snapshot,
                },
            )


def _moves_head(entry: HistoryEntry) -> bool:
    home = entry.source == HOME_SYSTEM[entry.kind]
    return home and (entry.deleted or entry.snapshot is not None)


def _row(tenant: str, entry: HistoryEntry) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "kind": entry.kind,
        "record_id": entry.record_id,
        "event_id": entry.event_id,
        "at": entry.at,
        "source": entry.source,
        "event_type": entry.event_type,
        "summary": entry.summary,
        "cause_id": entry.cause_id,
        "cause_kind": entry.cause_kind,
        "command_id": entry.command_id,
        "changes": [change.model_dump(mode="json") for change in entry.changes],
        "snapshot": entry.snapshot,
        "deleted": entry.deleted,
    }


def _mapping(event: InstallationChanged, conn: Connection) -> None:
    """The field mapping in force: the default at install, then each saved one."""
    if event.data.change == "installed":
        mapping = DEFAULT_MAPPING
    elif event.data.change == "settings_saved" and event.data.settings is not None:
        mapping = event.data.settings.field_mapping
    else:
        return
    row = {
        "tenant": event.tenant,
        "field_mapping": [pair.model_dump(mode="json") for pair in mapping],
        "updated_at": event.time,
    }
    upsert(conn, history_mappings, row)
