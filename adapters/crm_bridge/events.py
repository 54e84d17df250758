"""CRM records → CRM change events.

The event id names the record *version*: tenant, model, id, the CRM's updated_at and a digest of
the record's content. The webhook bridge and the poller, seeing the same version, produce the
very same event (same id, subject and `after`), and consumers dedupe on the id. The digest is
there because `updated_at` has one-second resolution: two edits within one second are two
versions, and the second must not be dropped as a duplicate of the first.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from adapters.crm_bridge.ports import CrmModel
from schemas.crm import (
    CrmCompany,
    CrmCompanyChanged,
    CrmCompanyChangedData,
    CrmCompanyDeleted,
    CrmCompanyDeletedData,
    CrmDeal,
    CrmDealChanged,
    CrmDealChangedData,
    CrmDealDeleted,
    CrmDealDeletedData,
    CrmPerson,
    CrmPersonChanged,
    CrmPersonChangedData,
    CrmPersonDeleted,
    CrmPersonDeletedData,
)
from schemas.envelope import Envelope

# Typed as Any: each concrete class pins its own `type`, which mypy cannot see through a mapping.
_CHANGED: dict[str, tuple[Any, Any, Any]] = {
    "person": (CrmPersonChanged, CrmPersonChangedData, CrmPerson),
    "company": (CrmCompanyChanged, CrmCompanyChangedData, CrmCompany),
    "deal": (CrmDealChanged, CrmDealChangedData, CrmDeal),
}
_DELETED: dict[str, tuple[Any, Any]] = {
    "person": (CrmPersonDeleted, CrmPersonDeletedData),
    "company": (CrmCompanyDeleted, CrmCompanyDeletedData),
    "deal": (CrmDealDeleted, CrmDealDeletedData),
}
DetectedBy = Literal["webhook", "poll_sweep", "publisher"]


def source(tenant: str) -> str:
    return f"/pipelinecrm/tenants/{tenant}"


def _digest(record: Any) -> str:
    """12 hex chars of SHA-256 over the record's canonical JSON (key order does not matter)."""
    canonical = json.dumps(record.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def changed_event(tenant: str, model: CrmModel, record: dict[str, Any]) -> Envelope:
    event_cls, data_cls, record_cls = _CHANGED[model]
    after = record_cls.model_validate(record)
    if after.updated_at is None:
        raise ValueError(f"CRM {model} {after.id} has no updated_at")
    op = "created" if after.created_at == after.updated_at else "updated"
    event: Envelope = event_cls(
        id=f"crm:{tenant}:{model}:{after.id}:{after.updated_at.isoformat()}:{_digest(after)}",
        source=source(tenant),
        subject=f"crm/{model}/{after.id}",
        time=after.updated_at,
        tenant=tenant,
        data=data_cls(op=op, after=after, updated_at=after.updated_at),
    )
    return event


def deleted_event(
    tenant: str, model: CrmModel, record_id: int, seen_at: datetime, detected_by: DetectedBy
) -> Envelope:
    event_cls, data_cls = _DELETED[model]
    event: Envelope = event_cls(
        id=f"crm:{tenant}:{model}:{record_id}:deleted",
        source=source(tenant),
        subject=f"crm/{model}/{record_id}",
        time=seen_at,
        tenant=tenant,
        data=data_cls(id=record_id, deleted_at=seen_at, detected_by=detected_by),
    )
    return event
