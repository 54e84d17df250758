"""Invoices and estimates as the CRM shows them (SYNC-RULES 6), one row per (tenant, type, QBO id),
and the per-tenant facts their visibility needs (SYNC-RULES 3).

QBO changes and the engine's document decisions travel on different topics, so either may come
first. Each row is therefore folded from what it holds and the event, in Python, under a row lock:
- the QBO snapshot only moves forward: a SyncToken older than the stored one changes nothing, and
  at an equal token QBO's own event wins over the snapshot a decision carries;
- `origin` is `crm` once a DocumentCreated names the document, and never goes back to `qbo`;
- a void (QBO keeps the invoice with zero amounts) and a delete are terminal.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import singledispatch
from typing import Any

from sqlalchemy import Connection, select

from projections.sql import insert_new, upsert
from projections.tables import document_visibility, documents, request_documents
from schemas.decisions import DocumentCreated, DocumentSent, DocumentType, InstallationChanged
from schemas.envelope import Envelope
from schemas.qbo import (
    QboDeletedData,
    QboEstimateChanged,
    QboEstimateDeleted,
    QboInvoiceChanged,
    QboInvoiceDeleted,
)
from schemas.settings import IntegrationSettings

Row = dict[str, Any]
DEFAULT_VISIBILITY = IntegrationSettings().visibility


@singledispatch
def project(event: Envelope, conn: Connection) -> None:
    """Any other event changes no document."""


# --- QBO changes ----------------------------------------------------------------------------


@project.register
def _invoice_changed(event: QboInvoiceChanged, conn: Connection) -> None:
    entity = event.data.entity.model_dump(mode="json", exclude_unset=True)
    _qbo_changed(conn, event, "invoice", entity, event.data.op == "voided", event.data.realm_id)


@project.register
def _estimate_changed(event: QboEstimateChanged, conn: Connection) -> None:
    entity = event.data.entity.model_dump(mode="json", exclude_unset=True)
    _qbo_changed(conn, event, "estimate", entity, False, event.data.realm_id)


def _qbo_changed(
    conn: Connection,
    event: Envelope,
    document_type: DocumentType,
    entity: dict[str, Any],
    void: bool,
    realm_id: str,
) -> None:
    row = _locked(conn, event, document_type, str(entity["Id"]))
    folded = with_snapshot(row, entity, from_qbo=True, void=void)
    _save(conn, event, row, folded | {"realm_id": realm_id})


@project.register
def _invoice_deleted(event: QboInvoiceDeleted, conn: Connection) -> None:
    _deleted(conn, event, "invoice", event.data)


@project.register
def _estimate_deleted(event: QboEstimateDeleted, conn: Connection) -> None:
    _deleted(conn, event, "estimate", event.data)


def _deleted(
    conn: Connection, event: Envelope, document_type: DocumentType, d: QboDeletedData
) -> None:
    row = _locked(conn, event, document_type, d.id)
    _save(conn, event, row, row | {"deleted_at": row["deleted_at"] or d.deleted_at})


# --- the engine's document decisions ----------------------------------------------------------


@project.register
def _created(event: DocumentCreated, conn: Connection) -> None:
    d = event.data
    estimate = None
    if d.from_estimate_id is not None and d.estimate is not None:
        before = _locked(conn, event, "estimate", d.from_estimate_id)
        estimate = with_snapshot(before, d.estimate, from_qbo=False)
        _save(conn, event, before, estimate)
    elif d.from_estimate_id is not None:
        estimate = _existing(conn, event.tenant, "estimate", d.from_estimate_id)
    current = _locked(conn, event, d.document_type, d.qbo_id)
    row = with_snapshot(current, d.snapshot, from_qbo=False)
    # A conversion names no deal: the invoice belongs where its estimate does.
    inherited = estimate or {}
    row = row | {
        "origin": "crm",
        "deal_id": _first(d.deal_id, row["deal_id"], inherited.get("deal_id")),
        "person_id": _first(d.person_id, row["person_id"], inherited.get("person_id")),
        "company_id": _first(d.company_id, row["company_id"], inherited.get("company_id")),
        "from_estimate_id": _first(d.from_estimate_id, row["from_estimate_id"]),
    }
    if row["request_id"] is None or not d.already_converted:  # the request that made it
        row = row | {"request_id": d.request_id, "requested_by": d.requested_by}
    _save(conn, event, current, row)
    action = "already_converted" if d.already_converted else "created"
    _record_request(conn, event, d.request_id, action, d.document_type, d.qbo_id)


@project.register
def _sent(event: DocumentSent, conn: Connection) -> None:
    d = event.data
    current = _locked(conn, event, d.document_type, d.qbo_id)
    row = with_snapshot(current, d.snapshot, from_qbo=False)
    if not row["emailed"]:  # sent it was, even if a newer snapshot had been seen already
        row = row | {"emailed": True, "email_status": "EmailSent"}
    row = row | {
        "delivered_at": row["delivered_at"] or event.time,
        "person_id": _first(row["person_id"], d.person_id),
    }
    _save(conn, event, current, row)
    _record_request(conn, event, d.request_id, "sent", d.document_type, d.qbo_id)


def _record_request(
    conn: Connection,
    event: Envelope,
    request_id: str,
    action: str,
    document_type: DocumentType,
    qbo_id: str,
) -> None:
    row = {"tenant": event.tenant, "decision_id": event.id, "request_id": request_id}
    row |= {"action": action, "document_type": document_type, "qbo_id": qbo_id}
    insert_new(conn, request_documents, row | {"time": event.time})


# --- visibility -----------------------------------------------------------------------------


@project.register
def _installation_changed(event: InstallationChanged, conn: Connection) -> None:
    d = event.data
    row: Row = {"tenant": event.tenant, "updated_at": event.time}
    if d.change == "installed":  # a (re)install starts from the default settings
        row |= {"owner_user_id": d.actor_user_id, "visibility": DEFAULT_VISIBILITY}
        upsert(conn, document_visibility, row)
    elif d.change == "settings_saved" and d.settings is not None:
        row |= {"owner_user_id": None, "visibility": d.settings.visibility}
        upsert(conn, document_visibility, row, update=("visibility", "updated_at"))


# --- folding a snapshot (pure) --------------------------------------------------------------


def with_snapshot(row: Row, snapshot: dict[str, Any], *, from_qbo: bool, void: bool = False) -> Row:
    """`row` with the QBO document `snapshot` folded in, unless the row has a newer one."""
    token, stored = _int(snapshot.get("SyncToken")), row["sync_token"]
    if stored is not None and (
        token is None or token < stored or (token == stored and not from_qbo)
    ):
        return dict(row)
    invoice = row["document_type"] == "invoice"
    customer = snapshot.get("CustomerRef") or {}
    delivery = snapshot.get("DeliveryInfo") or {}
    meta = snapshot.get("MetaData") or {}
    total = _money(snapshot.get("TotalAmt"))
    voided = invoice and (void or _looks_voided(snapshot, total))
    return row | {
        "doc_number": snapshot.get("DocNumber"),
        "txn_date": snapshot.get("TxnDate"),
        "due_date": snapshot.get("DueDate"),
        "expiration_date": snapshot.get("ExpirationDate"),
        "customer_id": customer.get("value") or row["customer_id"],
        "customer_name": customer.get("name"),
        "txn_status": snapshot.get("TxnStatus"),
        "total": total,
        "balance": _money(snapshot.get("Balance")),
        "email_status": snapshot.get("EmailStatus"),
        "emailed": snapshot.get("EmailStatus") == "EmailSent",
        "delivered_at": _time(delivery.get("DeliveryTime")),
        "voided": row["voided"] or voided,
        "lines": [_line(line) for line in snapshot.get("Line") or [] if _shown(line)],
        "linked_txns": [
            {"txn_id": str(link.get("TxnId")), "txn_type": link.get("TxnType")}
            for link in snapshot.get("LinkedTxn") or []
        ],
        "snapshot": snapshot,
        "sync_token": token,
        "last_updated_at": _time(meta.get("LastUpdatedTime")) or row["last_updated_at"],
    }


def document_status(row: Row) -> str:
    """deleted; an estimate's TxnStatus (pending, accepted, closed, rejected); an invoice's
    voided, paid (nothing left on a non-zero total), partially_paid or open."""
    if row["deleted_at"] is not None:
        return "deleted"
    if row["document_type"] == "estimate":
        return str(row["txn_status"] or "Pending").lower()
    if row["voided"]:
        return "voided"
    total, balance = _decimal(row["total"]), _decimal(row["balance"])
    if total is None or balance is None or total <= 0:
        return "open"
    if balance == 0:
        return "paid"
    return "partially_paid" if 0 < balance < total else "open"


def _looks_voided(snapshot: dict[str, Any], total: str | None) -> bool:
    """What a void leaves when no webhook said `Void` (a CDC sweep): QBO's "Voided" memo on an
    invoice whose amounts are all zero."""
    note = str(snapshot.get("PrivateNote") or "")
    return note.startswith("Voided") and _decimal(total) == 0


def _shown(line: dict[str, Any]) -> bool:
    return line.get("DetailType") != "SubTotalLineDetail"  # QBO's computed subtotal


def _line(line: dict[str, Any]) -> dict[str, Any]:
    detail = line.get("SalesItemLineDetail") or {}
    item = detail.get("ItemRef") or {}
    return {
        "line_id": line.get("Id"),
        "detail_type": line.get("DetailType"),
        "item_id": item.get("value"),
        "item_name": item.get("name"),
        "description": line.get("Description"),
        "quantity": _money(detail.get("Qty")),
        "unit_price": _money(detail.get("UnitPrice")),
        "amount": _money(line.get("Amount")),
    }


# --- rows -----------------------------------------------------------------------------------


def _locked(conn: Connection, event: Envelope, document_type: DocumentType, qbo_id: str) -> Row:
    """The document's row, created empty if new, locked until commit: the QBO and decision
    topics may be applied by two runners at once, and each fold reads before it writes."""
    insert_new(conn, documents, _empty(event, document_type, qbo_id))
    query = select(documents).where(*_key(event.tenant, document_type, qbo_id)).with_for_update()
    return dict(conn.execute(query).mappings().one())


def _existing(conn: Connection, tenant: str, document_type: str, qbo_id: str) -> Row | None:
    query = select(documents).where(*_key(tenant, document_type, qbo_id))
    found = conn.execute(query).mappings().first()
    return dict(found) if found is not None else None


def _save(conn: Connection, event: Envelope, before: Row, row: Row) -> None:
    """Write `row`, stamped with the latest event about the document (by time, then id).

    The stamp is the latest of every event applied to the row, whether it changed the row or
    not, so it is the same whatever order the QBO changes and the decisions topics were read in
    (a live runner and a replay interleave them differently)."""
    row = row | {"status": document_status(row)}
    latest = max((before["updated_at"], before["event_id"]), (event.time, event.id))
    if row == before and latest == (before["updated_at"], before["event_id"]):
        return
    row |= {"event_id": latest[1], "updated_at": latest[0]}
    key = _key(row["tenant"], row["document_type"], row["qbo_id"])
    conn.execute(documents.update().where(*key).values(**row))


def _key(tenant: str, document_type: str, qbo_id: str) -> tuple[Any, ...]:
    c = documents.c
    return (c.tenant == tenant, c.document_type == document_type, c.qbo_id == qbo_id)


def _empty(event: Envelope, document_type: DocumentType, qbo_id: str) -> Row:
    row: Row = {column.name: None for column in documents.c}
    return row | {
        "tenant": event.tenant,
        "document_type": document_type,
        "qbo_id": qbo_id,
        "status": "open" if document_type == "invoice" else "pending",
        "emailed": False,
        "voided": False,
        "lines": [],
        "linked_txns": [],
        "origin": "qbo",
        "event_id": event.id,
        "updated_at": event.time,
    }


def _first(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _money(value: Any) -> str | None:
    amount = _decimal(value)
    return str(amount) if amount is not None else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
