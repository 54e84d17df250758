"""A change to an entity, as the store reports it to webhooks (and as CDC reads it back)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

EntityName = Literal["Customer", "Invoice", "Estimate", "Item"]
# QBO's webhook operation names (legacy `operation` field).
Operation = Literal["Create", "Update", "Delete", "Void", "Emailed", "Merge"]


@dataclass(frozen=True)
class EntityChange:
    realm_id: str
    entity: EntityName
    entity_id: str
    operation: Operation
    last_updated: datetime
    # For Merge: the id of the record that was merged away (QBO's `deletedId`).
    deleted_id: str | None = None
