"""Sync health facts: inputs and the decisions accounting for them, commands and their outcomes,
dead letters. Conflicts are recorded with the links (projections/links.py).

Inputs and decisions, commands and outcomes travel on different topics, so either of a pair may
be projected first; each is a row keyed by its own id, and "pending" is worked out when asked
(an input without a decision, a command without an outcome), whatever the order was.
"""

from __future__ import annotations

import json
from functools import singledispatch
from typing import Any

from sqlalchemy import Connection

from engine.ids import derived_id
from projections.sql import insert_new
from projections.tables import accountings, commands, dead_letters, inputs, outcomes
from schemas.commands import COMMANDS, JOBS, RunImport
from schemas.crm import CRM_EVENTS
from schemas.deadletter import DeadLettered
from schemas.decisions import (
    ImportFailed,
    ImportFinished,
    ImportStarted,
    InputApplied,
    InputIgnored,
    InstallationChanged,
    RequestDenied,
)
from schemas.envelope import Envelope, type_of
from schemas.outcomes import CommandFailed, CommandSucceeded
from schemas.qbo import QBO_EVENTS
from schemas.requests import REQUEST_EVENTS


@singledispatch
def project(event: Envelope, conn: Connection) -> None:
    """Any other event is no health fact."""


def _input(event: Envelope, conn: Connection) -> None:
    row = {"tenant": event.tenant, "input_id": event.id, "input_type": event.type}
    insert_new(conn, inputs, row | {"time": event.time})


def _command(event: Envelope, conn: Connection) -> None:
    row: dict[str, Any] = {"tenant": event.tenant, "command_id": event.id}
    row |= {"command_type": event.type, "subject": event.subject}
    row["correlation_id"] = _served_request(event)
    insert_new(conn, commands, row | {"issued_at": event.time})


def _served_request(command: Envelope) -> str | None:
    """The request a command serves (document commands and import jobs name it), else the id
    its flow is correlated by."""
    request_id = getattr(command.data, "request_id", None)
    return request_id if isinstance(request_id, str) else command.correlationid


for _cls in (*CRM_EVENTS, *QBO_EVENTS, *REQUEST_EVENTS):
    project.register(_cls, _input)
for _cls in (*COMMANDS, *JOBS):
    project.register(_cls, _command)


def _accounted(
    conn: Connection,
    event: Envelope,
    input_id: str,
    input_type: str | None,
    verdict: str,
    reason: str | None = None,
    **more: Any,
) -> None:
    row: dict[str, Any] = {"tenant": event.tenant, "decision_id": event.id, "input_id": input_id}
    row |= {"input_type": input_type, "verdict": verdict, "reason": reason, "time": event.time}
    insert_new(conn, accountings, row | more)


@project.register
def _applied(event: InputApplied, conn: Connection) -> None:
    d = event.data
    _accounted(
        conn, event, d.input_id, d.input_type, "applied", command_ids=list(d.command_ids) or None
    )


@project.register
def _ignored(event: InputIgnored, conn: Connection) -> None:
    d = event.data
    _accounted(conn, event, d.input_id, d.input_type, "ignored", d.reason, detail=d.detail or None)


@project.register
def _denied(event: RequestDenied, conn: Connection) -> None:
    d = event.data
    _accounted(conn, event, d.input_id, d.input_type, "denied", d.code, detail=d.reason)


# Admin requests are accounted for by what they changed (streams/request_decisions.py).
@project.register
def _installation_changed(event: InstallationChanged, conn: Connection) -> None:
    _accounted(conn, event, event.data.input_id, None, "applied")


@project.register
def _import_started(event: ImportStarted, conn: Connection) -> None:
    _accounted(conn, event, event.data.request_id, "qbsync.request.import.v1", "applied")


def _outcome(conn: Connection, event: Envelope, **fields: Any) -> None:
    insert_new(conn, outcomes, {"tenant": event.tenant, "outcome_id": event.id, **fields})


@project.register
def _succeeded(event: CommandSucceeded, conn: Connection) -> None:
    d = event.data
    _outcome(
        conn,
        event,
        command_id=d.command_id,
        command_type=d.command_type,
        succeeded=True,
        attempts=d.attempts,
        reason=None,
        code=None,
        retryable=None,
        time=event.time,
    )


def _job_ended(event: ImportFinished | ImportFailed, conn: Connection, failure: str | None) -> None:
    """An import job has no outcome event: its end is the outcome of its RunImport command."""
    _outcome(
        conn,
        event,
        command_id=derived_id(event.data.request_id, "run-import"),
        command_type=type_of(RunImport),
        succeeded=failure is None,
        attempts=1,
        reason=failure,
        code=None,
        retryable=None if failure is None else True,
        time=event.time,
    )


@project.register
def _import_finished(event: ImportFinished, conn: Connection) -> None:
    _job_ended(event, conn, None)


@project.register
def _import_failed(event: ImportFailed, conn: Connection) -> None:
    _job_ended(event, conn, event.data.reason)


@project.register
def _failed(event: CommandFailed, conn: Connection) -> None:
    d = event.data
    _outcome(
        conn,
        event,
        command_id=d.command_id,
        command_type=d.command_type,
        succeeded=False,
        attempts=d.attempts,
        reason=d.reason,
        code=d.code,
        retryable=d.retryable,
        time=event.time,
    )


@project.register
def _dead_lettered(event: DeadLettered, conn: Connection) -> None:
    d = event.data
    row = {
        "tenant": event.tenant,
        "dead_letter_id": event.id,
        "stage": d.stage,
        "original_id": _original_id(d.value_text),
        "reason": d.reason,
        "errors": [error.model_dump(mode="json") for error in d.errors],
        "source_topic": d.source_topic,
        "partition": d.partition,
        "offset": d.offset,
        "time": event.time,
    }
    insert_new(conn, dead_letters, row)


def _original_id(value_text: str | None) -> str | None:
    """The `id` the dead-lettered bytes carry, if they are a JSON object that has one."""
    if not value_text:
        return None
    try:
        document = json.loads(value_text)
    except ValueError:
        return None
    found = document.get("id") if isinstance(document, dict) else None
    return found[:200] if isinstance(found, str) and found else None
