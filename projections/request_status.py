"""What became of a request, from the health rows and the document decisions.

- Verdict: the decisions accounting for the request id (proj_accountings). A request may be
  accounted for more than once (a redelivery is ignored as a duplicate after it was applied), so
  the strongest verdict wins: denied, then applied, then ignored; none yet is pending (or
  dead_lettered, if the request itself was).
- Commands: those naming the request (a document command's `request_id`, else its correlation
  id) and those its InputApplied listed, each with its outcome (succeeded wins over a failure an
  operator retried; a dead-lettered command says so).
- Documents: what the document decisions for the request created or sent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, select

from projections.document_queries import one
from projections.models import (
    DocumentView,
    RequestCommandView,
    RequestDocumentView,
    RequestView,
)
from projections.tables import (
    accountings,
    commands,
    dead_letters,
    inputs,
    outcomes,
    request_documents,
)

_STRENGTH = {"denied": 0, "applied": 1, "ignored": 2}


def request_status(conn: Connection, tenant: str, request_id: str) -> RequestView | None:
    received = _rows(conn, inputs, inputs.c.input_id == request_id, tenant)
    decided = _rows(conn, accountings, accountings.c.input_id == request_id, tenant)
    issued = _commands(conn, tenant, request_id, decided)
    made = _rows(conn, request_documents, request_documents.c.request_id == request_id, tenant)
    dead = _rows(conn, dead_letters, dead_letters.c.original_id == request_id, tenant)
    if not (received or decided or issued or made or dead):
        return None
    verdict: dict[str, Any] = {"verdict": "pending", "code": None, "reason": None}
    verdict["decided_at"] = None
    if decided:
        first = min(decided, key=lambda row: (_STRENGTH[row["verdict"]], row["time"]))
        verdict = {"verdict": first["verdict"], "code": first["reason"]}
        verdict |= {"reason": first["detail"], "decided_at": first["time"]}
    elif dead:
        verdict = {"verdict": "dead_lettered", "code": dead[0]["stage"]}
        verdict |= {"reason": dead[0]["reason"], "decided_at": dead[0]["time"]}
    request_type = received[0]["input_type"] if received else None
    return RequestView(
        request_id=request_id,
        request_type=request_type or next((row["input_type"] for row in decided), None),
        received_at=received[0]["time"] if received else None,
        **verdict,
        commands=issued,
        documents=[_document(conn, tenant, row) for row in sorted(made, key=_by_time)],
    )


def _rows(conn: Connection, table: Any, where: Any, tenant: str) -> list[RowMapping]:
    return list(conn.execute(select(table).where(table.c.tenant == tenant, where)).mappings())


def _by_time(row: RowMapping) -> tuple[Any, ...]:
    return (row["time"], row["decision_id"])


def _commands(
    conn: Connection, tenant: str, request_id: str, decided: list[RowMapping]
) -> list[RequestCommandView]:
    named = _rows(conn, commands, commands.c.correlation_id == request_id, tenant)
    ids = {row["command_id"] for row in named}
    for row in decided:
        ids.update(row["command_ids"] or [])
    views = [_command(conn, tenant, command_id) for command_id in ids]
    return sorted(views, key=lambda v: (v.issued_at is None, v.issued_at, v.command_id))


def _command(conn: Connection, tenant: str, command_id: str) -> RequestCommandView:
    found = _rows(conn, commands, commands.c.command_id == command_id, tenant)
    command = found[0] if found else None
    results = _rows(conn, outcomes, outcomes.c.command_id == command_id, tenant)
    dead = _rows(conn, dead_letters, dead_letters.c.original_id == command_id, tenant)
    view: dict[str, Any] = {
        "command_id": command_id,
        "command_type": command["command_type"] if command else None,
        "subject": command["subject"] if command else None,
        "issued_at": command["issued_at"] if command else None,
        "status": "pending",
        "attempts": None,
        "reason": None,
        "code": None,
        "retryable": None,
        "finished_at": None,
    }
    if results:
        last = max(results, key=lambda row: (row["succeeded"], row["time"], row["outcome_id"]))
        view |= {
            "command_type": view["command_type"] or last["command_type"],
            "status": "succeeded" if last["succeeded"] else "failed",
            "attempts": last["attempts"],
            "reason": last["reason"],
            "code": last["code"],
            "retryable": last["retryable"],
            "finished_at": last["time"],
        }
    elif dead:
        view |= {"status": "dead_lettered", "reason": dead[0]["reason"]}
        view["finished_at"] = dead[0]["time"]
    return RequestCommandView(**view)


def _document(conn: Connection, tenant: str, row: RowMapping) -> RequestDocumentView:
    found = one(conn, tenant, row["document_type"], row["qbo_id"], viewer=None)
    shown = None
    if found is not None and found.origin == "crm":  # a QBO-made one is shown by its visibility
        shown = DocumentView(**found.model_dump(exclude={"snapshot"}))
    return RequestDocumentView(
        action=row["action"],
        document_type=row["document_type"],
        qbo_id=row["qbo_id"],
        document=shown,
    )
