"""Intuit webhook payloads, legacy and CloudEvents, read into one `Notification` shape.

Payloads carry ids only; the bridge fetches the entities afterwards (reference/qbo-api.md §6).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

SyncedEntity = Literal["Customer", "Invoice", "Estimate", "Item"]
SYNCED_ENTITIES: frozenset[str] = frozenset({"Customer", "Invoice", "Estimate", "Item"})
Operation = Literal["Create", "Update", "Delete", "Merge", "Void", "Emailed"]

# CloudEvents `type` verbs → the legacy operation names.
_CLOUDEVENT_VERBS: dict[str, Operation] = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "merged": "Merge",
    "voided": "Void",
    "emailed": "Emailed",
}
_CLOUDEVENT_TYPE = re.compile(r"^qbo\.(?P<entity>[a-z]+)\.(?P<verb>[a-z]+)\.v\d+$")


class PayloadError(ValueError):
    """A signed payload we cannot read."""


@dataclass(frozen=True)
class Notification:
    realm_id: str
    entity: SyncedEntity
    entity_id: str
    operation: Operation
    occurred_at: datetime
    deleted_id: str | None
    dedupe_key: str


@dataclass(frozen=True)
class ParsedPayload:
    notifications: tuple[Notification, ...]
    ignored: int  # entities we do not sync (Vendor, Payment, ...)


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class _LegacyEntity(_Lenient):
    name: str
    id: str
    operation: str
    lastUpdated: AwareDatetime
    deletedId: str | None = None


class _LegacyChange(_Lenient):
    entities: list[_LegacyEntity] = Field(default_factory=list)


class _LegacyNotification(_Lenient):
    realmId: str
    dataChangeEvent: _LegacyChange


class _LegacyPayload(_Lenient):
    eventNotifications: list[_LegacyNotification]


class _CloudEvent(_Lenient):
    specversion: str
    id: str
    type: str
    time: AwareDatetime
    intuitentityid: str
    intuitaccountid: str
    data: dict[str, Any] | None = None


def _from_legacy(payload: _LegacyPayload) -> ParsedPayload:
    found: list[Notification] = []
    ignored = 0
    for notification in payload.eventNotifications:
        for entity in notification.dataChangeEvent.entities:
            if entity.name not in SYNCED_ENTITIES or entity.operation not in _OPERATIONS:
                ignored += 1
                continue
            key = ":".join(
                (
                    notification.realmId,
                    entity.name,
                    entity.id,
                    entity.operation,
                    entity.lastUpdated.isoformat(),
                )
            )
            found.append(
                Notification(
                    notification.realmId,
                    entity.name,  # type: ignore[arg-type]
                    entity.id,
                    entity.operation,  # type: ignore[arg-type]
                    entity.lastUpdated,
                    entity.deletedId,
                    key,
                )
            )
    return ParsedPayload(tuple(found), ignored)


_OPERATIONS: frozenset[str] = frozenset(_CLOUDEVENT_VERBS.values())


def _from_cloudevents(events: list[_CloudEvent]) -> ParsedPayload:
    found: list[Notification] = []
    ignored = 0
    for event in events:
        match = _CLOUDEVENT_TYPE.match(event.type)
        entity = match["entity"].capitalize() if match else ""
        operation = _CLOUDEVENT_VERBS.get(match["verb"]) if match else None
        if entity not in SYNCED_ENTITIES or operation is None:
            ignored += 1
            continue
        deleted = (event.data or {}).get("deletedid") or (event.data or {}).get("deletedId")
        found.append(
            Notification(
                event.intuitaccountid,
                entity,  # type: ignore[arg-type]
                event.intuitentityid,
                operation,
                event.time,
                str(deleted) if deleted else None,
                event.id,
            )
        )
    return ParsedPayload(tuple(found), ignored)


def parse(body: bytes) -> ParsedPayload:
    """Either format; raises PayloadError naming what is wrong."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"not JSON: {exc}") from exc
    try:
        if isinstance(document, list):
            return _from_cloudevents([_CloudEvent.model_validate(e) for e in document])
        return _from_legacy(_LegacyPayload.model_validate(document))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PayloadError(f"{where}: {first['msg']}") from exc
