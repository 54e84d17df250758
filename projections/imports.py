"""Import runs, from the import decisions: running → finished (terminal) or failed (resumable).

A run is keyed by the id of its ImportRequested. Finished is terminal: a late or repeated
Started, Progressed or Failed does not reopen it; a Started after Failed is a resumed run.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

from sqlalchemy import Connection

from projections.sql import upsert
from projections.tables import imports
from schemas.decisions import (
    ImportDecisionData,
    ImportFailed,
    ImportFinished,
    ImportProgressed,
    ImportStarted,
)
from schemas.envelope import Envelope

_NOT_FINISHED = imports.c.status != "finished"


@singledispatch
def project(event: Envelope, conn: Connection) -> None:
    """Any other event changes no import run."""


@project.register
def _started(event: ImportStarted, conn: Connection) -> None:
    row = _row(event, event.data) | {"requested_by": event.data.requested_by}
    upsert(
        conn,
        imports,
        row,
        update=("status", "requested_by", "failure_reason", "finished_at", "updated_at"),
        where=lambda _new: _NOT_FINISHED,
    )
    # A run first seen through a later decision gets who started it, and when, all the same.
    mine = (imports.c.tenant == event.tenant) & (imports.c.request_id == event.data.request_id)
    conn.execute(
        imports.update()
        .where(mine, imports.c.requested_by.is_(None))
        .values(requested_by=event.data.requested_by)
    )
    conn.execute(
        imports.update()
        .where(mine, imports.c.started_at > event.time)
        .values(started_at=event.time)
    )


@project.register
def _progressed(event: ImportProgressed, conn: Connection) -> None:
    d = event.data
    row = _row(event, d) | {"counts": dict(d.counts), "total": d.total}
    upsert(
        conn,
        imports,
        row,
        update=("counts", "total", "updated_at"),
        where=lambda _new: imports.c.status == "running",
    )


@project.register
def _finished(event: ImportFinished, conn: Connection) -> None:
    row = _row(event, event.data) | {
        "status": "finished",
        "finished_at": event.time,
        "summary": event.data.summary.model_dump(mode="json"),
    }
    upsert(
        conn,
        imports,
        row,
        update=("status", "finished_at", "summary", "failure_reason", "updated_at"),
        where=lambda _new: _NOT_FINISHED,
    )


@project.register
def _failed(event: ImportFailed, conn: Connection) -> None:
    row = _row(event, event.data) | {
        "status": "failed",
        "finished_at": event.time,
        "failure_reason": event.data.reason,
    }
    upsert(
        conn,
        imports,
        row,
        update=("status", "finished_at", "failure_reason", "updated_at"),
        where=lambda _new: _NOT_FINISHED,
    )


def _row(event: Envelope, d: ImportDecisionData) -> dict[str, Any]:
    """A new run as this decision would create it (used when it is the first one we see)."""
    return {
        "tenant": event.tenant,
        "request_id": d.request_id,
        "dry_run": d.dry_run,
        "requested_by": None,
        "status": "running",
        "started_at": event.time,
        "finished_at": None,
        "updated_at": event.time,
        "counts": {},
        "total": None,
        "summary": None,
        "failure_reason": None,
    }
