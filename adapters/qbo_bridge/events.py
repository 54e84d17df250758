"""QBO entities and tombstones → qbsync QBO change events.

Event ids are derived from the entity *version* (realm, entity, id, SyncToken), so the same version
seen through a webhook and through a CDC sweep becomes the same event, which consumers dedupe.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from schemas.envelope import Envelope
from schemas.qbo import (
    QboChangeOp,
    QboCustomer,
    QboCustomerChanged,
    QboCustomerChangedData,
    QboCustomerDeleted,
    QboCustomerMerged,
    QboCustomerMergedData,
    QboDeletedData,
    QboEstimate,
    QboEstimateChanged,
    QboEstimateChangedData,
    QboEstimateDeleted,
    QboInvoice,
    QboInvoiceChanged,
    QboInvoiceChangedData,
    QboInvoiceDeleted,
    QboItem,
    QboItemChanged,
    QboItemChangedData,
    QboItemDeleted,
)

EntityName = Literal["Customer", "Invoice", "Estimate", "Item"]

# Typed as Any: each concrete class pins its own `type`, which mypy cannot see through a mapping.
_CHANGED: dict[str, tuple[Any, Any, Any]] = {
    "Customer": (QboCustomerChanged, QboCustomerChangedData, QboCustomer),
    "Invoice": (QboInvoiceChanged, QboInvoiceChangedData, QboInvoice),
    "Estimate": (QboEstimateChanged, QboEstimateChangedData, QboEstimate),
    "Item": (QboItemChanged, QboItemChangedData, QboItem),
}
_DELETED: dict[str, Any] = {
    "Customer": QboCustomerDeleted,
    "Invoice": QboInvoiceDeleted,
    "Estimate": QboEstimateDeleted,
    "Item": QboItemDeleted,
}
_OPS: dict[str, QboChangeOp] = {
    "Create": "created",
    "Update": "updated",
    "Emailed": "emailed",
    "Void": "voided",
}


def source(realm_id: str) -> str:
    return f"/qbo/realms/{realm_id}"


def subject(entity: str, entity_id: str) -> str:
    return f"qbo/{entity.lower()}/{entity_id}"


def op_for(operation: str | None, entity_json: dict[str, Any]) -> QboChangeOp:
    """The webhook's operation when known; from CDC, created iff never updated since creation."""
    if operation in _OPS:
        return _OPS[operation]
    if operation == "Delete":  # a name-list record made inactive: it changed, it is not gone
        return "updated"
    meta = entity_json.get("MetaData", {})
    return "created" if meta.get("CreateTime") == meta.get("LastUpdatedTime") else "updated"


def changed_event(
    tenant: str, realm_id: str, entity: str, entity_json: dict[str, Any], op: QboChangeOp
) -> Envelope:
    event_cls, data_cls, model_cls = _CHANGED[entity]
    model = model_cls.model_validate(entity_json)
    event: Envelope = event_cls(
        id=f"qbo:{realm_id}:{entity.lower()}:{model.Id}:v{model.SyncToken}",
        source=source(realm_id),
        subject=subject(entity, model.Id),
        time=model.MetaData.LastUpdatedTime,
        tenant=tenant,
        data=data_cls(realm_id=realm_id, op=op, entity=model),
    )
    return event


def deleted_event(
    tenant: str, realm_id: str, entity: str, entity_id: str, deleted_at: datetime
) -> Envelope:
    event: Envelope = _DELETED[entity](
        id=f"qbo:{realm_id}:{entity.lower()}:{entity_id}:deleted",
        source=source(realm_id),
        subject=subject(entity, entity_id),
        time=deleted_at,
        tenant=tenant,
        data=QboDeletedData(realm_id=realm_id, id=entity_id, deleted_at=deleted_at),
    )
    return event


def customer_merged_event(
    tenant: str, realm_id: str, merged_id: str, surviving: dict[str, Any], merged_at: datetime
) -> Envelope:
    survivor = QboCustomer.model_validate(surviving)
    return QboCustomerMerged(
        id=f"qbo:{realm_id}:customer:{merged_id}:merged-into:{survivor.Id}",
        source=source(realm_id),
        subject=subject("Customer", survivor.Id),
        time=merged_at,
        tenant=tenant,
        data=QboCustomerMergedData(
            realm_id=realm_id,
            merged_id=merged_id,
            surviving_id=survivor.Id,
            merged_at=merged_at,
            surviving=survivor,
        ),
    )


def is_tombstone(entity_json: dict[str, Any]) -> bool:
    return entity_json.get("status") == "Deleted"
