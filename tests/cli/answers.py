"""The engine's answers to document requests, built the way the engine words them: shared by the
unit tests of `qbsync invoice|estimate` and the fake engine of its broker tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from qbsync.document_cli import describe
from schemas.decisions import (
    DocumentCreated,
    DocumentCreatedData,
    DocumentSent,
    DocumentSentData,
    InputApplied,
    InputAppliedData,
    InputIgnored,
    InputIgnoredData,
    RequestDenied,
    RequestDeniedData,
)
from schemas.envelope import Envelope
from schemas.outcomes import CommandFailed, CommandFailedData

CUSTOMER_ID = "58"
DENIAL = (
    "user 8 is a basic user and basic users may not create invoices "
    "(an admin can allow it in the integration's permissions)"
)
QBO_FAILURE = "Business Validation Error: Invalid Reference Id: Item 99 is not found"


def command_id(request: Envelope) -> str:
    return f"{request.id}-command"


def _meta(request: Envelope, action: str, *, correlated: bool = True) -> dict[str, Any]:
    return {
        "id": f"{request.id}-{action}",
        "source": "/test/engine",
        "time": datetime.now(UTC),
        "tenant": request.tenant,
        "correlationid": request.id if correlated else None,
        "causationid": request.id,
    }


def _actor_id(request: Any) -> int:
    return int(request.data.actor.user_id)


def applied(request: Envelope) -> InputApplied:
    return InputApplied(
        **_meta(request, "applied"),
        data=InputAppliedData(
            input_id=request.id, input_type=request.type, command_ids=(command_id(request),)
        ),
    )


def denied(request: Envelope) -> RequestDenied:
    return RequestDenied(
        **_meta(request, "denied"),
        data=RequestDeniedData(
            input_id=request.id,
            input_type=request.type,
            code="not_allowed",
            reason=DENIAL,
            actor_user_id=_actor_id(request),
        ),
    )


def ignored(request: Envelope) -> InputIgnored:
    return InputIgnored(
        **_meta(request, "ignored"),
        data=InputIgnoredData(
            input_id=request.id,
            input_type=request.type,
            reason="not_installed",
            detail=f"tenant {request.tenant} is not installed",
        ),
    )


def failed(request: Envelope, *, correlated: bool = True) -> CommandFailed:
    """QBO refused the write; `correlated=False`: known only by the applied command id."""
    kind, action = describe(request)
    return CommandFailed(
        **_meta(request, "failed", correlated=correlated),
        data=CommandFailedData(
            command_id=command_id(request),
            command_type=f"qbsync.command.qbo.{kind}.{action}.v1",
            attempts=1,
            reason=QBO_FAILURE,
            code="6000",
            retryable=False,
        ),
    )


def snapshot(kind: str, qbo_id: str = "130", number: str = "1038", **extra: Any) -> dict[str, Any]:
    return {
        "Id": qbo_id,
        "SyncToken": "0",
        "DocNumber": number,
        "CustomerRef": {"value": CUSTOMER_ID},
        "TotalAmt": 1500.0,
        "BillEmail": {"Address": "billing@acme.example"},
        "TxnStatus": "Pending" if kind == "estimate" else None,
        **extra,
    }


def _document(request: Envelope, qbo_id: str) -> dict[str, Any]:
    kind, _action = describe(request)
    return {
        "input_id": f"{request.id}-outcome",
        "request_id": request.id,
        "requested_by": _actor_id(request),
        "command_id": command_id(request),
        "document_type": kind,
        "qbo_id": qbo_id,
        "customer_id": CUSTOMER_ID,
        "snapshot": snapshot(kind, qbo_id),
    }


def created(request: Any, **updates: Any) -> DocumentCreated:
    """The document a create request made, for its deal and person."""
    data = request.data
    fields = _document(request, "130") | {
        "person_id": data.person_id,
        "deal_id": data.deal_id,
        "customer_source": "link",
        "sent": data.send_now,
    }
    return DocumentCreated(
        **_meta(request, "created"), data=DocumentCreatedData(**(fields | updates))
    )


def converted(request: Envelope, *, already: bool = False) -> DocumentCreated:
    """The invoice a convert request made from estimate 101 (number 1001), which is Closed."""
    estimate = snapshot("estimate", "101", "1001", TxnStatus="Closed")
    fields = _document(request, "131") | {
        "document_type": "invoice",
        "snapshot": snapshot("invoice", "131", "1039", LinkedTxn=[{"TxnId": "101"}]),
        "person_id": 42,
        "customer_source": "link",
        "from_estimate_id": "101",
        "estimate": estimate,
        "already_converted": already,
    }
    return DocumentCreated(**_meta(request, "converted"), data=DocumentCreatedData(**fields))


def sent(request: Any) -> DocumentSent:
    data = request.data
    kind, _action = describe(request)
    fields = _document(request, data.qbo_id) | {
        "person_id": 42,
        "send_to": data.send_to,
        "snapshot": snapshot(kind, data.qbo_id, EmailStatus="EmailSent"),
    }
    return DocumentSent(**_meta(request, "sent"), data=DocumentSentData(**fields))
